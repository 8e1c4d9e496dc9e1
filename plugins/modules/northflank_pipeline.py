#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_pipeline
short_description: Create or update a Northflank pipeline and the members of its stages
version_added: 1.0.0
description:
  - Ensures a Northflank pipeline (pipelines v1) exists in a project, with the given deployment services, jobs and
    addons in its V(development), V(staging) and V(production) stages.
  - The Northflank REST API cannot create a pipeline or change its stages. The module therefore keeps a template holding
    one C(Pipeline) node (one template per pipeline, see O(template_name)), creates or updates that template, runs it,
    waits for the run to end and reads the pipeline back to check that it holds what the task asks for.
  - The pipeline is read first (one request); when it already holds the requested members in their stages, nothing is
    written.
  - Release flows are not part of the template; set them with M(herokumigrate.northflank.northflank_release_flow).
  - The assumptions this relies on (the shape of the C(Pipeline) node, what a re-run of the template does) are listed
    with their evidence in C(docs/northflank-spec-assumptions.md).
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.northflank_progress
  - herokumigrate.northflank.northflank_resource
options:
  project:
    description:
      - ID of the project holding the pipeline and its members.
    type: str
    required: true
  name:
    description:
      - Name of the pipeline, 3 to 39 letters, digits and single hyphens or spaces, starting with a letter.
      - Its ID is the name in lower case with spaces turned into hyphens.
    type: str
    required: true
  description:
    description:
      - Description of the pipeline, at most 200 characters.
    type: str
  stages:
    description:
      - Members of each stage. A stage that is not given is neither compared nor written.
      - Only deployment services and jobs that deploy from a build service or an image, and addons, can join a pipeline;
        build services and combined services cannot, and a resource can belong to one pipeline only. Northflank refuses
        anything else when the template runs, and the module fails with its words.
    type: dict
    suboptions:
      development:
        description: Members of the development stage.
        type: dict
        suboptions:
          services:
            description: IDs of deployment services.
            type: list
            elements: str
            default: []
          jobs:
            description: IDs of jobs.
            type: list
            elements: str
            default: []
          addons:
            description: IDs of addons.
            type: list
            elements: str
            default: []
      staging:
        description: Members of the staging stage.
        type: dict
        suboptions:
          services:
            description: IDs of deployment services.
            type: list
            elements: str
            default: []
          jobs:
            description: IDs of jobs.
            type: list
            elements: str
            default: []
          addons:
            description: IDs of addons.
            type: list
            elements: str
            default: []
      production:
        description: Members of the production stage.
        type: dict
        suboptions:
          services:
            description: IDs of deployment services.
            type: list
            elements: str
            default: []
          jobs:
            description: IDs of jobs.
            type: list
            elements: str
            default: []
          addons:
            description: IDs of addons.
            type: list
            elements: str
            default: []
  purge_members:
    description:
      - With V(false), members found in a given stage but not listed in the task are kept, and listed in
        RV(unmanaged_members).
      - With V(true), a given stage must hold exactly the members listed; others are removed by writing the stage
        without them. Northflank does not document whether a template run removes members; if the pipeline still holds
        them after the run, the module fails rather than report success.
    type: bool
    default: false
  template_name:
    description:
      - Name of the Northflank template that holds the pipeline's C(Pipeline) node, 3 to 100 letters, digits and single
        hyphens or spaces. Templates belong to the team, not to a project.
      - Defaults to V(<project>-<pipeline ID>-pipeline).
      - An existing template of that name that does not hold this pipeline is never overwritten; the module fails
        instead.
    type: str
  wait_timeout:
    description:
      - Seconds to wait for the template run to end.
    type: int
    default: 600
  poll_interval:
    description:
      - Longest pause, in seconds, between two reads of the template run. The first reads come sooner (2 s, then
        doubling).
      - Each read costs one request of the hourly budget (1000 per token by default); keep it at 10 or more outside
        tests.
    type: float
    default: 10
notes:
  - O(state=absent) deletes the template the module keeps, never the pipeline. The Northflank API has no call that
    deletes a pipeline; delete it in the Northflank UI, or delete its project. The module warns when the pipeline
    remains.
  - In check mode nothing is written and RV(pipeline) is the state the task asks for.
"""

EXAMPLES = r"""
- name: The Northflank pipeline of the Heroku pipeline acme
  herokumigrate.northflank.northflank_pipeline:
    project: acme
    name: acme
    description: Heroku pipeline acme
    stages:
      development:
        services: [acme-dev-web, acme-dev-worker]
      staging:
        services: [acme-stg-web, acme-stg-worker]
        jobs: [acme-stg-release]
      production:
        services: [acme-prd-web, acme-prd-worker]
        jobs: [acme-prd-release]

- name: Production holds exactly these members
  herokumigrate.northflank.northflank_pipeline:
    project: acme
    name: acme
    stages:
      production:
        services: [acme-prd-web]
    purge_members: true

- name: Forget the template (the pipeline itself stays; the API cannot delete it)
  herokumigrate.northflank.northflank_pipeline:
    project: acme
    name: acme
    state: absent
"""

RETURN = r"""
pipeline:
  description:
    - The pipeline as Northflank returns it after the run (C(GET /v1/projects/{project}/pipelines/{pipeline})); in check
      mode, the state the task asks for.
  returned: when O(state=present)
  type: dict
  sample:
    name: acme
    nfObjects:
      - {id: acme-dev-web, type: service, stage: Development}
members:
  description: The members of each stage after the task, by stage and kind (in check mode, as they would be).
  returned: when O(state=present)
  type: dict
  sample:
    development: {services: [acme-dev-web], jobs: [], addons: []}
    staging: {services: [], jobs: [], addons: []}
    production: {services: [], jobs: [], addons: []}
unmanaged_members:
  description: Members of the given stages that the task does not list (kept because O(purge_members=false)).
  returned: when O(state=present) and O(purge_members=false)
  type: list
  elements: dict
  sample: [{id: acme-dev-admin, type: service, stage: development}]
template:
  description: The template that holds the pipeline's C(Pipeline) node.
  returned: always
  type: dict
  sample: {id: acme-acme-pipeline, name: acme-acme-pipeline}
template_run:
  description: The template run the task started and waited for, with the nodes that failed.
  returned: when a template run was started
  type: dict
  sample: {id: 3dd592f6-ce63-45ee-acf8-13dc5ec5235c, status: success, failed_nodes: []}
pipeline_remains:
  description: With O(state=absent), whether the pipeline still exists (the API cannot delete it).
  returned: when O(state=absent)
  type: bool
changed_paths:
  description: The compared fields that differed, as dotted paths.
  returned: when changed and the pipeline existed
  type: list
  elements: str
  sample: [stages.development.services]
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
  sample: {"GET /v1/projects/{project}/pipelines/{pipeline}": 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_module import progress_spec
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import (
    GROUP_NAME, NorthflankResource, check_name, derive_id, differences)
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_specs import (
    MEMBER_KINDS, STAGES, failure_summary, member_stage, pipeline_members, pipeline_template, run_concluded,
    run_failed_nodes, template_manages)

PIPELINE = "/v1/projects/{project}/pipelines/{pipeline}"
TEMPLATES = "/v1/templates"
TEMPLATE = TEMPLATES + "/{template}"
TEMPLATE_RUNS = TEMPLATE + "/runs"
TEMPLATE_RUN = TEMPLATE_RUNS + "/{run}"
ASSUMPTIONS = "docs/northflank-spec-assumptions.md"
PLURALS = [plural for plural, _singular in MEMBER_KINDS]


class Pipeline(NorthflankResource):
    kind = "pipeline"
    result_key = "pipeline"

    def __init__(self, module):
        super(Pipeline, self).__init__(module)
        self.extra = {"template": {"id": self.template_id, "name": self.template_name}}
        self.current = None

    # -- names --------------------------------------------------------------------------
    @property
    def pipeline_id(self):
        return derive_id(self.params["name"])

    @property
    def template_name(self):
        return self.params["template_name"] or "%s-%s-pipeline" % (self.params["project"], self.pipeline_id)

    @property
    def template_id(self):
        return derive_id(self.template_name)

    def validate(self):
        # The GET and template-node name rules disagree (create-template and get-pipeline API pages;
        # docs/assumptions.md A10): use their intersection.
        error = check_name(self.params["name"], "pipeline", max_len=39)
        if error:
            return error
        error = check_name(self.template_name, "template", pattern=GROUP_NAME, max_len=100)
        if error:
            return error + " (set template_name)"
        seen = {}
        for stage, members in self.stage_params().items():
            for plural in PLURALS:
                for member in members[plural]:
                    if (plural, member) in seen and seen[(plural, member)] != stage:
                        return "%s %r is listed in two stages (%s and %s): a resource can be in one stage only" % (
                            plural[:-1], member, seen[(plural, member)], stage)
                    seen[(plural, member)] = stage
        return None

    def stage_params(self):
        """The stages the task sets: ``{stage: {"services", "jobs", "addons"}}`` with sorted, unique IDs."""
        stages = self.params["stages"] or {}
        return dict((stage, dict((plural, sorted(set(stages[stage].get(plural) or []))) for plural in PLURALS))
                    for stage in STAGES if stages.get(stage) is not None)

    # -- the cycle ----------------------------------------------------------------------
    def fetch(self):
        return self.client.get_or_none(PIPELINE, project=self.params["project"], pipeline=self.pipeline_id)

    def read(self):
        self.current = self.fetch()
        return self.current

    def desired(self):
        return dict(name=self.params["name"], description=self.params["description"], stages=self.stage_params())

    def view(self, current):
        """The pipeline in the shape of ``desired()``. Without purge_members, a stage shows only the
        members the task lists that it holds, so that members added elsewhere are not a difference."""
        have = pipeline_members(current)
        stages = {}
        for stage, wanted in self.stage_params().items():
            stages[stage] = {}
            for plural in PLURALS:
                found = have[stage][plural]
                stages[stage][plural] = found if self.params["purge_members"] else [m for m in found
                                                                                    if m in wanted[plural]]
        return dict(name=current.get("name"), description=current.get("description"), stages=stages)

    def unmanaged(self, current):
        have = pipeline_members(current)
        wanted = self.stage_params()
        return [dict(id=member, type=singular, stage=stage)
                for stage in wanted for plural, singular in MEMBER_KINDS
                for member in have[stage][plural] if member not in wanted[stage][plural]]

    def write_stages(self, current):
        """The stages to write: those the task sets; without purge_members, plus the members each of
        them holds now that the task lists nowhere, so that a write never drops them."""
        stages = self.stage_params()
        if current is None or self.params["purge_members"]:
            return stages
        listed = set((plural, m) for members in stages.values() for plural in PLURALS for m in members[plural])
        singular_to_plural = dict((s, p) for p, s in MEMBER_KINDS)
        for (singular, member), stage in sorted(member_stage(pipeline_members(current)).items()):
            plural = singular_to_plural[singular]
            if stage in stages and (plural, member) not in listed:
                stages[stage][plural] = sorted(stages[stage][plural] + [member])
        return stages

    def create(self, body):
        return self.apply(body, None)

    def update(self, body, changes, current):
        return self.apply(body, current)

    def find_template(self):
        """The template named ``template_name``: by the ID derived from the name, else by listing the
        team's templates (the derivation is documented by one example only: assumption A6)."""
        template = self.client.get_or_none(TEMPLATE, template=self.template_id)
        if template is None:
            for item in self.client.list(TEMPLATES, "templates"):
                if item.get("name") == self.template_name and item.get("id"):
                    template = self.client.get(TEMPLATE, template=item["id"])
                    break
        if template is not None:
            self.extra["template"]["id"] = template.get("id") or self.template_id
        return template

    def apply(self, body, current):
        """Create or update the template, run it, wait for the run, and check what it did."""
        params = self.params
        stages = self.write_stages(current)
        description = "Managed by Ansible herokumigrate.northflank: pipeline %s of project %s" % (self.pipeline_id,
                                                                                                  params["project"])
        template = self.find_template()
        if template is not None and not template_manages(template, params["name"]):
            self.fail("template %r exists and does not hold pipeline %r: it is not overwritten; set template_name"
                      % (self.extra["template"]["id"], params["name"]), template=self.extra["template"])
        if template is None:
            created = self.client.post(TEMPLATES,
                                       pipeline_template(self.template_name, params["name"], params["project"], stages,
                                                         description=params["description"],
                                                         template_description=description, create=True)) or {}
            self.extra["template"]["id"] = (created.get("template") or {}).get("id") or self.template_id
            # runOnCreation answers with the run; if it does not, start one (assumption A6).
            run = created.get("templateRun") or self.client.post(TEMPLATE_RUNS, {},
                                                                 template=self.extra["template"]["id"])
        else:
            in_flight = self.run_in_flight()
            if in_flight is not None:
                # Started by an earlier task, or by the slice of this task before (progress_interval), and not over:
                # wait for it rather than start a second run; start one only if it left the pipeline short.
                self.finish_run(in_flight)
                pipeline = self.fetch()
                if pipeline is not None and not differences(body, self.view(pipeline)):
                    return pipeline
            update = pipeline_template(self.template_name, params["name"], params["project"], stages,
                                       description=params["description"], template_description=description,
                                       create=False)
            if differences(update["spec"], template.get("spec")) or template.get("description") != description:
                self.client.post(TEMPLATE, update, template=self.extra["template"]["id"])
            run = self.client.post(TEMPLATE_RUNS, {}, template=self.extra["template"]["id"])
        self.finish_run(run or {})
        pipeline = self.fetch()
        # Check what the run did: the Pipeline node's semantics are assumed, not documented (A1-A3).
        context = dict(template=self.extra["template"], template_run=self.extra.get("template_run"))
        run_of = "the template run of %r succeeded but pipeline %r" % (self.extra["template"]["id"], self.pipeline_id)
        if pipeline is None:
            self.fail("%s does not exist in project %r: Northflank did not apply the Pipeline node as assumed (see %s, "
                      "A1)" % (run_of, params["project"], ASSUMPTIONS), **context)
        left = differences(body, self.view(pipeline))
        if left:
            self.fail("%s still differs in %s: Northflank did not apply the Pipeline node as assumed (see %s, A2 and "
                      "A3)" % (run_of, ", ".join(left), ASSUMPTIONS), pipeline=pipeline, **context)
        return pipeline

    def run_in_flight(self):
        """The latest run of the template that is not over, or None."""
        runs = self.client.list(TEMPLATE_RUNS, "templateRuns", template=self.extra["template"]["id"])
        going = [r for r in runs if r.get("id") and not run_concluded(r)]
        return max(going, key=lambda r: (r.get("createdAt") or r.get("startedAt") or "", r["id"])) if going else None

    def wait(self, resource):
        """The slice after one cut short by progress_interval waits for the template run that slice started."""
        run_id = self.resume.get("template_run")
        if run_id and "template_run" not in self.extra:
            self.extra["template"]["id"] = self.resume.get("template") or self.extra["template"]["id"]
            self.finish_run(dict(id=run_id))
            return self.fetch() or resource
        return resource

    def finish_run(self, run):
        template_id = self.extra["template"]["id"]
        if run.get("id") and not run_concluded(run):
            run = self.poll(lambda: self.client.get(TEMPLATE_RUN, template=template_id, run=run["id"]),
                            done=run_concluded, what="template run", timeout=self.params["wait_timeout"],
                            interval=self.params["poll_interval"], describe=lambda r: "status %s" % r.get("status"),
                            resume=dict(template=template_id, template_run=run["id"]))
        failed = run_failed_nodes(run)
        self.extra["template_run"] = dict(id=run.get("id"), status=run.get("status"), failed_nodes=failed)
        if run.get("status") != "success":
            reasons = failure_summary(failed)
            self.fail("template run %s of %r ended with status %r: %s"
                      % (run.get("id"), template_id, run.get("status"), reasons), template=self.extra["template"],
                      template_run=self.extra["template_run"])

    def absent(self):
        """Delete the template; the pipeline cannot be deleted through the API (the API has no pipeline DELETE;
        docs/assumptions.md A12)."""
        check = self.module.check_mode
        result = dict(changed=False)
        template = self.find_template()
        template_id = self.extra["template"]["id"]
        if template is not None:
            if template_manages(template, self.params["name"]):
                if not check:
                    self.client.delete(TEMPLATE, template=template_id)
                result.update(changed=True, diff=dict(before=dict(template=template_id), after={}))
            else:
                self.module.warn("template %r does not hold pipeline %r and was left alone"
                                 % (template_id, self.params["name"]))
        remains = self.fetch() is not None
        if remains:
            self.module.warn("pipeline %r of project %r remains: the Northflank API cannot delete a pipeline. Delete "
                             "it in the Northflank UI, or delete the project."
                             % (self.pipeline_id, self.params["project"]))
        result["pipeline_remains"] = remains
        return result

    def _run(self):
        if self.params["state"] == "absent":
            result = self.absent()
        else:
            result = super(Pipeline, self)._run()
            if self.module.check_mode and result.get("changed"):
                # Nothing was written: show the members the write would leave.
                source = self.current
                result["members"] = pipeline_members(source)
                result["members"].update(self.write_stages(source))
            else:
                source = result.get("pipeline")
                result["members"] = pipeline_members(source)
            if not self.params["purge_members"]:
                result["unmanaged_members"] = self.unmanaged(source) if source else []
        result.update(self.extra)
        return result


def main():
    members = dict(
        services=dict(type="list", elements="str", default=[]),
        jobs=dict(type="list", elements="str", default=[]),
        addons=dict(type="list", elements="str", default=[]),
    )
    module = AnsibleModule(
        argument_spec=Pipeline.spec(
            **progress_spec(),
            project=dict(type="str", required=True),
            name=dict(type="str", required=True),
            description=dict(type="str"),
            stages=dict(type="dict", options=dict(
                development=dict(type="dict", options=members),
                staging=dict(type="dict", options=members),
                production=dict(type="dict", options=members),
            )),
            purge_members=dict(type="bool", default=False),
            template_name=dict(type="str"),
            wait_timeout=dict(type="int", default=600),
            poll_interval=dict(type="float", default=10),
        ),
        supports_check_mode=True,
    )
    Pipeline(module).run()


if __name__ == "__main__":
    main()

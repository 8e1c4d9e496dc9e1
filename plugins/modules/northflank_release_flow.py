#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_release_flow
short_description: Set the release flow of a Northflank pipeline stage, and optionally run it
version_added: 1.0.0
description:
  - Sets the release flow of one stage of a Northflank pipeline (C(POST
    /v1/projects/{project}/pipelines/{pipeline}/release-flows/{stage})).
  - The flow is read first and compared with what the task asks for; when nothing differs nothing is written.
  - Two modes express the Heroku mapping. V(build) deploys the latest build of a branch from a build service to the
    stage's services and jobs (a Heroku development stage that deploys on push). V(promote) promotes each target from
    its counterpart in the stage before (Heroku's "promote" from development to staging, staging to production).
  - Either mode can run a Heroku release phase first. The release-phase job gets the same code and must succeed before
    any target is released.
  - O(spec) takes any release-flow spec instead, for what the two modes do not cover.
  - The spec shapes this module writes are listed with their evidence in C(docs/northflank-spec-assumptions.md).
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.northflank_progress
  - herokumigrate.northflank.northflank_resource
options:
  project:
    description:
      - ID of the project holding the pipeline.
    type: str
    required: true
  pipeline:
    description:
      - ID of the pipeline. Create it with M(herokumigrate.northflank.northflank_pipeline).
    type: str
    required: true
  stage:
    description:
      - The stage whose release flow is set.
    type: str
    required: true
    choices: [development, staging, production]
  mode:
    description:
      - V(build) deploys a build of O(branch) from O(build_service) to each target.
      - V(promote) promotes each target from its O(targets[].origin) in the stage before. Not for the development stage.
      - Required with O(state=present) unless O(spec) is set.
    type: str
    choices: [build, promote]
  build_service:
    description:
      - ID of the build service whose builds are deployed. Required with O(mode=build).
    type: str
  branch:
    description:
      - Branch whose build is deployed. Required with O(mode=build).
    type: str
  build:
    description:
      - Which build of O(branch) to deploy with O(mode=build), V(latest) or a build ID.
    type: str
    default: latest
  targets:
    description:
      - The services and jobs of this stage that the flow releases to, in order. Required with a O(mode).
      - They must be members of this stage of the pipeline.
    type: list
    elements: dict
    suboptions:
      id:
        description: ID of the deployment service or job.
        type: str
        required: true
      type:
        description: Kind of the target.
        type: str
        choices: [service, job]
        default: service
      origin:
        description:
          - With O(mode=promote), ID of the service or job of the stage before whose deployment is promoted to this
            target.
        type: str
      build_service:
        description:
          - With O(mode=build), ID of the build service whose build this target gets, instead of O(build_service).
          - For a stage with several apps, each deploying its own build.
        type: str
      branch:
        description:
          - With O(mode=build), the branch of this target's build, instead of O(branch).
        type: str
  release_phase:
    description:
      - A Heroku release phase, run before any target is released; or a list of them, one per app of the stage, run one
        after the other.
      - The flow releases the new code to the release phase's C(job) and waits until it is running, then runs the job
        and waits for it to succeed. A failing job stops the flow, like a failing Heroku release phase stops the
        release.
      - "Each release phase is a dictionary: C(job) (required), ID of the job of this stage that runs it, a member of
        the stage; C(origin) (required with O(mode=promote)), ID of the release-phase job of the stage before;
        C(build_service) and C(branch) (with O(mode=build)), the build this job gets, instead of O(build_service) and
        O(branch)."
    type: raw
  spec:
    description:
      - A release-flow spec (the root C(Workflow) node), written as given. Use instead of O(mode) for flows the modes
        cannot express, for example with addon backups or approvals.
    type: dict
  triggers:
    description:
      - Git triggers of the flow, in the API's shape (C(vcsService), C(repoUrl), C(branchRestrictions)...). Not compared
        when unset.
    type: list
    elements: dict
  arguments:
    description:
      - Arguments of the flow, usable in its spec as C(${args.NAME}). Not compared when unset.
    type: dict
  concurrency_policy:
    description:
      - What happens when the flow is triggered while a run is going on. Not compared when unset.
    type: str
    choices: [allow, queue, forbid, latest, replace]
  paused:
    description:
      - Whether git triggers are paused. Not compared when unset.
    type: bool
  run:
    description:
      - Start a run of the flow after setting it. A run deploys, so it is not idempotent by nature.
      - Without O(run_name), every task with O(run=true) starts a new run, whether or not the flow changed.
      - With O(run_name), the run is started only if the stage has no run of that name yet, so a re-run of the play
        does not release twice.
      - In check mode no run is started; the task reports the run it would start.
    type: bool
    default: false
  run_name:
    description:
      - Name of the run, 3 to 39 letters, digits and single hyphens or spaces, starting with a letter. Makes O(run) run
        once.
    type: str
  wait:
    description:
      - With O(run=true), wait for the run to end and fail if it does not succeed.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the run with O(wait=true).
    type: int
    default: 1800
  poll_interval:
    description:
      - Longest pause, in seconds, between two reads of the run. The first reads come sooner (2 s, then doubling).
      - Each read costs one request of the hourly budget (1000 per token by default); keep it at 10 or more outside
        tests.
    type: float
    default: 10
notes:
  - Northflank has no call that deletes a release flow. O(state=absent) sets an empty flow (no steps) instead, and
    changes nothing when the flow is already empty or has never been set.
"""

EXAMPLES = r"""
- name: Development deploys the latest build of main, after the release phase
  herokumigrate.northflank.northflank_release_flow:
    project: acme
    pipeline: acme
    stage: development
    mode: build
    build_service: acme-builder
    branch: main
    release_phase:
      job: acme-dev-release
    targets:
      - id: acme-dev-web
      - id: acme-dev-worker

- name: Staging promotes from development
  herokumigrate.northflank.northflank_release_flow:
    project: acme
    pipeline: acme
    stage: staging
    mode: promote
    targets:
      - id: acme-stg-web
        origin: acme-dev-web
      - id: acme-stg-worker
        origin: acme-dev-worker

- name: Release to production once per migration
  herokumigrate.northflank.northflank_release_flow:
    project: acme
    pipeline: acme
    stage: production
    mode: promote
    targets:
      - id: acme-prd-web
        origin: acme-stg-web
    run: true
    run_name: migration-1
    wait: true

- name: A raw spec, with a backup before the promotion
  herokumigrate.northflank.northflank_release_flow:
    project: acme
    pipeline: acme
    stage: production
    spec:
      kind: Workflow
      spec:
        type: sequential
        steps:
          - kind: AddonBackup
            spec: {addonId: acme-db, backupType: snapshot}
            condition: success
          - kind: Release
            spec:
              type: deployment
              origin: {id: acme-stg-web, type: service}
              target: {id: acme-prd-web, type: service}
"""

RETURN = r"""
release_flow:
  description:
    - The release flow as Northflank returns it (C(GET …/release-flows/{stage})); in check mode, the flow the task would
      write.
  returned: when O(state=present)
  type: dict
  sample:
    apiVersion: v1.2
    stage: Development
    status: success
    paused: false
    spec:
      kind: Workflow
      spec:
        type: sequential
        steps:
          - kind: Release
            spec:
              type: build
              origin: {id: acme-builder, branch: main, build: latest}
              target: {id: acme-dev-web, type: service}
run:
  description:
    - The run of the flow. C(started) tells whether this task started it (in check mode, whether it would).
    - With O(run_name), an earlier run of that name is returned with C(started=false).
  returned: when O(run=true)
  type: dict
  sample: {started: true, id: 9d1c4e0a, name: migration-1, status: success}
changed_paths:
  description: The compared fields that differed, as dotted paths.
  returned: when changed and a flow existed
  type: list
  elements: str
  sample: [spec.spec.steps]
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
  sample: {"GET /v1/projects/{project}/pipelines/{pipeline}/release-flows/{stage}": 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_module import progress_spec
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import (
    NorthflankResource, check_name, pick)
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_specs import (
    PREVIOUS_STAGE,
    STAGES,
    build_release_flow,
    empty_release_flow,
    failure_summary,
    promote_release_flow,
    release_flow_body,
    release_flow_steps,
    release_phases,
    release_flow_view,
    run_concluded,
    run_failed_nodes,
    stage_key,
)

PIPELINE = "/v1/projects/{project}/pipelines/{pipeline}"
FLOW = PIPELINE + "/release-flows/{stage}"
RUNS = FLOW + "/runs"
RUN = RUNS + "/{run}"


RELEASE_PHASE_KEYS = ("job", "origin", "build_service", "branch")


def check_release_phase(value):
    """``release_phase`` is a dict or a list of dicts with a string ``job`` and only the known keys: else the error."""
    if value in (None, "", []):
        return None
    for phase in release_phases(value):
        if not isinstance(phase, dict) or not isinstance(phase.get("job"), str) or not phase["job"]:
            return (
                "release_phase must be a dictionary with job (the release-phase job's ID), or a list of them; got a %s"
                % type(phase).__name__
            )
        unknown = sorted(set(phase) - set(RELEASE_PHASE_KEYS))
        if unknown:
            return "release_phase: unknown keys %s (known: %s)" % (", ".join(unknown), ", ".join(RELEASE_PHASE_KEYS))
        bad = [k for k in RELEASE_PHASE_KEYS if phase.get(k) is not None and not isinstance(phase[k], str)]
        if bad:
            return "release_phase: %s must be strings" % ", ".join(bad)
    return None


class ReleaseFlow(NorthflankResource):
    kind = "release flow"
    result_key = "release_flow"

    @property
    def route(self):
        # Lower case on the path (the release-flow API examples; assumption A5 of docs/assumptions.md).
        return dict(
            project=self.params["project"], pipeline=self.params["pipeline"], stage=stage_key(self.params["stage"])
        )

    def validate(self):
        params = self.params
        error = check_release_phase(params["release_phase"])
        if error:
            return error
        if params["state"] == "present" and not (params["mode"] or params["spec"]):
            return "set mode (build or promote) or spec"
        if params["mode"] == "promote":
            if params["stage"] not in PREVIOUS_STAGE:
                return "the %s stage has no stage before it to promote from: use mode=build" % params["stage"]
            missing = [t["id"] for t in params["targets"] if not t.get("origin")]
            if missing:
                return "mode=promote needs targets[].origin (the %s service or job to promote from) for %s" % (
                    PREVIOUS_STAGE[params["stage"]],
                    ", ".join(missing),
                )
            if [r for r in release_phases(params["release_phase"]) if not r.get("origin")]:
                return (
                    "mode=promote needs release_phase.origin (the release-phase job of the %s stage)"
                    % PREVIOUS_STAGE[params["stage"]]
                )
        if params["mode"] and not params["targets"]:
            return "mode=%s needs at least one target" % params["mode"]
        if params["run_name"]:
            return check_name(params["run_name"], "release flow run", max_len=39)
        return None

    # -- the cycle ----------------------------------------------------------------------
    def read(self):
        flow = self.client.get_or_none(FLOW, **self.route)
        if (
            flow is None
            and self.client.get_or_none(PIPELINE, project=self.params["project"], pipeline=self.params["pipeline"])
            is None
        ):
            if self.module.check_mode:
                # A plan: the pipeline would be created by an earlier task of the same run.
                self.module.warn(
                    "pipeline %r does not exist yet; the release flow would be created with it"
                    % self.params["pipeline"]
                )
                return None
            self.fail(
                "pipeline %r does not exist in project %r: create it with "
                "herokumigrate.northflank.northflank_pipeline first" % (self.params["pipeline"], self.params["project"])
            )
        return flow

    def flow_spec(self):
        params = self.params
        if params["spec"] is not None:
            return params["spec"]
        targets = [dict((k, v) for k, v in t.items() if v is not None) for t in params["targets"]]
        if params["mode"] == "build":
            return build_release_flow(
                params["build_service"],
                params["branch"],
                targets,
                build=params["build"],
                release_phase=params["release_phase"],
            )
        return promote_release_flow(targets, release_phase=params["release_phase"])

    def desired(self):
        params = self.params
        return release_flow_body(
            self.flow_spec(),
            triggers=params["triggers"],
            arguments=params["arguments"],
            concurrency_policy=params["concurrency_policy"],
            paused=params["paused"],
        )

    def view(self, current):
        return release_flow_view(current)

    def write(self, body):
        self.client.post(FLOW, body, **self.route)
        # The answer is undocumented ("200 OK: success" on the update-release-flow API page): read the flow back.
        return self.client.get(FLOW, **self.route)

    def create(self, body):
        return self.write(body)

    def update(self, body, changes, current):
        return self.write(body)

    # -- state absent: no DELETE exists; an empty flow is the closest (assumption A8) -------
    def absent(self):
        current = self.read()
        if current is None or not release_flow_steps(current.get("spec")):
            return dict(changed=False)
        body = release_flow_body(empty_release_flow())
        if not self.module.check_mode:
            self.client.post(FLOW, body, **self.route)
        return dict(changed=True, diff=dict(before=pick(self.view(current), ["spec"]), after=dict(spec=body["spec"])))

    # -- runs -----------------------------------------------------------------------------
    def find_run(self, name):
        for run in self.client.list(RUNS, "runs", **self.route):
            if run.get("name") == name:
                return run
        return None

    def start_run(self):
        params = self.params
        resumed = self.resume.get("run_id")
        if resumed:
            # The slice before this one (progress_interval) started the run: wait for it, start none.
            return self.wait_for(dict(id=resumed, started=True))
        if params["run_name"]:
            earlier = self.find_run(params["run_name"])
            if earlier is not None:
                return dict(earlier, started=False)
        if self.module.check_mode:
            return dict(started=True, name=params["run_name"])
        body = dict(name=params["run_name"]) if params["run_name"] else {}
        answer = self.client.post(RUNS, body, **self.route)
        # The answer is untyped ("200 OK: success"): use its id when it has one, else find the run by name.
        run = answer if isinstance(answer, dict) and answer.get("id") else None
        if run is None and params["run_name"]:
            run = self.find_run(params["run_name"])
        return self.wait_for(dict(run or {}, started=True))

    def wait_for(self, run):
        params = self.params
        if params["wait"]:
            if not run.get("id"):
                self.module.warn(
                    "the run was started but Northflank did not say which it is; set run_name to wait for it"
                )
                return run
            if not run_concluded(run):
                run = dict(
                    self.poll(
                        lambda: self.client.get(RUN, run=run["id"], **self.route),
                        done=run_concluded,
                        what="run",
                        timeout=params["wait_timeout"],
                        interval=params["poll_interval"],
                        describe=lambda r: "status %s" % r.get("status"),
                        resume=dict(run_id=run["id"]),
                    ),
                    started=True,
                )
            if run.get("status") != "success":
                failed = run_failed_nodes(run)
                reasons = failure_summary(failed)
                self.fail(
                    "run %s of the %s release flow ended with status %r: %s"
                    % (run.get("id"), params["stage"], run.get("status"), reasons),
                    run=dict(id=run.get("id"), name=run.get("name"), status=run.get("status"), failed_nodes=failed),
                )
        return run

    def _run(self):
        if self.params["state"] == "absent":
            return self.absent()
        result = super(ReleaseFlow, self)._run()
        if self.params["run"]:
            self.partial = dict(result)  # what a wait cut short by progress_interval returns with the run started
            run = self.start_run()
            keep = ("id", "name", "status", "concluded", "startedAt", "concludedAt", "createdAt", "started")
            result["run"] = dict((k, v) for k, v in run.items() if k in keep)
            if run.get("started"):
                result["changed"] = True
        return result


def main():
    module = AnsibleModule(
        argument_spec=ReleaseFlow.spec(
            **progress_spec(),
            project=dict(type="str", required=True),
            pipeline=dict(type="str", required=True),
            stage=dict(type="str", required=True, choices=list(STAGES)),
            mode=dict(type="str", choices=["build", "promote"]),
            build_service=dict(type="str"),
            branch=dict(type="str"),
            build=dict(type="str", default="latest"),
            targets=dict(
                type="list",
                elements="dict",
                options=dict(
                    id=dict(type="str", required=True),
                    type=dict(type="str", default="service", choices=["service", "job"]),
                    origin=dict(type="str"),
                    build_service=dict(type="str"),
                    branch=dict(type="str"),
                ),
            ),
            release_phase=dict(type="raw"),
            spec=dict(type="dict"),
            triggers=dict(type="list", elements="dict"),
            arguments=dict(type="dict"),
            concurrency_policy=dict(type="str", choices=["allow", "queue", "forbid", "latest", "replace"]),
            paused=dict(type="bool"),
            run=dict(type="bool", default=False),
            run_name=dict(type="str"),
            wait=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=1800),
            poll_interval=dict(type="float", default=10),
        ),
        mutually_exclusive=[("mode", "spec")],
        required_if=[("mode", "build", ("build_service", "branch", "targets")), ("mode", "promote", ("targets",))],
        supports_check_mode=True,
    )
    ReleaseFlow(module).run()


if __name__ == "__main__":
    main()

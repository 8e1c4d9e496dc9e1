# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where the shapes of Northflank's *untyped* specs live.

The official SDK types the template ``spec``, the ``Pipeline`` node and the release-flow ``spec``
as ``Dict[str, Any]``: nothing checks them before Northflank runs them. Everything this collection
assumes about those shapes is built here, by pure functions, each assumption tagged with the
public Northflank page it comes from, and listed with its evidence and fallback in ``docs/assumptions.md``
(``A1``... below refer to its entries). The pages, by the tags used below:

- [create-template]: https://northflank.com/docs/v1/api/team/templates/create-template (the template, node and
  ``Pipeline`` node schemas; the pipeline GET on https://northflank.com/docs/v1/api/project/pipelines/get-pipeline)
- [template-nodes]: https://northflank.com/docs/v1/application/infrastructure-as-code/template-nodes
- [release-flow]: https://northflank.com/docs/v1/application/release/configure-a-release-flow (node kinds, examples)
- [release-flow API]: https://northflank.com/docs/v1/api/project/pipelines/update-release-flow and its get / run twins
- [template runs]: https://northflank.com/docs/v1/api/team/templates/get-template-run
- [API]: https://northflank.com/docs/v1/api/introduction (names and IDs, the endpoint list)

Nothing here sends a request; the modules ``northflank_pipeline`` and ``northflank_release_flow``
do, and ``tests/unit/plugins/module_utils/test_northflank_specs.py`` pins every shape.
"""

from __future__ import annotations

import copy

from ansible_collections.herokumigrate.northflank.plugins.module_utils.rules import STAGES

# [create-template], [release-flow API]: the only apiVersion the template and release-flow schemas accept.
API_VERSION = "v1.2"

# A5: stages are addressed in lower case on the release-flow path ([API], [release-flow API]: the docs' JS/CLI
# examples) and capitalised inside templates and pipeline reads ([create-template] enum, [create-template] GET example).
# The stage a stage promotes from (docs/mapping.md: staging and production promote from the stage before).
PREVIOUS_STAGE = {"staging": "development", "production": "staging"}

# [create-template]: nfObjects[].type is one of service, job, addon. Module options use the plural.
MEMBER_KINDS = (("services", "service"), ("jobs", "job"), ("addons", "addon"))

# [template runs]: run statuses; ``concluded`` is "whether the run has concluded (aborted, success, failed)".
RUN_FINAL_STATUSES = frozenset(("success", "failure", "aborted", "skipped", "unknown"))
NODE_FAILED_STATUSES = frozenset(("failure", "invalid", "aborted"))


# -- stages -------------------------------------------------------------------------------
def stage_label(stage):
    """``development`` -> ``Development``: the form of templates and pipeline reads ([create-template],
    [create-template])."""
    return stage_key(stage).capitalize()


def stage_key(stage):
    """The lower-case form, used on the release-flow path ([release-flow API], A5) and as option keys."""
    key = str(stage).strip().lower()
    if key not in STAGES:
        raise ValueError("unknown pipeline stage %r: use one of %s" % (stage, ", ".join(STAGES)))
    return key


# -- templates ----------------------------------------------------------------------------
def workflow(steps, kind="sequential", project=None):
    """A ``Workflow`` node ([create-template]). ``project`` sets the project context of its steps
    ([create-template] way 1)."""
    spec = {"type": kind, "steps": list(steps)}
    if project:
        spec["context"] = {"projectId": project}
    return {"kind": "Workflow", "spec": spec}


def nf_objects(members):
    """``{"services": [...], "jobs": [...], "addons": [...]}`` -> ``[{"id", "type"}, ...]`` ([create-template]).

    Sorted within each kind so that the same membership always gives the same template spec."""
    out = []
    for plural, singular in MEMBER_KINDS:
        for member_id in sorted(set((members or {}).get(plural) or [])):
            out.append({"id": member_id, "type": singular})
    return out


def pipeline_node(name, project, stages, description=None, ref="pipeline"):
    """The ``Pipeline`` template node ([create-template] schema, [create-template] skeleton; A1).

    ``stages`` maps a stage (any case) to its members ``{"services", "jobs", "addons"}``. Stage
    membership is *nested* (``spec.stages[].nfObjects``), not the flat ``nfObjects[].stage`` of the
    GET response ([create-template]). Only the stages given are written (A3: omitted stages are assumed to be
    left alone). No ``releaseFlow`` is written: release flows are set through the REST endpoint by
    ``northflank_release_flow``, which can compare them (A4). ``projectId`` is set on the node as
    well as on the enclosing workflow: the schema lists it on the Pipeline node ([create-template] way 2)."""
    spec = {"name": name, "projectId": project}
    if description is not None:
        spec["description"] = description
    spec["stages"] = [{"name": stage_label(stage), "nfObjects": nf_objects(stages[stage])}
                      for stage in sorted(stages, key=lambda s: STAGES.index(stage_key(s)))]
    return {"kind": "Pipeline", "ref": ref, "spec": spec}


def template_body(template_name, node, project, description=None, run_on_creation=None, concurrency_policy="queue"):
    """A ``POST /v1/templates`` (or ``POST /v1/templates/{id}``) body holding ``node`` ([create-template],
    [create-template]).

    The root is a sequential Workflow whose ``context.projectId`` is the existing project: a
    literal project ID, as in the create-template example ([create-template] way 3, [template runs]). ``runOnCreation``
    exists only on create (SDK ``CreateTemplateRequestV12Options``); pass None for an update, whose
    options type has no such field. ``autorun`` is off: the template is not a GitOps template and
    must only run when the module runs it. ``concurrencyPolicy: queue`` makes a run started while
    another one is running wait for it rather than fail ([template-nodes])."""
    options = {"autorun": False, "concurrencyPolicy": concurrency_policy}
    if run_on_creation is not None:
        options["runOnCreation"] = bool(run_on_creation)
    body = {"name": template_name, "apiVersion": API_VERSION, "options": options,
            "spec": workflow([node], project=project)}
    if description is not None:
        body["description"] = description
    return body


def pipeline_template(
    template_name, pipeline, project, stages, description=None, template_description=None, create=True
):
    """The whole template that creates or updates one pipeline ([template-nodes]: a re-run "creates or updates")."""
    node = pipeline_node(pipeline, project, stages, description=description)
    return template_body(
        template_name, node, project, description=template_description, run_on_creation=True if create else None
    )


def walk_nodes(spec):
    """Every node (dict) of a template or template-run tree, depth first, workflow steps in order ([create-template]
    nesting)."""
    stack = [spec]
    while stack:
        node = stack.pop(0)
        if isinstance(node, list):
            stack[0:0] = node
            continue
        if not isinstance(node, dict):
            continue
        yield node
        inner = node.get("spec")
        if isinstance(inner, dict):
            stack[0:0] = [inner.get("steps") or []]


def find_nodes(spec, kind):
    """Every node of ``kind`` in a template (or template run) tree, depth first."""
    return [node for node in walk_nodes(spec) if node.get("kind") == kind]


def template_manages(template, pipeline_name):
    """Whether an existing template holds a Pipeline node for ``pipeline_name`` (so it is ours to update)."""
    for node in find_nodes((template or {}).get("spec"), "Pipeline"):
        name = (node.get("spec") or {}).get("name")
        if isinstance(name, str) and name.lower().replace(" ", "-") == pipeline_name.lower().replace(" ", "-"):
            return True
    return False


# -- reading a pipeline back --------------------------------------------------------------
def _empty_members():
    return dict((plural, []) for plural, _singular in MEMBER_KINDS)


def pipeline_members(pipeline):
    """The members of a pipeline per lower-case stage: ``{stage: {"services", "jobs", "addons"}}``.

    The read shape is not the write shape ([create-template], A2): GET returns a flat ``nfObjects[{id, type,
    stage}]`` (typed in the SDK) next to an untyped ``stages[]``. Both are read: the flat list
    first, then any ``stages[]`` entry that looks like the write shape (``{name, nfObjects}``).
    A member found in both is counted once. Unknown stages or types are ignored."""
    out = dict((stage, _empty_members()) for stage in STAGES)
    plural_of = dict((singular, plural) for plural, singular in MEMBER_KINDS)

    def add(stage, obj):
        try:
            key = stage_key(stage)
        except ValueError:
            return
        if not isinstance(obj, dict) or obj.get("type") not in plural_of or not obj.get("id"):
            return
        bucket = out[key][plural_of[obj["type"]]]
        if obj["id"] not in bucket:
            bucket.append(obj["id"])

    for obj in (pipeline or {}).get("nfObjects") or []:
        if isinstance(obj, dict):
            add(obj.get("stage"), obj)
    for stage in (pipeline or {}).get("stages") or []:
        if isinstance(stage, dict):
            for obj in stage.get("nfObjects") or []:
                add(stage.get("name"), obj)
    for members in out.values():
        for plural in members:
            members[plural].sort()
    return out


def member_stage(members):
    """``{(type, id): stage}`` of a ``pipeline_members`` result (a resource is in at most one pipeline stage,
    [template-nodes])."""
    where = {}
    for stage, kinds in members.items():
        for plural, singular in MEMBER_KINDS:
            for member_id in kinds.get(plural) or []:
                where[(singular, member_id)] = stage
    return where


# -- template runs ------------------------------------------------------------------------
def run_concluded(run):
    """Whether a template or release-flow run is over ([template runs]): ``concluded``, or a final status."""
    run = run or {}
    return bool(run.get("concluded")) or run.get("status") in RUN_FINAL_STATUSES


def run_failed_nodes(run):
    """``[{kind, ref, name, status, message}]`` of the nodes of a run whose response failed ([template runs])."""
    failed = []
    for node in walk_nodes((run or {}).get("spec")):
        response = node.get("response") or {}
        error = response.get("error") or {}
        if response.get("status") in NODE_FAILED_STATUSES or error:
            inner = node.get("spec") if isinstance(node.get("spec"), dict) else {}
            # What the node acts on: a resource's name, a Release's target ([release-flow]), a JobRun's job.
            name = inner.get("name") or (inner.get("target") or {}).get("id") or inner.get("jobId")
            failed.append(
                {
                    "kind": node.get("kind"),
                    "ref": node.get("ref"),
                    "name": name,
                    "status": response.get("status"),
                    "message": error.get("message"),
                }
            )
    return failed


def failure_summary(failed):
    """One line naming each failed node (not the workflows that merely failed with it) and its error."""
    parts = []
    for node in failed:
        if node["kind"] == "Workflow" and not node["message"]:
            continue
        what = node["name"] or node["ref"]
        parts.append("%s%s: %s" % (node["kind"], " %s" % what if what else "", node["message"] or node["status"]))
    return "; ".join(parts) or "no node reported an error"


# -- release flows ------------------------------------------------------------------------
def release_node(release_type, origin, target, condition=None):
    """A ``Release`` node ([release-flow]): ``type`` build / deployment / registry, an origin, one target."""
    node = {"kind": "Release", "spec": {"type": release_type, "origin": dict(origin), "target": dict(target)}}
    if condition:
        node["condition"] = condition
    return node


def build_release(build_service, branch, target, build="latest", condition=None):
    """Deploy a build of ``branch`` from ``build_service`` ([release-flow] origin ``{id, branch, build}``;
    [release-flow] first example)."""
    return release_node(
        "build",
        {"id": build_service, "branch": branch, "build": build},
        {"id": target["id"], "type": target.get("type") or "service"},
        condition,
    )


def promote_release(origin, target, condition=None):
    """Promote the deployment of ``origin`` (the previous stage) to ``target`` ([release-flow] origin ``{id, type}``;
    [release-flow] second example)."""
    kind = target.get("type") or "service"
    return release_node("deployment", {"id": origin, "type": kind}, {"id": target["id"], "type": kind}, condition)


def job_run(job_id, condition="success"):
    """A ``JobRun`` node that waits for the job to succeed ([release-flow] ``JobRun {jobId}``,
    ``condition: "success"``)."""
    node = {"kind": "JobRun", "spec": {"jobId": job_id}}
    if condition:
        node["condition"] = condition
    return node


def release_phases(release_phase):
    """The release phases of a stage as a list: ``release_phase`` is one (a dict) or several (a list), or none."""
    if not release_phase:
        return []
    return list(release_phase) if isinstance(release_phase, (list, tuple)) else [release_phase]


def _release_phase_steps(release_phase, release_to_job):
    """The Heroku release phase (A7): give the job the new code and wait for it to be running
    (``Release`` with ``condition: "running"``), then run it and wait for success (``JobRun`` with
    ``condition: "success"``): the documented "build promotion with database migration" order ([release-flow]).
    Several release phases (one per app of the stage) run one after the other, before any target."""
    steps = []
    for phase in release_phases(release_phase):
        job = {"id": phase["job"], "type": "job"}
        steps += [release_to_job(phase, job), job_run(phase["job"])]
    return steps


def build_release_flow(build_service, branch, targets, build="latest", release_phase=None):
    """The development flow (docs/mapping.md): deploy the latest build of ``branch`` from ``build_service``
    to the stage's deployment services, after the optional release-phase jobs.

    ``targets``: ``[{"id", "type": "service"|"job", "build_service"?, "branch"?}]``; ``release_phase``: ``{"job": id,
    "build_service"?, "branch"?}`` or a list of them. A target's or release phase's own ``build_service`` and ``branch``
    (an app of a stage with several apps deploys its own build) win over the flow's.
    One sequential Workflow ([release-flow]: the documented flows are a Workflow of ``Release`` steps)."""

    def own(item):
        return item.get("build_service") or build_service, item.get("branch") or branch

    steps = _release_phase_steps(
        release_phase, lambda phase, job: build_release(*own(phase), target=job, build=build, condition="running")
    )
    steps.extend(build_release(*own(target), target=target, build=build) for target in targets)
    return workflow(steps)


def promote_release_flow(targets, release_phase=None):
    """The staging / production flow (docs/mapping.md): promote each target's ``origin`` from the stage
    before, after the optional release-phase jobs (``{"job": id, "origin": id}``, or a list of them)."""
    steps = _release_phase_steps(
        release_phase, lambda phase, job: promote_release(phase["origin"], job, condition="running")
    )
    steps.extend(promote_release(target["origin"], target) for target in targets)
    return workflow(steps)


def empty_release_flow():
    """A release flow with nothing to do: what ``state: absent`` writes (there is no DELETE, [API], A8)."""
    return workflow([])


def release_flow_body(spec, triggers=None, arguments=None, concurrency_policy=None, paused=None):
    """A ``POST …/release-flows/{stage}`` body ([release-flow API], SDK ``UpdateReleaseFlowRequest``)."""
    body = {"apiVersion": API_VERSION, "spec": copy.deepcopy(spec)}
    if triggers is not None:
        body["triggers"] = copy.deepcopy(triggers)
    if arguments is not None:
        body["arguments"] = dict(arguments)
    options = {}
    if concurrency_policy is not None:
        options["concurrencyPolicy"] = concurrency_policy
    if paused is not None:
        options["paused"] = bool(paused)
    if options:
        body["options"] = options
    return body


def release_flow_view(current):
    """A ``GET …/release-flows/{stage}`` answer in the shape of ``release_flow_body`` ([release-flow API]).

    The GET carries ``concurrencyPolicy`` and ``paused`` both at the top level and in ``options``;
    ``options`` wins when present."""
    if not current:
        return None
    view = dict((k, current.get(k)) for k in ("apiVersion", "spec", "triggers", "arguments") if k in current)
    options = dict(current.get("options") or {})
    for key in ("concurrencyPolicy", "paused"):
        if key not in options and key in current:
            options[key] = current[key]
    view["options"] = options
    return view


def release_flow_steps(spec):
    """The steps of a release-flow spec, or ``[]`` (an empty or unset flow)."""
    if not isinstance(spec, dict):
        return []
    inner = spec.get("spec")
    return list(inner.get("steps") or []) if isinstance(inner, dict) else []

"""The shapes of Northflank's untyped specs (templates, the Pipeline node, release flows).

Each expected value is written out in full so that a change of shape shows up here first; the
Northflank page (or docs/assumptions.md section) it follows is named in each test."""

from __future__ import annotations

import pytest

from ansible_collections.herokumigrate.northflank.plugins.module_utils import northflank_specs as ns

STAGES = {
    "staging": {"services": ["web-stg"]},
    "Development": {"services": ["worker-dev", "web-dev"], "jobs": ["release-dev"], "addons": []},
}


def test_stage_forms_lower_on_paths_capitalised_in_templates():
    # docs/assumptions.md (enum Development|Staging|Production),
    # https://northflank.com/docs/v1/api/pipelines/get-release-flow (lower case on the path).
    assert ns.stage_label("development") == "Development"
    assert ns.stage_label("PRODUCTION") == "Production"
    assert ns.stage_key("Staging") == "staging"
    with pytest.raises(ValueError):
        ns.stage_key("qa")


def test_pipeline_node_nests_members_per_stage_in_stage_order():
    # docs/assumptions.md: spec.stages[] = {name, nfObjects[{id, type}]}, projectId on the node.
    node = ns.pipeline_node("acme", "acme-proj", STAGES, description="Heroku pipeline acme")
    assert node == {
        "kind": "Pipeline",
        "ref": "pipeline",
        "spec": {
            "name": "acme",
            "projectId": "acme-proj",
            "description": "Heroku pipeline acme",
            "stages": [
                {"name": "Development", "nfObjects": [
                    {"id": "web-dev", "type": "service"},
                    {"id": "worker-dev", "type": "service"},
                    {"id": "release-dev", "type": "job"},
                ]},
                {"name": "Staging", "nfObjects": [{"id": "web-stg", "type": "service"}]},
            ],
        },
    }


def test_pipeline_node_writes_no_release_flow_and_no_description_when_unset():
    node = ns.pipeline_node("acme", "p1", {"production": {"addons": ["db"]}})
    assert "description" not in node["spec"]
    assert node["spec"]["stages"] == [{"name": "Production", "nfObjects": [{"id": "db", "type": "addon"}]}]
    assert all("releaseFlow" not in s for s in node["spec"]["stages"])


def test_pipeline_template_create_and_update_bodies():
    # https://northflank.com/docs/v1/api/templates/create-template (envelope, root Workflow, project context,
    # runOnCreation).
    create = ns.pipeline_template(
        "pipeline-acme-proj-acme",
        "acme",
        "acme-proj",
        {"development": {"services": ["web"]}},
        template_description="Managed by Ansible",
    )
    assert create == {
        "name": "pipeline-acme-proj-acme",
        "description": "Managed by Ansible",
        "apiVersion": "v1.2",
        "options": {"autorun": False, "concurrencyPolicy": "queue", "runOnCreation": True},
        "spec": {
            "kind": "Workflow",
            "spec": {
                "type": "sequential",
                "context": {"projectId": "acme-proj"},
                "steps": [{
                    "kind": "Pipeline", "ref": "pipeline",
                    "spec": {"name": "acme", "projectId": "acme-proj",
                             "stages": [{"name": "Development", "nfObjects": [{"id": "web", "type": "service"}]}]},
                }],
            },
        },
    }
    update = ns.pipeline_template(
        "pipeline-acme-proj-acme", "acme", "acme-proj", {"development": {"services": ["web"]}}, create=False
    )
    # SDK UpdateTemplateRequestV12.options has no runOnCreation (strict contract).
    assert update["options"] == {"autorun": False, "concurrencyPolicy": "queue"}
    assert update["spec"] == create["spec"]


def test_template_bodies_pass_the_sdk_contract():
    contract = pytest.importorskip("tests.contract.nf_contract")
    body = ns.pipeline_template("pipeline-p-acme", "acme", "p", STAGES)
    update = ns.pipeline_template("pipeline-p-acme", "acme", "p", STAGES, create=False)
    flow = ns.release_flow_body(
        ns.build_release_flow("b", "main", [{"id": "web"}]), concurrency_policy="queue", paused=False
    )
    for method, path, data in (("POST", "/v1/templates", body), ("POST", "/v1/templates/pipeline-p-acme", update),
                               ("POST", "/v1/projects/p/pipelines/acme/release-flows/development", flow)):
        route = contract.check(method, path, data)  # raises AssertionError naming the offending field
        if hasattr(contract, "check_docs_rules"):
            contract.check_docs_rules(route, data)
    with pytest.raises(AssertionError):  # runOnCreation is a create-only option
        contract.check("POST", "/v1/templates/pipeline-p-acme", body)


def test_find_nodes_and_template_manages():
    template = {"spec": ns.workflow([ns.workflow([ns.pipeline_node("Acme App", "p", {})])], project="p")}
    assert [n["spec"]["name"] for n in ns.find_nodes(template["spec"], "Pipeline")] == ["Acme App"]
    assert ns.template_manages(template, "acme-app")
    assert not ns.template_manages(template, "other")
    assert not ns.template_manages({"spec": {"kind": "Workflow"}}, "acme-app")
    assert not ns.template_manages(None, "acme-app")


def test_pipeline_members_reads_the_flat_get_shape():
    # docs/assumptions.md: GET returns nfObjects[{id, type, stage}] (capitalised stage).
    got = ns.pipeline_members({"name": "acme", "nfObjects": [
        {"id": "web-dev", "type": "service", "stage": "Development"},
        {"id": "db", "type": "addon", "stage": "Production"},
        {"id": "cron", "type": "job", "stage": "Development"},
        {"id": "odd", "type": "volume", "stage": "Development"},
        {"id": "odd2", "type": "service", "stage": "QA"},
    ]})
    assert got == {
        "development": {"services": ["web-dev"], "jobs": ["cron"], "addons": []},
        "staging": {"services": [], "jobs": [], "addons": []},
        "production": {"services": [], "jobs": [], "addons": ["db"]},
    }


def test_pipeline_members_also_reads_the_nested_write_shape_once():
    got = ns.pipeline_members({"nfObjects": [{"id": "web", "type": "service", "stage": "Staging"}],
                               "stages": [{"name": "Staging", "nfObjects": [{"id": "web", "type": "service"},
                                                                            {"id": "api", "type": "service"}]},
                                          "untyped-junk"]})
    assert got["staging"]["services"] == ["api", "web"]
    assert ns.member_stage(got) == {("service", "api"): "staging", ("service", "web"): "staging"}


def test_run_concluded_and_failed_nodes():
    # https://northflank.com/docs/v1/api/templates/get-template-run (statuses, concluded, per-node response with error).
    assert ns.run_concluded({"status": "success", "concluded": True})
    assert ns.run_concluded({"status": "failure"})
    assert not ns.run_concluded({"status": "running", "concluded": False})
    run = {
        "spec": {
            "kind": "Workflow",
            "response": {"status": "failure"},
            "spec": {
                "steps": [
                    {
                        "kind": "Pipeline",
                        "ref": "pipeline",
                        "spec": {"name": "acme"},
                        "response": {
                            "status": "failure",
                            "error": {"code": 400, "message": "combined services cannot join pipelines"},
                        },
                    },
                    {"kind": "Project", "spec": {"name": "ok"}, "response": {"status": "success"}},
                ]
            },
        }
    }
    assert ns.run_failed_nodes(run) == [
        {"kind": "Workflow", "ref": None, "name": None, "status": "failure", "message": None},
        {"kind": "Pipeline", "ref": "pipeline", "name": "acme", "status": "failure",
         "message": "combined services cannot join pipelines"},
    ]
    assert ns.run_failed_nodes({}) == []
    assert ns.failure_summary(ns.run_failed_nodes(run)) == "Pipeline acme: combined services cannot join pipelines"
    assert ns.failure_summary([]) == "no node reported an error"


def test_failed_nodes_name_what_a_release_or_job_run_acts_on():
    run = {"spec": {"kind": "Workflow", "spec": {"steps": [
        {"kind": "JobRun", "spec": {"jobId": "rel"}, "response": {"status": "failure", "error": {"message": "exit 1"}}},
        {"kind": "Release", "spec": {"target": {"id": "web", "type": "service"}}, "response": {"status": "aborted"}},
    ]}}}
    assert ns.failure_summary(ns.run_failed_nodes(run)) == "JobRun rel: exit 1; Release web: aborted"


def test_build_release_flow_deploys_latest_build_to_each_target():
    # https://northflank.com/docs/v1/application/release/configure-a-release-flow (Release type build, origin {id,
    # branch, build}), its first example.
    spec = ns.build_release_flow("acme-builder", "main", [{"id": "web-dev"}, {"id": "cron-dev", "type": "job"}])
    assert spec == {
        "kind": "Workflow",
        "spec": {
            "type": "sequential",
            "steps": [
                {
                    "kind": "Release",
                    "spec": {
                        "type": "build",
                        "origin": {"id": "acme-builder", "branch": "main", "build": "latest"},
                        "target": {"id": "web-dev", "type": "service"},
                    },
                },
                {
                    "kind": "Release",
                    "spec": {
                        "type": "build",
                        "origin": {"id": "acme-builder", "branch": "main", "build": "latest"},
                        "target": {"id": "cron-dev", "type": "job"},
                    },
                },
            ],
        },
    }


def test_build_release_flow_runs_the_release_phase_job_first():
    # https://northflank.com/docs/v1/application/release/configure-a-release-flow, its second example:
    # Release to the job (running) -> JobRun (success) -> services.
    spec = ns.build_release_flow("b", "main", [{"id": "web"}], release_phase={"job": "rel"})
    assert spec["spec"]["steps"] == [
        {"kind": "Release", "spec": {"type": "build", "origin": {"id": "b", "branch": "main", "build": "latest"},
                                     "target": {"id": "rel", "type": "job"}}, "condition": "running"},
        {"kind": "JobRun", "spec": {"jobId": "rel"}, "condition": "success"},
        {"kind": "Release", "spec": {"type": "build", "origin": {"id": "b", "branch": "main", "build": "latest"},
                                     "target": {"id": "web", "type": "service"}}},
    ]


def test_promote_release_flow_promotes_from_the_previous_stage():
    # https://northflank.com/docs/v1/application/release/configure-a-release-flow (Release type deployment, origin {id,
    # type}), its second example.
    spec = ns.promote_release_flow(
        [{"id": "web-stg", "origin": "web-dev"}], release_phase={"job": "rel-stg", "origin": "rel-dev"}
    )
    assert spec["spec"]["steps"] == [
        {"kind": "Release", "spec": {"type": "deployment", "origin": {"id": "rel-dev", "type": "job"},
                                     "target": {"id": "rel-stg", "type": "job"}}, "condition": "running"},
        {"kind": "JobRun", "spec": {"jobId": "rel-stg"}, "condition": "success"},
        {"kind": "Release", "spec": {"type": "deployment", "origin": {"id": "web-dev", "type": "service"},
                                     "target": {"id": "web-stg", "type": "service"}}},
    ]
    assert ns.PREVIOUS_STAGE == {"staging": "development", "production": "staging"}


def test_release_flow_body_and_view():
    # https://northflank.com/docs/v1/api/pipelines/update-release-flow (update body),
    # https://northflank.com/docs/v1/api/pipelines/get-release-flow (GET adds stage, status, paused,
    # concurrencyPolicy...).
    spec = ns.build_release_flow("b", "main", [{"id": "web"}])
    body = ns.release_flow_body(spec, triggers=[], arguments={"A": "1"}, concurrency_policy="queue", paused=False)
    assert body == {"apiVersion": "v1.2", "spec": spec, "triggers": [], "arguments": {"A": "1"},
                    "options": {"concurrencyPolicy": "queue", "paused": False}}
    assert ns.release_flow_body(spec) == {"apiVersion": "v1.2", "spec": spec}
    body["spec"]["kind"] = "changed"
    assert spec["kind"] == "Workflow"  # the body holds a copy
    got = {"apiVersion": "v1.2", "spec": spec, "stage": "Development", "status": "success", "paused": True,
           "concurrencyPolicy": "allow", "createdAt": "x", "updatedAt": "y"}
    assert ns.release_flow_view(got) == {
        "apiVersion": "v1.2",
        "spec": spec,
        "options": {"concurrencyPolicy": "allow", "paused": True},
    }
    got["options"] = {"concurrencyPolicy": "queue", "paused": False}
    assert ns.release_flow_view(got)["options"] == {"concurrencyPolicy": "queue", "paused": False}
    assert ns.release_flow_view(None) is None


def test_empty_release_flow_has_no_steps():
    assert ns.empty_release_flow() == {"kind": "Workflow", "spec": {"type": "sequential", "steps": []}}
    assert ns.release_flow_steps(ns.empty_release_flow()) == []
    assert ns.release_flow_steps({"kind": "Workflow"}) == []
    assert ns.release_flow_steps(None) == []
    assert len(ns.release_flow_steps(ns.build_release_flow("b", "main", [{"id": "w"}]))) == 1


def test_a_stage_with_several_apps_deploys_each_its_own_build_and_runs_every_release_phase():
    # docs/mapping.md, "Pipelines": per-target and per-release-phase build services; release_phase as a list.
    spec = ns.build_release_flow(
        "a-builder",
        "main",
        [{"id": "a-web"}, {"id": "b-web", "build_service": "b-builder", "branch": "trunk"}],
        release_phase=[{"job": "a-rel"}, {"job": "b-rel", "build_service": "b-builder", "branch": "trunk"}],
    )
    assert [
        (s["kind"], s["spec"].get("origin"), s["spec"].get("target", {}).get("id") or s["spec"].get("jobId"))
        for s in spec["spec"]["steps"]
    ] == [
        ("Release", {"id": "a-builder", "branch": "main", "build": "latest"}, "a-rel"),
        ("JobRun", None, "a-rel"),
        ("Release", {"id": "b-builder", "branch": "trunk", "build": "latest"}, "b-rel"),
        ("JobRun", None, "b-rel"),
        ("Release", {"id": "a-builder", "branch": "main", "build": "latest"}, "a-web"),
        ("Release", {"id": "b-builder", "branch": "trunk", "build": "latest"}, "b-web"),
    ]
    promoted = ns.promote_release_flow(
        [{"id": "w2", "origin": "w1"}], release_phase=[{"job": "r2", "origin": "r1"}, {"job": "r3", "origin": "r1"}]
    )
    assert [s["spec"].get("jobId") or s["spec"]["target"]["id"] for s in promoted["spec"]["steps"]] == [
        "r2",
        "r2",
        "r3",
        "r3",
        "w2",
    ]
    # one release phase as a dict, as before
    assert (
        ns.release_phases({"job": "r"}) == [{"job": "r"}]
        and ns.release_phases(None) == []
        and ns.release_phases([]) == []
    )

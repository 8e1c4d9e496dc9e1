# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Northflank emulator: templates, their runs, pipelines and release flows."""

from __future__ import annotations

import pytest

from tests.integration.northflank_emulator_api import BUILD_SERVICE, DEPLOYMENT_SERVICE, pipeline_template, project


def test_a_template_with_a_pipeline_node_creates_the_pipeline_and_its_flows(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    api.data("PUT", "/v1/projects/acme-web/services/deployment", DEPLOYMENT_SERVICE)
    flow = {
        "kind": "ReleaseFlow",
        "spec": {
            "apiVersion": "v1.2",
            "spec": {
                "kind": "Workflow",
                "spec": {
                    "type": "sequential",
                    "steps": [
                        {
                            "kind": "Release",
                            "spec": {
                                "type": "build",
                                "origin": {"id": "${template.args.BUILDER}", "branch": "main", "build": "latest"},
                                "target": {"id": "${refs.web.id}", "type": "service"},
                            },
                        }
                    ],
                },
            },
        },
    }
    body = pipeline_template(
        "acme-pipeline",
        [{"name": "Development", "nfObjects": [{"id": "acme-web-web", "type": "service"}], "releaseFlow": flow}],
    )
    body["arguments"] = {"BUILDER": "acme-web-builder"}
    created = api.data("POST", "/v1/templates", body)
    assert created["template"]["id"] == "acme-pipeline" and created["templateRun"]["status"] == "running"
    run_path = f"/v1/templates/acme-pipeline/runs/{created['templateRun']['id']}"
    assert api.poll(run_path, "status", "success") == ["success"]
    node = api.data("GET", run_path)["spec"]["spec"]["steps"][0]
    assert node["response"]["status"] == "success"
    assert api.data("GET", "/v1/projects/acme-web/pipelines/acme-pipeline")["nfObjects"] == [
        {"id": "acme-web-web", "type": "service", "stage": "Development"}
    ]
    steps = api.data(
        "GET", "/v1/projects/acme-web/pipelines/acme-pipeline/release-flows/development"
    )["spec"]["spec"]["steps"]
    assert steps[0]["spec"]["origin"]["id"] == "acme-web-builder"  # ${template.…} resolved by the parent run
    assert steps[0]["spec"]["target"]["id"] == "${refs.web.id}"  # kept for the flow's own run
    assert [p["id"] for p in api.data("GET", "/v1/projects/acme-web/pipelines")["pipelines"]] == ["acme-pipeline"]
    api.data("DELETE", "/v1/templates/acme-pipeline")
    assert api.call("GET", run_path).status_code == 404
    assert (
        api.data("GET", "/v1/projects/acme-web/pipelines/acme-pipeline")["name"] == "acme-pipeline"
    )  # what a template made stays


def test_a_pipeline_node_with_an_ineligible_member_fails_the_run(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    run = api.data(
        "POST",
        "/v1/templates",
        pipeline_template(
            "bad", [{"name": "Development", "nfObjects": [{"id": "acme-web-builder", "type": "service"}]}]
        ),
    )["templateRun"]
    assert api.poll(f"/v1/templates/bad/runs/{run['id']}", "status", "failure") == ["failure"]
    node = api.data("GET", f"/v1/templates/bad/runs/{run['id']}")["spec"]["spec"]["steps"][0]
    assert "cannot join a pipeline" in node["response"]["error"]["message"]
    assert api.call("GET", "/v1/projects/acme-web/pipelines/acme-pipeline").status_code == 404


@pytest.mark.contract_violations_expected
def test_template_resource_nodes_go_through_the_rest_contract(api, northflank):
    project(api)
    body = {
        "name": "nodes",
        "apiVersion": "v1.2",
        "arguments": {"PLAN": "nf-compute-20"},
        "spec": {
            "kind": "Workflow",
            "spec": {
                "type": "sequential",
                "context": {"projectId": "acme-web"},
                "steps": [
                    {"kind": "BuildService", "ref": "builder", "spec": BUILD_SERVICE},
                    {
                        "kind": "DeploymentService",
                        "spec": {
                            **DEPLOYMENT_SERVICE,
                            "billing": {"deploymentPlan": "${args.PLAN}"},
                            "deployment": {"instances": 1, "internal": {"id": "${refs.builder.id}", "branch": "main"}},
                        },
                    },
                    {"kind": "SecretGroup", "spec": {"name": "env", "secretType": "runtime", "priority": 1}},
                ],
            },
        },
    }
    api.data("POST", "/v1/templates", body)
    run = api.data("POST", "/v1/templates/nodes/runs", {})
    steps = api.data("GET", f"/v1/templates/nodes/runs/{run['id']}")["spec"]["spec"]["steps"]
    assert [s["response"]["status"] for s in steps] == ["success", "success", "failure"]
    assert "secretType" in steps[2]["response"]["error"]["message"]
    assert (
        api.data("GET", "/v1/projects/acme-web/services/acme-web-web")["billing"]
        == {"deploymentPlan": "nf-compute-20"}
    )
    violations = [e["contract_error"] for e in northflank.requests()["requests"] if e.get("contract_error")]
    assert len(violations) == 1 and violations[0].startswith("SecretGroup node:") and "secretType" in violations[0]


def test_release_flows_are_set_read_and_run(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    api.data("PUT", "/v1/projects/acme-web/services/deployment", DEPLOYMENT_SERVICE)
    api.data(
        "POST",
        "/v1/templates",
        pipeline_template(
            "acme-pipeline", [{"name": "Development", "nfObjects": [{"id": "acme-web-web", "type": "service"}]}]
        ),
    )
    flows = "/v1/projects/acme-web/pipelines/acme-pipeline/release-flows"
    assert api.call("GET", f"{flows}/development").status_code == 404
    release = {
        "kind": "Release",
        "spec": {
            "type": "build",
            "origin": {"id": "acme-web-builder", "branch": "main", "build": "latest"},
            "target": {"id": "acme-web-web", "type": "service"},
        },
    }
    flow = {
        "apiVersion": "v1.2",
        "options": {"paused": True},
        "spec": {"kind": "Workflow", "spec": {"type": "sequential", "steps": [release]}},
    }
    assert api.data("POST", f"{flows}/development", flow) == {}
    read = api.data("GET", f"{flows}/Development")
    assert read["stage"] == "Development" and read["paused"] is True and read["spec"] == flow["spec"]
    run = api.data("POST", f"{flows}/development/runs", {"name": "deploy-1"})
    assert api.poll(f"{flows}/development/runs/{run['id']}", "status", "success") == ["success"]
    assert [r["name"] for r in api.data("GET", f"{flows}/development/runs")["runs"]] == ["deploy-1"]
    # the same Release in the Staging flow: acme-web-web exists, but is a member of Development only
    api.data(
        "POST",
        f"{flows}/staging",
        {"apiVersion": "v1.2", "spec": {"kind": "Workflow", "spec": {"type": "sequential", "steps": [release]}}},
    )
    run = api.data("POST", f"{flows}/staging/runs", {})
    assert api.poll(f"{flows}/staging/runs/{run['id']}", "status", "failure") == ["failure"]

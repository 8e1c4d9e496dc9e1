# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Northflank emulator as a real subprocess: auth, the SDK contract, the documented examples, pagination, rate
limits, faults, state."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

import northflank as nf_sdk
from tests.contract import nf_contract
from tests.helpers import EmulatorProcess
from tests.integration.northflank_emulator_api import (
    ADDON,
    BUILD_SERVICE,
    DEPLOYMENT_SERVICE,
    EXAMPLES,
    Api,
    logged,
    pipeline_template,
    project,
)


# -- authentication -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("token", ["", "wrong-token"])
def test_missing_or_wrong_token_is_a_401_error_body(api, northflank, token):
    resp = Api(northflank, token=token).call("GET", "/v1/projects")
    assert resp.status_code == 401
    assert resp.json()["error"]["status"] == 401 and "token" in resp.json()["error"]["message"]
    assert "x-ratelimit-limit" in resp.headers


def test_get_auth_lists_the_permissions_of_the_served_routes(api):
    auth = api.data("GET", "/v1/auth")
    assert auth["entityType"] == "team" and auth["tokenKind"] == "api"
    assert "Project > Services > General > Create" in auth["permissions"]["projectScope"]


# -- the contract ---------------------------------------------------------------------------------------------
INVALID = [
    (
        "unknown key",
        "POST",
        "/v1/projects",
        {"name": "bad-body", "region": "europe-west", "colour": "#fff"},
        400,
        "colour",
    ),
    (
        "region and cluster",
        "POST",
        "/v1/projects",
        {"name": "both", "region": "europe-west", "clusterId": "c1"},
        400,
        "clusterId",
    ),
    (
        "wrong enum",
        "POST",
        "/v1/projects/acme-web/secrets",
        {"name": "env", "secretType": "runtime", "priority": 10},
        400,
        "secretType",
    ),
    (
        "missing required",
        "POST",
        "/v1/projects/acme-web/addons",
        {**ADDON, "billing": {"deploymentPlan": "nf-compute-50", "storage": 10240}},
        400,
        "billing.replicas",
    ),
    (
        "wrong type in a union member",
        "POST",
        "/v1/projects/acme-web/services/deployment",
        {**DEPLOYMENT_SERVICE, "deployment": {"instances": 1, "internal": {"id": "acme-web-builder", "buildSHA": 1}}},
        400,
        "deployment.internal.buildSHA",
    ),
    (
        "missing port protocol",
        "PATCH",
        "/v1/projects/acme-web/services/deployment/acme-web-web",
        {"ports": [{"name": "web", "internalPort": 80}]},
        400,
        "ports[0].protocol",
    ),
    (
        "string for an int",
        "POST",
        "/v1/projects/acme-web/secrets",
        {"name": "env", "secretType": "environment", "priority": "10"},
        400,
        "priority",
    ),
    (
        "docs rule: port name > 8",
        "POST",
        "/v1/projects/acme-web/services/deployment",
        {**DEPLOYMENT_SERVICE, "ports": [{"name": "webserver1", "internalPort": 80, "protocol": "HTTP"}]},
        400,
        "ports[].name",
    ),
    (
        "docs rule: name pattern",
        "POST",
        "/v1/projects",
        {"name": "acme_web", "region": "europe-west"},
        400,
        "name='acme_web'",
    ),
    ("docs rule: name length", "POST", "/v1/projects", {"name": "a" * 40, "region": "europe-west"}, 400, "length 3-39"),
    ("unknown query param", "GET", "/v1/projects?limit=5", None, 400, "limit"),
    ("per_page over 100", "GET", "/v1/projects?per_page=101", None, 400, "per_page"),
    ("body on a bodyless endpoint", "POST", "/v1/domains/acme.com/verify", {"force": True}, 400, "takes no JSON body"),
    ("deprecated endpoint", "POST", "/v1/projects/acme-web/jobs/cron", {"name": "cron"}, 400, "deprecated"),
    ("not an endpoint", "POST", "/v1/projects/acme-web/pipelines", {"name": "p"}, 404, "not a Northflank endpoint"),
]


@pytest.mark.contract_violations_expected
@pytest.mark.parametrize("case,method,path,body,status,field", INVALID, ids=[c[0] for c in INVALID])
def test_contract_violation_is_rejected_naming_the_field_and_logged(
    api, northflank, case, method, path, body, status, field
):
    resp = api.call(method, path, body)
    assert resp.status_code == status, resp.text
    assert field in resp.json()["error"]["message"]
    entry = logged(northflank)[-1]
    assert field in entry["contract_error"]
    assert entry.get("body") == body


def test_an_sdk_route_the_emulator_does_not_serve_is_a_501_not_a_404(api):
    project(api)
    resp = api.call("GET", "/v1/projects/acme-web/services/web/containers")
    assert resp.status_code == 501 and "does not implement" in resp.json()["error"]["message"]


def test_every_served_route_is_a_current_sdk_endpoint(northflank):
    routes = northflank.admin("GET", "/_admin/routes")["routes"]
    assert len(routes) > 80
    for method, template in routes:
        assert not nf_contract.find(method, template).deprecated, (method, template)


def test_a_response_that_breaks_the_sdk_types_is_a_500_and_logged(api, northflank):
    project(api)
    state = northflank.state()
    state["projects"][""]["acme-web"]["status"] = "bogus"  # not a lifecycleStatus
    northflank.admin("PUT", "/_admin/state", state)
    resp = api.call("PATCH", "/v1/projects/acme-web", {"description": "x"})
    assert resp.status_code == 500 and "lifecycleStatus" in resp.json()["error"]["message"]
    assert "lifecycleStatus" in logged(northflank)[-1]["response_error"]


# -- the documented example requests --------------------------------------------------------------------------
def test_every_validated_example_request_is_accepted(api, northflank):
    """All of the API reference's example requests (``EXAMPLES``), in an order that gives each its prerequisites: the
    domain is verified before its subdomain and before a port lists it, the addon runs before its import, the pipeline
    comes from a template run, and the restore uses the backup the import created (the example's ``bk1`` stands for its
    ID)."""
    sent = []

    def send(index: int, **substitutions) -> requests.Response:
        resp = api.example(EXAMPLES[index], **substitutions)
        assert resp.status_code == 200, f"{EXAMPLES[index][:2]} -> {resp.status_code} {resp.text}"
        sent.append(index)
        return resp

    for i in (
        0,
        12,
        13,
        14,
        15,
        1,
        2,
        3,
        4,
        5,
    ):  # project, domain + subdomain, services (one port lists www.acme.com), addon
        send(i)
    api.poll("/v1/projects/acme-web/addons/acme-web-db", "status", "running")
    send(6)
    for _read in range(3):
        backups = api.data("GET", "/v1/projects/acme-web/addons/acme-web-db/backups")["backups"]
        if backups[0]["status"] == "completed":
            break
    assert backups[0]["name"] == "heroku-import-1" and backups[0]["status"] == "completed"
    send(7, bk1=backups[0]["id"])
    for i in (8, 9, 10, 11, 16, 17, 18):
        send(i)
    api.data(
        "POST",
        "/v1/templates",
        pipeline_template(
            "acme-pipeline",
            [
                {"name": "Development", "nfObjects": [{"id": "acme-web-web", "type": "service"}]},
                {"name": "Staging", "nfObjects": [{"id": "acme-web-worker", "type": "service"}]},
            ],
        ),
    )
    send(19)
    api.data(
        "POST",
        "/v1/projects/acme-web/pipelines/acme-pipeline/release-flows/staging",
        {"apiVersion": "v1.2", "spec": {"kind": "Workflow", "spec": {"type": "sequential", "steps": []}}},
    )
    send(20)
    assert send(21).json()["pagination"]["count"] == 4  # the cursor is an ID: all four services sort after "abc"
    assert sorted(sent) == list(range(len(EXAMPLES)))
    assert not [e for e in logged(northflank) if e.get("response_error")]


# -- pagination, rate limits, faults, state -------------------------------------------------------------------
def test_cursor_pagination_over_more_than_100_items(api):
    for i in range(120):
        api.data("PUT", "/v1/projects", {"name": f"page-{i:03d}", "region": "europe-west"})
    first = api.call("GET", "/v1/projects?per_page=100").json()
    assert len(first["data"]["projects"]) == 100
    assert first["pagination"] == {"hasNextPage": True, "cursor": "page-099", "count": 100}
    second = api.call("GET", f"/v1/projects?per_page=100&cursor={first['pagination']['cursor']}").json()
    assert [p["id"] for p in second["data"]["projects"]] == [f"page-{i:03d}" for i in range(100, 120)]
    assert second["pagination"] == {"hasNextPage": False, "count": 20}
    assert api.call("GET", "/v1/projects").json()["pagination"]["count"] == 50  # the default page size
    assert api.call("GET", "/v1/projects?per_page=50&page=3").json()["pagination"] == {
        "hasNextPage": False,
        "count": 20,
    }


def test_rate_limit_headers_then_429_until_the_window_resets(api, northflank):
    northflank.admin("POST", "/_admin/rate-limit", {"budget": 3, "window_seconds": 2})
    remaining = [api.call("GET", "/v1/regions").headers["x-ratelimit-remaining"] for _i in range(3)]
    assert remaining == ["2", "1", "0"]
    limited = api.call("GET", "/v1/regions")
    assert limited.status_code == 429
    assert limited.json()["error"]["status"] == 429 and "Rate limit" in limited.json()["error"]["message"]
    assert limited.headers["x-ratelimit-limit"] == "3" and limited.headers["x-ratelimit-remaining"] == "0"
    reset = int(limited.headers["x-ratelimit-reset"])
    assert 0 < reset <= 2
    time.sleep(reset + 0.1)
    assert api.call("GET", "/v1/regions").headers["x-ratelimit-remaining"] == "2"


@pytest.mark.parametrize("fault", ["500", "502", "429"])
def test_injected_http_faults(api, northflank, fault):
    northflank.faults(queue=[{"fault": fault, "match": "GET /v1/plans", "times": 1}])
    resp = api.call("GET", "/v1/plans")
    assert resp.status_code == int(fault) and resp.json()["error"]["status"] == int(fault)
    if fault == "429":
        assert resp.headers["x-ratelimit-remaining"] == "0" and resp.headers["x-ratelimit-reset"] == "1"  # transient
    assert api.call("GET", "/v1/plans").status_code == 200
    assert [e["status"] for e in logged(northflank)] == [f"fault:{fault}", 200]


@pytest.mark.parametrize("fault,error", [("reset", requests.ConnectionError), ("timeout", requests.Timeout)])
def test_injected_network_faults(api, northflank, fault, error):
    northflank.faults(queue=[{"fault": fault, "match": "GET /v1/plans", "times": 1}])
    with pytest.raises(error):
        api.call("GET", "/v1/plans", timeout=0.5)
    assert api.call("GET", "/v1/plans").status_code == 200


def test_state_file_is_written_and_reloaded(tmp_path):
    state_file = tmp_path / "northflank-state.json"
    first = EmulatorProcess("northflank", "--state-file", str(state_file))
    try:
        Api(first).data("POST", "/v1/projects", {"name": "kept", "region": "europe-west"})
    finally:
        first.stop()
    assert "kept" in json.loads(state_file.read_text())["projects"][""]
    second = EmulatorProcess("northflank", "--state-file", str(state_file))
    try:
        api = Api(second)
        assert api.data("GET", "/v1/projects/kept")["name"] == "kept"
        assert api.call("POST", "/v1/projects", {"name": "kept", "region": "europe-west"}).status_code == 409
    finally:
        second.stop()


# -- the official SDK against the emulator --------------------------------------------------------------------
def test_the_official_sdk_creates_lists_and_gets_every_kind(api, northflank):
    """The world is built with the SDK's own calls; then every GET route the emulator serves is called through its SDK
    endpoint class (paginated ones drained with ``.all()``), with path parameters taken from that world."""
    client = nf_sdk.ApiClient(api_token=northflank.token, base_url=northflank.url)
    client.create.project(data={"name": "sdk-app", "region": "europe-west"})
    client.put.service.build(project_id="sdk-app", data={**BUILD_SERVICE, "name": "sdk-builder"})
    deployment = {
        **DEPLOYMENT_SERVICE,
        "name": "sdk-web",
        "deployment": {"instances": 1, "internal": {"id": "sdk-builder", "branch": "main"}},
    }
    client.put.service.deployment(project_id="sdk-app", data=deployment)
    build_id = client.start.service.build(
        project_id="sdk-app", service_id="sdk-builder", data={"branch": "main"}
    ).data["id"]
    client.put.addon(project_id="sdk-app", data={**ADDON, "name": "sdk-db"})
    statuses = [client.get.addon(project_id="sdk-app", addon_id="sdk-db").data["status"] for _read in range(4)]
    assert statuses[-1] == "running"
    client.import_.addon.backup(
        project_id="sdk-app", addon_id="sdk-db", data={"name": "sdk-import", "importUrl": "https://x/dump.gz"}
    )
    backup_id = client.get.addon.backups(project_id="sdk-app", addon_id="sdk-db").data["backups"][0]["id"]
    client.get.addon.backup(project_id="sdk-app", addon_id="sdk-db", backup_id=backup_id)
    client.restore.addon.backup(project_id="sdk-app", addon_id="sdk-db", backup_id=backup_id)
    client.put.secret(project_id="sdk-app", data={"name": "sdk-env", "secretType": "environment", "priority": 1})
    client.update.secret_link(
        project_id="sdk-app", secret_id="sdk-env", addon_id="sdk-db", data={"keys": [{"keyName": "POSTGRES_URI"}]}
    )
    job = {
        "name": "sdk-job",
        "billing": {"deploymentPlan": "nf-compute-20"},
        "settings": {"backoffLimit": 0},
        "deployment": {"internal": {"id": "sdk-builder", "branch": "main", "buildSHA": "latest"}},
    }
    client.put.job(project_id="sdk-app", data=job)
    job_run = client.start.job.run(project_id="sdk-app", job_id="sdk-job", data={}).data["id"]
    client.create.volume(
        project_id="sdk-app",
        data={
            "name": "sdk-data",
            "mounts": [{"containerMountPath": "/data"}],
            "spec": {"accessMode": "ReadWriteOnce", "storageSize": 1024},
        },
    )
    client.create.domain(data={"domain": "sdk.example.com"})
    client.verify.domain(domain="sdk.example.com")
    client.add.domain.subdomain(domain="sdk.example.com", data={"subdomain": "www"})
    client.verify.subdomain(domain="sdk.example.com", subdomain="www")
    client.assign.subdomain.service(
        domain="sdk.example.com",
        subdomain="www",
        data={"projectId": "sdk-app", "serviceId": "sdk-web", "portName": "web"},
    )
    template = pipeline_template(
        "sdk-template", [{"name": "Development", "nfObjects": [{"id": "sdk-web", "type": "service"}]}]
    )
    template["spec"]["spec"]["steps"][0]["spec"].update(name="sdk-pipeline", projectId="sdk-app")
    template_run = client.create.template(data=template).data["templateRun"]["id"]
    client.update.release_flow(
        project_id="sdk-app",
        pipeline_id="sdk-pipeline",
        stage="development",
        data={"apiVersion": "v1.2", "spec": {"kind": "Workflow", "spec": {"type": "sequential", "steps": []}}},
    )
    flow_run = client.run.release_flow(
        project_id="sdk-app", pipeline_id="sdk-pipeline", stage="development", data={"name": "sdk-run"}
    ).data["id"]

    world = {
        "projectId": "sdk-app",
        "serviceId": "sdk-builder",
        "buildId": build_id,
        "secretId": "sdk-env",
        "addonId": "sdk-db",
        "backupId": backup_id,
        "jobId": "sdk-job",
        "runId": job_run,
        "volumeId": "sdk-data",
        "domain": "sdk.example.com",
        "subdomain": "www",
        "templateId": "sdk-template",
        "templateRunId": template_run,
        "pipelineId": "sdk-pipeline",
        "stage": "development",
    }
    called = []
    for method, template_path in northflank.admin("GET", "/_admin/routes")["routes"]:
        if method != "GET":
            continue
        endpoint_class = nf_contract.find(method, template_path).endpoint
        params = {**world, **({"runId": flow_run} if "release-flows" in template_path else {})}
        snake = {v: k for k, v in endpoint_class.param_aliases.items()}
        kwargs = {snake.get(name, name): params[name] for name in re.findall(r"\{(\w+)\}", template_path)}
        endpoint = endpoint_class(client.context)
        response = endpoint.all(**kwargs) if endpoint.is_paginated else endpoint.call(**kwargs)
        assert response.status == 200 and response.error is None, template_path
        called.append(template_path)
    assert len(called) >= 40
    assert not [e for e in logged(northflank) if e.get("response_error")]

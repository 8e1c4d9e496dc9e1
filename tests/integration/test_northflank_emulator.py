# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Northflank emulator as a real subprocess: the SDK contract, Northflank's semantics, the knobs tests rely on."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

import northflank as nf_sdk
from tests.contract import nf_contract
from tests.helpers import EmulatorProcess

# ENDPOINTS.md, "Validated example requests" (all pass nf_contract.check): (method, path[, body]), in the document's order.
EXAMPLES = [
    ("POST", "/v1/projects", {"name": "acme-web", "description": "Migrated from Heroku app acme-web", "region": "europe-west"}),
    (
        "POST",
        "/v1/projects/acme-web/services/build",
        {
            "name": "acme-web-builder",
            "billing": {"buildPlan": "nf-compute-400-16"},
            "vcsData": {"projectUrl": "https://github.com/acme/web", "projectType": "github", "accountLogin": "acme"},
            "buildSettings": {"buildpack": {"builder": "HEROKU_24", "buildContext": "/", "buildpackLocators": ["heroku/nodejs"]}},
            "buildConfiguration": {"branchRestrictions": ["main", "release/*"], "prRestrictions": ["*"]},
            "buildArguments": {"NODE_ENV": "production"},
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/services/deployment",
        {
            "name": "acme-web-web",
            "billing": {"deploymentPlan": "nf-compute-20"},
            "deployment": {
                "instances": 2,
                "internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"},
                "buildpack": {"configType": "default"},
            },
            "ports": [{"name": "web", "internalPort": 8080, "public": True, "protocol": "HTTP"}],
            "runtimeEnvironment": {"PORT": "8080"},
            "healthChecks": [
                {
                    "protocol": "HTTP",
                    "type": "readinessProbe",
                    "path": "/health",
                    "port": 8080,
                    "initialDelaySeconds": 10,
                    "periodSeconds": 30,
                    "timeoutSeconds": 5,
                    "failureThreshold": 3,
                    "successThreshold": 1,
                }
            ],
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/services/deployment",
        {
            "name": "acme-web-worker",
            "billing": {"deploymentPlan": "nf-compute-20"},
            "deployment": {
                "instances": 1,
                "internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"},
                "buildpack": {"configType": "customProcess", "customProcess": "worker"},
            },
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/services/combined",
        {
            "name": "acme-web",
            "billing": {"deploymentPlan": "nf-compute-20", "buildPlan": "nf-compute-400-16"},
            "deployment": {"instances": 1},
            "vcsData": {"projectUrl": "https://github.com/acme/web", "projectType": "github", "projectBranch": "main"},
            "buildSettings": {"buildpack": {"builder": "HEROKU_24"}},
            "ports": [{"name": "web", "internalPort": 8080, "public": True, "protocol": "HTTP", "domains": ["www.acme.com"]}],
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/addons",
        {
            "name": "acme-web-db",
            "type": "postgresql",
            "version": "16-latest",
            "billing": {"deploymentPlan": "nf-compute-50", "storage": 10240, "replicas": 1},
            "tlsEnabled": True,
            "backupSchedules": [{"scheduling": {"interval": "daily", "minute": [0], "hour": [3]}, "backupType": "dump", "retentionTime": 7}],
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/addons/acme-web-db/import",
        {"name": "heroku-import-1", "connectionString": "postgresql://u:p@host:5432/db", "importAllDatabases": False},
    ),
    ("POST", "/v1/projects/acme-web/addons/acme-web-db/backups/bk1/restore"),
    (
        "POST",
        "/v1/projects/acme-web/secrets",
        {
            "name": "acme-web-env",
            "secretType": "environment",
            "priority": 10,
            "secrets": {"variables": {"SECRET_KEY_BASE": "x"}},
            "addonDependencies": [{"addonId": "acme-web-db", "keys": [{"keyName": "POSTGRES_URI", "aliases": ["DATABASE_URL"]}]}],
            "restrictions": {"restricted": True, "nfObjects": [{"id": "acme-web-web", "type": "service"}, {"id": "acme-web-worker", "type": "service"}]},
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/jobs",
        {
            "name": "acme-web-scheduler-1",
            "billing": {"deploymentPlan": "nf-compute-20"},
            "deployment": {
                "internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"},
                "buildpack": {"configType": "customCommand", "customCommand": "rake cleanup"},
            },
            "settings": {
                "backoffLimit": 0,
                "activeDeadlineSeconds": 3600,
                "runOnSourceChange": "never",
                "cron": {"schedule": "0 3 * * *", "concurrencyPolicy": "forbid", "suspended": False},
            },
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/jobs",
        {
            "name": "acme-web-release",
            "billing": {"deploymentPlan": "nf-compute-20"},
            "deployment": {"internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"}},
            "settings": {"backoffLimit": 0},
        },
    ),
    ("POST", "/v1/projects/acme-web/jobs/acme-web-release/runs", {}),
    ("POST", "/v1/domains", {"domain": "acme.com"}),
    ("POST", "/v1/domains/acme.com/verify"),
    ("POST", "/v1/domains/acme.com/subdomains", {"subdomain": "www"}),
    ("POST", "/v1/domains/acme.com/subdomains/www/verify"),
    ("POST", "/v1/domains/acme.com/subdomains/www/assign", {"projectId": "acme-web", "serviceId": "acme-web-web", "portName": "web"}),
    (
        "POST",
        "/v1/projects/acme-web/volumes",
        {
            "name": "acme-web-data",
            "mounts": [{"containerMountPath": "/data"}],
            "spec": {"accessMode": "ReadWriteOnce", "storageSize": 5120},
            "attachedObjects": [{"id": "acme-web-web", "type": "service"}],
        },
    ),
    ("PATCH", "/v1/projects/acme-web/services/deployment/acme-web-web", {"deployment": {"instances": 3}, "billing": {"deploymentPlan": "nf-compute-50"}}),
    (
        "POST",
        "/v1/projects/acme-web/pipelines/acme-pipeline/release-flows/development",
        {
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
                                "origin": {"id": "acme-web-builder", "branch": "main", "build": "latest"},
                                "target": {"id": "acme-web-web", "type": "service"},
                            },
                        }
                    ],
                },
            },
        },
    ),
    ("POST", "/v1/projects/acme-web/pipelines/acme-pipeline/release-flows/staging/runs", {"name": "promote-1"}),
    ("GET", "/v1/projects/acme-web/services?per_page=100&cursor=abc"),
]


class Api:
    """requests against the emulator with its token; ``call`` returns the response, ``data`` the unwrapped 2xx data."""

    def __init__(self, server: EmulatorProcess, token: str | None = None):
        self.url, self.token = server.url, server.token if token is None else token

    def call(self, method: str, path: str, body=None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return requests.request(method, self.url + path, json=body, headers=headers, timeout=kwargs.pop("timeout", 10), **kwargs)

    def data(self, method: str, path: str, body=None):
        resp = self.call(method, path, body)
        assert resp.status_code == 200, f"{method} {path} -> {resp.status_code} {resp.text}"
        return resp.json()["data"]

    def example(self, example: tuple, **substitutions) -> requests.Response:
        """Send one ``EXAMPLES`` entry; ``substitutions`` replace placeholders in its path."""
        method, path, *body = example
        for old, new in substitutions.items():
            path = path.replace(old, new)
        return self.call(method, path, body[0] if body else None)

    def poll(self, path: str, field: str, until: str, reads: int = 10) -> list:
        """The statuses seen by GET ``path`` until ``field`` equals ``until`` (each read moves one step)."""
        seen = []
        for _read in range(reads):
            seen.append(self.data("GET", path)[field])
            if seen[-1] == until:
                return seen
        raise AssertionError(f"{path}: {field} never became {until}: {seen}")


@pytest.fixture
def api(northflank) -> Api:
    """A clean emulator (empty state, full rate budget) and a client for it."""
    northflank.admin("PUT", "/_admin/state", {})
    northflank.admin("POST", "/_admin/rate-limit", {"budget": 1000, "window_seconds": 3600})
    return Api(northflank)


def logged(server: EmulatorProcess) -> list:
    return server.requests()["requests"]


def project(api: Api, name: str = "acme-web") -> None:
    api.data("POST", "/v1/projects", {"name": name, "region": "europe-west"})


BUILD_SERVICE = {"name": "acme-web-builder", "billing": {"buildPlan": "nf-compute-400-16"},
                 "vcsData": {"projectUrl": "https://github.com/acme/web", "projectType": "github"},
                 "buildSettings": {"buildpack": {"builder": "HEROKU_24"}}}
DEPLOYMENT_SERVICE = {"name": "acme-web-web", "billing": {"deploymentPlan": "nf-compute-20"},
                      "deployment": {"instances": 1, "internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"}},
                      "ports": [{"name": "web", "internalPort": 8080, "public": True, "protocol": "HTTP"}]}
ADDON = {"name": "acme-web-db", "type": "postgresql", "version": "16-latest", "billing": {"deploymentPlan": "nf-compute-50", "storage": 10240, "replicas": 1}}


def pipeline_template(name: str, stages: list) -> dict:
    """A template holding one Pipeline node (TEMPLATES.md §4.2), as the collection writes it."""
    node = {"kind": "Pipeline", "ref": "pipeline", "spec": {"name": "acme-pipeline", "projectId": "acme-web", "stages": stages}}
    return {"name": name, "apiVersion": "v1.2", "options": {"autorun": False, "runOnCreation": True},
            "spec": {"kind": "Workflow", "spec": {"type": "sequential", "context": {"projectId": "acme-web"}, "steps": [node]}}}


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
    ("unknown key", "POST", "/v1/projects", {"name": "bad-body", "region": "europe-west", "colour": "#fff"}, 400, "colour"),
    ("region and cluster", "POST", "/v1/projects", {"name": "both", "region": "europe-west", "clusterId": "c1"}, 400, "clusterId"),
    ("wrong enum", "POST", "/v1/projects/acme-web/secrets", {"name": "env", "secretType": "runtime", "priority": 10}, 400, "secretType"),
    ("missing required", "POST", "/v1/projects/acme-web/addons", {**ADDON, "billing": {"deploymentPlan": "nf-compute-50", "storage": 10240}},
     400, "billing.replicas"),
    ("wrong type in a union member", "POST", "/v1/projects/acme-web/services/deployment",
     {**DEPLOYMENT_SERVICE, "deployment": {"instances": 1, "internal": {"id": "acme-web-builder", "buildSHA": 1}}}, 400,
     "deployment.internal.buildSHA"),
    ("missing port protocol", "PATCH", "/v1/projects/acme-web/services/deployment/acme-web-web", {"ports": [{"name": "web", "internalPort": 80}]},
     400, "ports[0].protocol"),
    ("string for an int", "POST", "/v1/projects/acme-web/secrets", {"name": "env", "secretType": "environment", "priority": "10"}, 400, "priority"),
    ("docs rule: port name > 8", "POST", "/v1/projects/acme-web/services/deployment",
     {**DEPLOYMENT_SERVICE, "ports": [{"name": "webserver1", "internalPort": 80, "protocol": "HTTP"}]}, 400, "ports[].name"),
    ("docs rule: name pattern", "POST", "/v1/projects", {"name": "acme_web", "region": "europe-west"}, 400, "name='acme_web'"),
    ("docs rule: name length", "POST", "/v1/projects", {"name": "a" * 40, "region": "europe-west"}, 400, "length 3-39"),
    ("unknown query param", "GET", "/v1/projects?limit=5", None, 400, "limit"),
    ("per_page over 100", "GET", "/v1/projects?per_page=101", None, 400, "per_page"),
    ("body on a bodyless endpoint", "POST", "/v1/domains/acme.com/verify", {"force": True}, 400, "takes no JSON body"),
    ("deprecated endpoint", "POST", "/v1/projects/acme-web/jobs/cron", {"name": "cron"}, 400, "deprecated"),
    ("not an endpoint", "POST", "/v1/projects/acme-web/pipelines", {"name": "p"}, 404, "not a Northflank endpoint"),
]


@pytest.mark.contract_violations_expected
@pytest.mark.parametrize("case,method,path,body,status,field", INVALID, ids=[c[0] for c in INVALID])
def test_contract_violation_is_rejected_naming_the_field_and_logged(api, northflank, case, method, path, body, status, field):
    resp = api.call(method, path, body)
    assert resp.status_code == status, resp.text
    assert field in resp.json()["error"]["message"]
    entry = logged(northflank)[-1]
    assert field in entry["contract_error"]
    assert entry.get("body") == body


def test_an_sdk_route_the_emulator_does_not_serve_is_a_501_not_a_404(api):
    project(api)
    resp = api.call("POST", "/v1/projects/acme-web/services/web/restart")
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
    """All of ENDPOINTS.md's examples, in an order that gives each its prerequisites: the domain is verified before its
    subdomain and before a port lists it, the addon runs before its import, the pipeline comes from a template run,
    and the restore uses the backup the import created (the example's ``bk1`` stands for its ID)."""
    sent = []

    def send(index: int, **substitutions) -> requests.Response:
        resp = api.example(EXAMPLES[index], **substitutions)
        assert resp.status_code == 200, f"{EXAMPLES[index][:2]} -> {resp.status_code} {resp.text}"
        sent.append(index)
        return resp

    for i in (0, 12, 13, 14, 15, 1, 2, 3, 4, 5):  # project, domain + subdomain, services (one port lists www.acme.com), addon
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
    api.data("POST", "/v1/templates", pipeline_template("acme-pipeline", [
        {"name": "Development", "nfObjects": [{"id": "acme-web-web", "type": "service"}]},
        {"name": "Staging", "nfObjects": [{"id": "acme-web-worker", "type": "service"}]}]))
    send(19)
    api.data("POST", "/v1/projects/acme-web/pipelines/acme-pipeline/release-flows/staging",
             {"apiVersion": "v1.2", "spec": {"kind": "Workflow", "spec": {"type": "sequential", "steps": []}}})
    send(20)
    assert send(21).json()["pagination"]["count"] == 4  # the cursor is an ID: all four services sort after "abc"
    assert sorted(sent) == list(range(len(EXAMPLES)))
    assert not [e for e in logged(northflank) if e.get("response_error")]


# -- identity and write semantics -----------------------------------------------------------------------------
def test_post_on_an_existing_derived_id_is_a_409_with_northflank_text(api):
    api.data("POST", "/v1/projects", {"name": "My App", "region": "europe-west"})
    assert api.data("GET", "/v1/projects/my-app")["name"] == "My App"
    resp = api.call("POST", "/v1/projects", {"name": "my-app", "region": "europe-west"})  # same derived ID
    assert resp.status_code == 409
    assert resp.json()["error"] == {"status": 409, "message": "There is already a project with the same derived identifier"}
    api.data("POST", "/v1/domains", {"domain": "acme.com"})
    resp = api.call("POST", "/v1/domains", {"domain": "acme.com"})
    assert resp.status_code == 409 and resp.json()["error"]["message"] == "The domain is already registered with this account"


def test_put_creates_then_replaces_the_whole_spec(api):
    project(api)
    body = {"name": "acme-web-env", "secretType": "environment", "priority": 10, "secrets": {"variables": {"A": "1", "B": "2"}}, "tags": ["app"]}
    created = api.data("PUT", "/v1/projects/acme-web/secrets", body)
    assert created["id"] == "acme-web-env"
    updated = api.data("PUT", "/v1/projects/acme-web/secrets", {**body, "secrets": {"variables": {"A": "9"}}, "tags": ["web"]})
    assert updated["createdAt"] == created["createdAt"]
    assert api.data("GET", "/v1/projects/acme-web/secrets/acme-web-env")["secrets"]["variables"] == {"A": "9"}  # B is gone
    assert [s["id"] for s in api.data("GET", "/v1/projects/acme-web/secrets")["secrets"]] == ["acme-web-env"]


def test_put_on_a_service_of_another_kind_is_a_409(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    resp = api.call("PUT", "/v1/projects/acme-web/services/deployment", {**DEPLOYMENT_SERVICE, "name": "acme-web-builder"})
    assert resp.status_code == 409 and "build service" in resp.json()["error"]["message"]


def test_get_service_returns_its_type_and_echoes_the_spec(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    api.data("PUT", "/v1/projects/acme-web/services/deployment", DEPLOYMENT_SERVICE)
    build = api.data("GET", "/v1/projects/acme-web/services/acme-web-builder")
    assert build["serviceType"] == "build" and build["buildSettings"] == BUILD_SERVICE["buildSettings"]
    assert build["vcsData"]["projectUrl"] == "https://github.com/acme/web"
    web = api.data("GET", "/v1/projects/acme-web/services/acme-web-web")
    assert web["serviceType"] == "deployment"
    assert {k: web[k] for k in ("billing", "deployment", "ports")} == {k: DEPLOYMENT_SERVICE[k] for k in ("billing", "deployment", "ports")}


def test_patch_merges_objects_and_replaces_maps(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    api.data("PUT", "/v1/projects/acme-web/services/deployment", {**DEPLOYMENT_SERVICE, "runtimeEnvironment": {"A": "1", "B": "2"}})
    api.data("PATCH", "/v1/projects/acme-web/services/deployment/acme-web-web", {"deployment": {"instances": 3}, "runtimeEnvironment": {"A": "9"}})
    web = api.data("GET", "/v1/projects/acme-web/services/acme-web-web")
    assert web["deployment"] == {**DEPLOYMENT_SERVICE["deployment"], "instances": 3}  # the build source survives a scale
    assert web["runtimeEnvironment"] == {"A": "9"}
    api.data("PATCH", "/v1/projects/acme-web/services/deployment/acme-web-web",
             {"deployment": {"instances": 1, "external": {"imagePath": "nginx:latest"}}})
    assert api.data("GET", "/v1/projects/acme-web/services/acme-web-web")["deployment"] == {"instances": 1, "external": {"imagePath": "nginx:latest"}}


def test_references_must_exist(api):
    project(api)
    resp = api.call("POST", "/v1/projects/acme-web/services/deployment", DEPLOYMENT_SERVICE)  # no build service yet
    assert resp.status_code == 404 and "acme-web-builder" in resp.json()["error"]["message"]
    ports = [{"name": "web", "internalPort": 8080, "protocol": "HTTP", "public": True, "domains": ["www.unknown.com"]}]
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    resp = api.call("POST", "/v1/projects/acme-web/services/deployment", {**DEPLOYMENT_SERVICE, "ports": ports})
    assert resp.status_code == 404 and "has not been registered" in resp.json()["error"]["message"]
    secret = {"name": "env", "secretType": "environment", "priority": 1, "addonDependencies": [{"addonId": "db", "keys": [{"keyName": "POSTGRES_URI"}]}]}
    assert api.call("POST", "/v1/projects/acme-web/secrets", secret).status_code == 404


def test_delete_project_with_children_needs_delete_child_objects(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    resp = api.call("DELETE", "/v1/projects/acme-web")
    assert resp.status_code == 409 and "dependencies" in resp.json()["error"]["message"]
    api.data("DELETE", "/v1/projects/acme-web?delete_child_objects=true")
    assert api.call("GET", "/v1/projects/acme-web").status_code == 404
    project(api, "empty-one")
    api.data("DELETE", "/v1/projects/empty-one")


def test_addon_immutable_fields(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/addons", ADDON)
    resp = api.call("PUT", "/v1/projects/acme-web/addons", {**ADDON, "billing": {**ADDON["billing"], "storage": 5120}})
    assert resp.status_code == 400 and "only be increased" in resp.json()["error"]["message"]
    resp = api.call("PUT", "/v1/projects/acme-web/addons", {**ADDON, "type": "mysql", "version": "latest"})
    assert resp.status_code == 400 and "cannot be changed" in resp.json()["error"]["message"]
    redis = {**ADDON, "name": "cache", "type": "redis", "version": "7-latest", "billing": {**ADDON["billing"], "storage": 2048}}
    resp = api.call("POST", "/v1/projects/acme-web/addons", redis)
    assert resp.status_code == 400 and "4096" in resp.json()["error"]["message"]


def test_addon_upgrades_only_to_offered_versions_and_lists_its_schedules(api):
    project(api)
    schedule = {"scheduling": {"interval": "daily", "minute": [0], "hour": [3]}, "backupType": "dump", "retentionTime": 7, "compressionType": "zstd"}
    api.data("PUT", "/v1/projects/acme-web/addons", {**ADDON, "backupSchedules": [schedule]})
    version = api.data("GET", "/v1/projects/acme-web/addons/acme-web-db/version")
    assert version["version"] == "16.8.0" and version["upgradeTo"] == [{"version": "17.4.0", "type": "major"}]
    resp = api.call("POST", "/v1/projects/acme-web/addons/acme-web-db/version", {"version": "15.12.0"})
    assert resp.status_code == 400 and "not an upgrade" in resp.json()["error"]["message"]
    assert api.data("POST", "/v1/projects/acme-web/addons/acme-web-db/version", {"version": "17.4.0"}) == {}
    assert api.poll("/v1/projects/acme-web/addons/acme-web-db", "status", "running") == ["running"]
    version = api.data("GET", "/v1/projects/acme-web/addons/acme-web-db/version")
    assert version["version"] == "17.4.0" and version["upgradeTo"] == [] and version["upgradeHistory"][0]["previousVersion"] == "16.8.0"
    schedules = api.data("GET", "/v1/projects/acme-web/addons/acme-web-db/backup-schedules")["schedules"]
    assert schedules[0]["backupCompressionType"] == "zstd" and schedules[0]["scheduling"] == schedule["scheduling"]


# -- asynchronous resources: one step per read ----------------------------------------------------------------
def test_project_addon_build_and_job_run_progress_one_step_per_read(api):
    assert api.data("POST", "/v1/projects", {"name": "acme-web", "region": "europe-west"})["lifecycleStatus"] == "creating"
    assert api.poll("/v1/projects/acme-web", "lifecycleStatus", "created") == ["created"]
    assert api.data("POST", "/v1/projects/acme-web/addons", ADDON)["status"] == "preDeployment"
    assert api.poll("/v1/projects/acme-web/addons/acme-web-db", "status", "running") == [
        "triggerAllocation", "allocating", "postDeployment", "running"]
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    build = api.data("POST", "/v1/projects/acme-web/services/acme-web-builder/build", {"branch": "main"})
    assert build["status"] == "QUEUED" and len(build["sha"]) == 40
    path = f"/v1/projects/acme-web/services/acme-web-builder/build/{build['id']}"
    assert api.poll(path, "status", "SUCCESS") == ["BUILDING", "SUCCESS"]
    assert api.data("GET", path)["concluded"] is True
    assert api.data("GET", "/v1/projects/acme-web/services/acme-web-builder")["status"]["build"]["status"] == "SUCCESS"
    api.data("PUT", "/v1/projects/acme-web/jobs", {"name": "release", "billing": {"deploymentPlan": "nf-compute-20"},
                                                   "deployment": {"internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"}},
                                                   "settings": {"backoffLimit": 0}})
    assert api.data("GET", "/v1/projects/acme-web/jobs/release")["jobType"] == "manual"
    run = api.data("POST", "/v1/projects/acme-web/jobs/release/runs", {"runtimeEnvironment": {"X": "1"}})
    assert api.poll(f"/v1/projects/acme-web/jobs/release/runs/{run['id']}", "status", "SUCCESS") == ["SUCCESS"]


def test_project_without_region_waits_for_initialize(api):
    assert api.data("POST", "/v1/projects", {"name": "later"})["lifecycleStatus"] == "pending_initialization"
    assert api.data("GET", "/v1/projects/later")["lifecycleStatus"] == "pending_initialization"
    api.data("POST", "/v1/projects/later/initialize", {"region": "us-east1"})
    assert api.poll("/v1/projects/later", "lifecycleStatus", "created") == ["created"]


def test_import_waits_for_the_addon_then_completes_and_restores(api):
    project(api)
    api.data("POST", "/v1/projects/acme-web/addons", ADDON)
    assert api.data("POST", "/v1/projects/acme-web/addons/acme-web-db/import", {"name": "heroku/1", "importUrl": "https://x/dump.gz"}) == {}
    backups = "/v1/projects/acme-web/addons/acme-web-db/backups"
    assert [b["status"] for b in api.data("GET", backups)["backups"]] == ["scheduled"]  # the addon is not running yet
    api.poll("/v1/projects/acme-web/addons/acme-web-db", "status", "running")
    listed = api.data("GET", backups)["backups"][0]  # a list read is a read too
    assert listed["status"] == "in-progress" and listed["name"] == "heroku/1"
    backup_id = listed["id"]
    assert api.poll(f"{backups}/{backup_id}", "status", "completed") == ["completed"]
    restore = api.data("POST", f"{backups}/{backup_id}/restore")["restoreId"]
    assert [r["status"] for r in api.data("GET", f"{backups}/{backup_id}/restores")["restores"]] == ["completed"]
    assert api.data("GET", "/v1/projects/acme-web/addons/acme-web-db/restores")["restores"][0]["id"] == restore


def test_secret_group_shows_linked_addon_keys_only_when_asked(api):
    project(api)
    api.data("POST", "/v1/projects/acme-web/addons", ADDON)
    api.data("POST", "/v1/projects/acme-web/secrets", {"name": "env", "secretType": "environment", "priority": 1, "secrets": {"variables": {"A": "1"}}})
    link = api.data("POST", "/v1/projects/acme-web/secrets/env/addons/acme-web-db",
                    {"keys": [{"keyName": "POSTGRES_URI", "aliases": ["DATABASE_URL"]}, {"keyName": "HOST"}]})
    assert link["keys"][1] == {"keyName": "HOST", "defaultKey": "NF_ACME_WEB_DB_HOST"}
    assert api.data("GET", "/v1/projects/acme-web/secrets/env?show=this")["secrets"]["variables"] == {"A": "1"}
    variables = api.data("GET", "/v1/projects/acme-web/secrets/env?show=all")["secrets"]["variables"]
    assert variables["DATABASE_URL"].startswith("postgresql://") and "NF_ACME_WEB_DB_HOST" in variables
    assert api.data("GET", "/v1/projects/acme-web/secrets/env/addons/acme-web-db")["linked"] is True


# -- domains, templates, pipelines, release flows -------------------------------------------------------------
def test_subdomains_need_a_verified_domain_and_failed_checks_are_400(api):
    api.data("POST", "/v1/domains", {"domain": "acme.com"})
    resp = api.call("POST", "/v1/domains/acme.com/subdomains", {"subdomain": "www"})
    assert resp.status_code == 400 and "not been verified" in resp.json()["error"]["message"]
    api.data("POST", "/v1/domains", {"domain": "nope.invalid"})
    assert api.call("POST", "/v1/domains/nope.invalid/verify").status_code == 400
    api.data("POST", "/v1/domains/acme.com/verify")
    sub = api.data("POST", "/v1/domains/acme.com/subdomains", {"subdomain": "www"})
    assert sub["fullName"] == "www.acme.com" and sub["recordType"] == "CNAME" and sub["verified"] is False
    assert api.call("POST", "/v1/domains/acme.com/subdomains", {"subdomain": "www"}).json()["error"]["message"] == \
        "The subdomain has already been added to this domain"
    api.data("POST", "/v1/domains/acme.com/subdomains/www/verify")
    assert api.data("GET", "/v1/domains/acme.com/subdomains/www")["verified"] is True
    assert api.data("GET", "/v1/domains/acme.com")["subdomains"] == [{"name": "www", "fullName": "www.acme.com"}]


def test_a_linked_subdomain_is_listed_on_the_service_port(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    api.data("PUT", "/v1/projects/acme-web/services/deployment", DEPLOYMENT_SERVICE)
    api.data("POST", "/v1/domains", {"domain": "acme.com"})
    api.data("POST", "/v1/domains/acme.com/verify")
    api.data("POST", "/v1/domains/acme.com/subdomains", {"subdomain": "www"})
    assign = "/v1/domains/acme.com/subdomains/www/assign"
    link = {"projectId": "acme-web", "serviceId": "acme-web-web", "portName": "web"}
    assert api.call("POST", assign, link).status_code == 400  # the subdomain is not verified yet
    api.data("POST", "/v1/domains/acme.com/subdomains/www/verify")
    assert api.call("POST", assign, {**link, "portName": "admin"}).status_code == 404
    api.data("POST", assign, link)
    assert api.data("GET", "/v1/projects/acme-web/services/acme-web-web")["ports"][0]["domains"] == ["www.acme.com"]
    api.data("DELETE", assign)
    assert api.data("GET", "/v1/projects/acme-web/services/acme-web-web")["ports"][0]["domains"] == []


def test_a_template_with_a_pipeline_node_creates_the_pipeline_and_its_flows(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    api.data("PUT", "/v1/projects/acme-web/services/deployment", DEPLOYMENT_SERVICE)
    flow = {"kind": "ReleaseFlow", "spec": {"apiVersion": "v1.2", "spec": {"kind": "Workflow", "spec": {"type": "sequential", "steps": [
        {"kind": "Release", "spec": {"type": "build", "origin": {"id": "${template.args.BUILDER}", "branch": "main", "build": "latest"},
                                     "target": {"id": "${refs.web.id}", "type": "service"}}}]}}}}
    body = pipeline_template("acme-pipeline", [{"name": "Development", "nfObjects": [{"id": "acme-web-web", "type": "service"}],
                                                "releaseFlow": flow}])
    body["arguments"] = {"BUILDER": "acme-web-builder"}
    created = api.data("POST", "/v1/templates", body)
    assert created["template"]["id"] == "acme-pipeline" and created["templateRun"]["status"] == "running"
    run_path = f"/v1/templates/acme-pipeline/runs/{created['templateRun']['id']}"
    assert api.poll(run_path, "status", "success") == ["success"]
    node = api.data("GET", run_path)["spec"]["spec"]["steps"][0]
    assert node["response"]["status"] == "success"
    assert api.data("GET", "/v1/projects/acme-web/pipelines/acme-pipeline")["nfObjects"] == [
        {"id": "acme-web-web", "type": "service", "stage": "Development"}]
    steps = api.data("GET", "/v1/projects/acme-web/pipelines/acme-pipeline/release-flows/development")["spec"]["spec"]["steps"]
    assert steps[0]["spec"]["origin"]["id"] == "acme-web-builder"  # ${template.…} resolved by the parent run
    assert steps[0]["spec"]["target"]["id"] == "${refs.web.id}"  # kept for the flow's own run
    assert [p["id"] for p in api.data("GET", "/v1/projects/acme-web/pipelines")["pipelines"]] == ["acme-pipeline"]
    api.data("DELETE", "/v1/templates/acme-pipeline")
    assert api.call("GET", run_path).status_code == 404
    assert api.data("GET", "/v1/projects/acme-web/pipelines/acme-pipeline")["name"] == "acme-pipeline"  # what a template made stays


def test_a_pipeline_node_with_an_ineligible_member_fails_the_run(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    run = api.data("POST", "/v1/templates", pipeline_template("bad", [
        {"name": "Development", "nfObjects": [{"id": "acme-web-builder", "type": "service"}]}]))["templateRun"]
    assert api.poll(f"/v1/templates/bad/runs/{run['id']}", "status", "failure") == ["failure"]
    node = api.data("GET", f"/v1/templates/bad/runs/{run['id']}")["spec"]["spec"]["steps"][0]
    assert "cannot join a pipeline" in node["response"]["error"]["message"]
    assert api.call("GET", "/v1/projects/acme-web/pipelines/acme-pipeline").status_code == 404


def test_template_resource_nodes_go_through_the_rest_contract(api):
    project(api)
    body = {"name": "nodes", "apiVersion": "v1.2", "arguments": {"PLAN": "nf-compute-20"},
            "spec": {"kind": "Workflow", "spec": {"type": "sequential", "context": {"projectId": "acme-web"}, "steps": [
                {"kind": "BuildService", "ref": "builder", "spec": BUILD_SERVICE},
                {"kind": "DeploymentService", "spec": {**DEPLOYMENT_SERVICE, "billing": {"deploymentPlan": "${args.PLAN}"},
                                                       "deployment": {"instances": 1, "internal": {"id": "${refs.builder.id}", "branch": "main"}}}},
                {"kind": "SecretGroup", "spec": {"name": "env", "secretType": "runtime", "priority": 1}}]}}}
    api.data("POST", "/v1/templates", body)
    run = api.data("POST", "/v1/templates/nodes/runs", {})
    steps = api.data("GET", f"/v1/templates/nodes/runs/{run['id']}")["spec"]["spec"]["steps"]
    assert [s["response"]["status"] for s in steps] == ["success", "success", "failure"]
    assert "secretType" in steps[2]["response"]["error"]["message"]
    assert api.data("GET", "/v1/projects/acme-web/services/acme-web-web")["billing"] == {"deploymentPlan": "nf-compute-20"}


def test_release_flows_are_set_read_and_run(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    api.data("PUT", "/v1/projects/acme-web/services/deployment", DEPLOYMENT_SERVICE)
    api.data("POST", "/v1/templates", pipeline_template("acme-pipeline", [
        {"name": "Development", "nfObjects": [{"id": "acme-web-web", "type": "service"}]}]))
    flows = "/v1/projects/acme-web/pipelines/acme-pipeline/release-flows"
    assert api.call("GET", f"{flows}/development").status_code == 404
    release = {"kind": "Release", "spec": {"type": "build", "origin": {"id": "acme-web-builder", "branch": "main", "build": "latest"},
                                           "target": {"id": "acme-web-web", "type": "service"}}}
    flow = {"apiVersion": "v1.2", "options": {"paused": True}, "spec": {"kind": "Workflow", "spec": {"type": "sequential", "steps": [release]}}}
    assert api.data("POST", f"{flows}/development", flow) == {}
    read = api.data("GET", f"{flows}/Development")
    assert read["stage"] == "Development" and read["paused"] is True and read["spec"] == flow["spec"]
    run = api.data("POST", f"{flows}/development/runs", {"name": "deploy-1"})
    assert api.poll(f"{flows}/development/runs/{run['id']}", "status", "success") == ["success"]
    assert [r["name"] for r in api.data("GET", f"{flows}/development/runs")["runs"]] == ["deploy-1"]
    elsewhere = {**release, "spec": {**release["spec"], "target": {"id": "not-in-stage", "type": "service"}}}
    api.data("POST", f"{flows}/staging", {"apiVersion": "v1.2", "spec": {"kind": "Workflow", "spec": {"type": "sequential", "steps": [elsewhere]}}})
    run = api.data("POST", f"{flows}/staging/runs", {})
    assert api.poll(f"{flows}/staging/runs/{run['id']}", "status", "failure") == ["failure"]


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
    assert api.call("GET", "/v1/projects?per_page=50&page=3").json()["pagination"] == {"hasNextPage": False, "count": 20}


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
    deployment = {**DEPLOYMENT_SERVICE, "name": "sdk-web", "deployment": {"instances": 1, "internal": {"id": "sdk-builder", "branch": "main"}}}
    client.put.service.deployment(project_id="sdk-app", data=deployment)
    build_id = client.start.service.build(project_id="sdk-app", service_id="sdk-builder", data={"branch": "main"}).data["id"]
    client.put.addon(project_id="sdk-app", data={**ADDON, "name": "sdk-db"})
    statuses = [client.get.addon(project_id="sdk-app", addon_id="sdk-db").data["status"] for _read in range(4)]
    assert statuses[-1] == "running"
    client.import_.addon.backup(project_id="sdk-app", addon_id="sdk-db", data={"name": "sdk-import", "importUrl": "https://x/dump.gz"})
    backup_id = client.get.addon.backups(project_id="sdk-app", addon_id="sdk-db").data["backups"][0]["id"]
    client.get.addon.backup(project_id="sdk-app", addon_id="sdk-db", backup_id=backup_id)
    client.restore.addon.backup(project_id="sdk-app", addon_id="sdk-db", backup_id=backup_id)
    client.put.secret(project_id="sdk-app", data={"name": "sdk-env", "secretType": "environment", "priority": 1})
    client.update.secret_link(project_id="sdk-app", secret_id="sdk-env", addon_id="sdk-db", data={"keys": [{"keyName": "POSTGRES_URI"}]})
    job = {"name": "sdk-job", "billing": {"deploymentPlan": "nf-compute-20"}, "settings": {"backoffLimit": 0},
           "deployment": {"internal": {"id": "sdk-builder", "branch": "main", "buildSHA": "latest"}}}
    client.put.job(project_id="sdk-app", data=job)
    job_run = client.start.job.run(project_id="sdk-app", job_id="sdk-job", data={}).data["id"]
    client.create.volume(project_id="sdk-app", data={"name": "sdk-data", "mounts": [{"containerMountPath": "/data"}],
                                                     "spec": {"accessMode": "ReadWriteOnce", "storageSize": 1024}})
    client.create.domain(data={"domain": "sdk.example.com"})
    client.verify.domain(domain="sdk.example.com")
    client.add.domain.subdomain(domain="sdk.example.com", data={"subdomain": "www"})
    client.verify.subdomain(domain="sdk.example.com", subdomain="www")
    client.assign.subdomain.service(domain="sdk.example.com", subdomain="www", data={"projectId": "sdk-app", "serviceId": "sdk-web", "portName": "web"})
    template = pipeline_template("sdk-template", [{"name": "Development", "nfObjects": [{"id": "sdk-web", "type": "service"}]}])
    template["spec"]["spec"]["steps"][0]["spec"].update(name="sdk-pipeline", projectId="sdk-app")
    template_run = client.create.template(data=template).data["templateRun"]["id"]
    client.update.release_flow(project_id="sdk-app", pipeline_id="sdk-pipeline", stage="development",
                               data={"apiVersion": "v1.2", "spec": {"kind": "Workflow", "spec": {"type": "sequential", "steps": []}}})
    flow_run = client.run.release_flow(project_id="sdk-app", pipeline_id="sdk-pipeline", stage="development", data={"name": "sdk-run"}).data["id"]

    world = {"projectId": "sdk-app", "serviceId": "sdk-builder", "buildId": build_id, "secretId": "sdk-env", "addonId": "sdk-db",
             "backupId": backup_id, "jobId": "sdk-job", "runId": job_run, "volumeId": "sdk-data", "domain": "sdk.example.com",
             "subdomain": "www", "templateId": "sdk-template", "templateRunId": template_run, "pipelineId": "sdk-pipeline", "stage": "development"}
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

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Northflank emulator: projects, services, addons (imports, restores), jobs and secret groups."""

from __future__ import annotations

from tests.integration.northflank_emulator_api import ADDON, BUILD_SERVICE, DEPLOYMENT_SERVICE, project


# -- identity and write semantics -----------------------------------------------------------------------------
def test_post_on_an_existing_derived_id_is_a_409_with_northflank_text(api):
    api.data("POST", "/v1/projects", {"name": "My App", "region": "europe-west"})
    assert api.data("GET", "/v1/projects/my-app")["name"] == "My App"
    resp = api.call("POST", "/v1/projects", {"name": "my-app", "region": "europe-west"})  # same derived ID
    assert resp.status_code == 409
    assert resp.json()["error"] == {
        "status": 409,
        "message": "There is already a project with the same derived identifier",
    }
    api.data("POST", "/v1/domains", {"domain": "acme.com"})
    resp = api.call("POST", "/v1/domains", {"domain": "acme.com"})
    assert (
        resp.status_code == 409
        and resp.json()["error"]["message"] == "The domain is already registered with this account"
    )


def test_put_creates_then_replaces_the_whole_spec(api):
    project(api)
    body = {
        "name": "acme-web-env",
        "secretType": "environment",
        "priority": 10,
        "secrets": {"variables": {"A": "1", "B": "2"}},
        "tags": ["app"],
    }
    created = api.data("PUT", "/v1/projects/acme-web/secrets", body)
    assert created["id"] == "acme-web-env"
    updated = api.data(
        "PUT", "/v1/projects/acme-web/secrets", {**body, "secrets": {"variables": {"A": "9"}}, "tags": ["web"]}
    )
    assert updated["createdAt"] == created["createdAt"]
    assert api.data("GET", "/v1/projects/acme-web/secrets/acme-web-env")["secrets"]["variables"] == {
        "A": "9"
    }  # B is gone
    assert [s["id"] for s in api.data("GET", "/v1/projects/acme-web/secrets")["secrets"]] == ["acme-web-env"]


def test_put_on_a_service_of_another_kind_is_a_409(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    resp = api.call(
        "PUT", "/v1/projects/acme-web/services/deployment", {**DEPLOYMENT_SERVICE, "name": "acme-web-builder"}
    )
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
    assert {k: web[k] for k in ("billing", "deployment", "ports")} == {
        k: DEPLOYMENT_SERVICE[k] for k in ("billing", "deployment", "ports")
    }


def test_patch_merges_objects_and_replaces_maps(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    api.data(
        "PUT",
        "/v1/projects/acme-web/services/deployment",
        {**DEPLOYMENT_SERVICE, "runtimeEnvironment": {"A": "1", "B": "2"}},
    )
    api.data(
        "PATCH",
        "/v1/projects/acme-web/services/deployment/acme-web-web",
        {"deployment": {"instances": 3}, "runtimeEnvironment": {"A": "9"}},
    )
    web = api.data("GET", "/v1/projects/acme-web/services/acme-web-web")
    assert web["deployment"] == {
        **DEPLOYMENT_SERVICE["deployment"],
        "instances": 3,
    }  # the build source survives a scale
    assert web["runtimeEnvironment"] == {"A": "9"}
    api.data(
        "PATCH",
        "/v1/projects/acme-web/services/deployment/acme-web-web",
        {"deployment": {"instances": 1, "external": {"imagePath": "nginx:latest"}}},
    )
    assert api.data("GET", "/v1/projects/acme-web/services/acme-web-web")["deployment"] == {
        "instances": 1,
        "external": {"imagePath": "nginx:latest"},
    }


def test_references_must_exist(api):
    project(api)
    resp = api.call("POST", "/v1/projects/acme-web/services/deployment", DEPLOYMENT_SERVICE)  # no build service yet
    assert resp.status_code == 404 and "acme-web-builder" in resp.json()["error"]["message"]
    ports = [{"name": "web", "internalPort": 8080, "protocol": "HTTP", "public": True, "domains": ["www.unknown.com"]}]
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    resp = api.call("POST", "/v1/projects/acme-web/services/deployment", {**DEPLOYMENT_SERVICE, "ports": ports})
    assert resp.status_code == 404 and "has not been registered" in resp.json()["error"]["message"]
    secret = {
        "name": "env",
        "secretType": "environment",
        "priority": 1,
        "addonDependencies": [{"addonId": "db", "keys": [{"keyName": "POSTGRES_URI"}]}],
    }
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


def test_addon_upgrades_only_to_offered_versions_and_lists_its_schedules(api):
    project(api)
    schedule = {
        "scheduling": {"interval": "daily", "minute": [0], "hour": [3]},
        "backupType": "dump",
        "retentionTime": 7,
        "compressionType": "zstd",
    }
    api.data("PUT", "/v1/projects/acme-web/addons", {**ADDON, "backupSchedules": [schedule]})
    version = api.data("GET", "/v1/projects/acme-web/addons/acme-web-db/version")
    assert version["version"] == "16.8.0" and version["upgradeTo"] == [{"version": "17.4.0", "type": "major"}]
    resp = api.call("POST", "/v1/projects/acme-web/addons/acme-web-db/version", {"version": "15.12.0"})
    assert resp.status_code == 400 and "not an upgrade" in resp.json()["error"]["message"]
    assert api.data("POST", "/v1/projects/acme-web/addons/acme-web-db/version", {"version": "17.4.0"}) == {}
    assert api.poll("/v1/projects/acme-web/addons/acme-web-db", "status", "running") == ["running"]
    version = api.data("GET", "/v1/projects/acme-web/addons/acme-web-db/version")
    assert (
        version["version"] == "17.4.0"
        and version["upgradeTo"] == []
        and version["upgradeHistory"][0]["previousVersion"] == "16.8.0"
    )
    schedules = api.data("GET", "/v1/projects/acme-web/addons/acme-web-db/backup-schedules")["schedules"]
    assert schedules[0]["backupCompressionType"] == "zstd" and schedules[0]["scheduling"] == schedule["scheduling"]


# -- asynchronous resources: one step per read ----------------------------------------------------------------
def test_project_addon_build_and_job_run_progress_one_step_per_read(api):
    assert (
        api.data("POST", "/v1/projects", {"name": "acme-web", "region": "europe-west"})["lifecycleStatus"] == "creating"
    )
    assert api.poll("/v1/projects/acme-web", "lifecycleStatus", "created") == ["created"]
    assert api.data("POST", "/v1/projects/acme-web/addons", ADDON)["status"] == "preDeployment"
    assert api.poll("/v1/projects/acme-web/addons/acme-web-db", "status", "running") == [
        "triggerAllocation",
        "allocating",
        "postDeployment",
        "running",
    ]
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    build = api.data("POST", "/v1/projects/acme-web/services/acme-web-builder/build", {"branch": "main"})
    assert build["status"] == "QUEUED" and len(build["sha"]) == 40
    path = f"/v1/projects/acme-web/services/acme-web-builder/build/{build['id']}"
    assert api.poll(path, "status", "SUCCESS") == ["BUILDING", "SUCCESS"]
    assert api.data("GET", path)["concluded"] is True
    assert api.data("GET", "/v1/projects/acme-web/services/acme-web-builder")["status"]["build"]["status"] == "SUCCESS"
    api.data(
        "PUT",
        "/v1/projects/acme-web/jobs",
        {
            "name": "release",
            "billing": {"deploymentPlan": "nf-compute-20"},
            "deployment": {"internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"}},
            "settings": {"backoffLimit": 0},
        },
    )
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
    assert (
        api.data(
            "POST",
            "/v1/projects/acme-web/addons/acme-web-db/import",
            {"name": "heroku/1", "importUrl": "https://x/dump.gz"},
        )
        == {}
    )
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
    api.data(
        "POST",
        "/v1/projects/acme-web/secrets",
        {"name": "env", "secretType": "environment", "priority": 1, "secrets": {"variables": {"A": "1"}}},
    )
    link = api.data(
        "POST",
        "/v1/projects/acme-web/secrets/env/addons/acme-web-db",
        {"keys": [{"keyName": "POSTGRES_URI", "aliases": ["DATABASE_URL"]}, {"keyName": "HOST"}]},
    )
    assert link["keys"][1] == {"keyName": "HOST", "defaultKey": "NF_ACME-WEB-DB_HOST"}
    assert api.data("GET", "/v1/projects/acme-web/secrets/env?show=this")["secrets"]["variables"] == {"A": "1"}
    variables = api.data("GET", "/v1/projects/acme-web/secrets/env?show=all")["secrets"]["variables"]
    assert variables["DATABASE_URL"].startswith("postgresql://") and "NF_ACME-WEB-DB_HOST" in variables
    assert api.data("GET", "/v1/projects/acme-web/secrets/env/addons/acme-web-db")["linked"] is True

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Northflank emulator: what a cut-over uses. Service restart, pause, resume and scale; addon restart, pause and
resume; job runs with their body checked and a failure a test can ask for; addon links whose aliases show in the
group's resolved variables and never collide with the group's own."""

from __future__ import annotations

import pytest

from tests.integration.northflank_emulator_api import ADDON, BUILD_SERVICE, DEPLOYMENT_SERVICE, project

SVC = "/v1/projects/acme-web/services/acme-web-web"
PATCH_SVC = "/v1/projects/acme-web/services/deployment/acme-web-web"
NOT_PAUSED = "The service could not be resumed as it is not paused"
ADDON_PATH = "/v1/projects/acme-web/addons/acme-web-db"
JOB = "/v1/projects/acme-web/jobs/acme-web-release"
GROUP = "/v1/projects/acme-web/secrets/acme-web-env"
RELEASE_JOB = {"name": "acme-web-release", "billing": {"deploymentPlan": "nf-compute-20"},
               "deployment": {"internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"}},
               "settings": {"backoffLimit": 1}}
COPIED = "postgres://heroku-user:pw@ec2.compute.amazonaws.com:5432/d1"
LINK = {"addonId": "acme-web-db", "keys": [{"keyName": "POSTGRES_URI", "aliases": ["DATABASE_URL"]}]}


@pytest.fixture
def web(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    api.data("PUT", "/v1/projects/acme-web/services/deployment", DEPLOYMENT_SERVICE)
    assert rollout(api)[-1] == ("COMPLETED", "DEPLOYING")
    return api


def rollout(api, reads: int = 5) -> list:
    """(status, reason) of each read until the rollout concludes."""
    seen = []
    for _read in range(reads):
        deployment = api.data("GET", SVC)["status"]["deployment"]
        seen.append((deployment["status"], deployment["reason"]))
        if deployment["status"] in ("COMPLETED", "FAILED"):
            return seen
    raise AssertionError(f"the rollout never concluded: {seen}")


# -- services ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, path, body, reason, instances", [
    ("POST", f"{SVC}/restart", None, "DEPLOYING", 1),
    ("PATCH", PATCH_SVC, {"deployment": {"instances": 3}}, "DEPLOYING", 3),
])
def test_a_restart_or_a_change_rolls_out_to_completed(web, method, path, body, reason, instances):
    web.data(method, path, body)
    assert rollout(web) == [("IN_PROGRESS", reason), ("COMPLETED", reason)]  # PENDING until the first read
    assert web.data("GET", SVC)["deployment"]["instances"] == instances


def test_pause_and_resume_follow_the_documented_conflicts(web):
    assert web.call("POST", f"{SVC}/resume").json()["error"]["message"] == NOT_PAUSED
    web.data("POST", f"{SVC}/pause")
    assert rollout(web)[-1] == ("COMPLETED", "SCALING")
    for action, status in (("pause", 409), ("restart", 409)):
        assert web.call("POST", f"{SVC}/{action}").status_code == status, action
    web.data("POST", f"{SVC}/resume", {"instances": 2})
    assert rollout(web)[-1] == ("COMPLETED", "SCALING")
    assert web.data("GET", SVC)["deployment"]["instances"] == 2


@pytest.mark.contract_violations_expected
@pytest.mark.parametrize("path, body, status", [
    ("/v1/projects/acme-web/services/acme-web-builder/restart", None, 400),   # a build service runs nothing
    ("/v1/projects/acme-web/services/nope/restart", None, 404),
    (f"{SVC}/scale", {"instances": 2}, 400),                                  # deprecated: PATCH deployment.instances
    (f"{SVC}/resume", {"instances": "2"}, 400),                               # ResumeServiceRequest.instances is an int
    (f"{SVC}/resume", {"replicas": 2}, 400),                                  # not a field of ResumeServiceRequest
])
def test_service_actions_refuse_what_northflank_refuses(web, path, body, status):
    assert web.call("POST", path, body).status_code == status


def test_a_rollout_fails_when_a_test_asks_for_it(web):
    knob = {"project": "acme-web", "service": "acme-web-web", "outcome": "FAILED"}
    resp = web.call("POST", "/_admin/next-outcome", knob)
    assert resp.status_code == 200 and resp.json()["outcomes"] == {"service:acme-web/acme-web-web": ["FAILED"]}
    web.data("POST", f"{SVC}/restart")
    assert rollout(web) == [("IN_PROGRESS", "DEPLOYING"), ("FAILED", "DEPLOYING")]
    web.data("POST", f"{SVC}/restart")  # the outcome was for one rollout only
    assert rollout(web)[-1] == ("COMPLETED", "DEPLOYING")


# -- addons -----------------------------------------------------------------------------------------------------
def test_addon_pause_resume_restart(api):
    project(api)
    api.data("POST", "/v1/projects/acme-web/addons", ADDON)
    api.poll(ADDON_PATH, "status", "running")
    for action, status, seen in (("resume", 409, None), ("pause", 200, ["paused"]), ("restart", 409, None),
                                 ("resume", 200, ["running"]), ("restart", 200, ["running"])):
        assert api.call("POST", f"{ADDON_PATH}/{action}").status_code == status, action
        if seen:
            assert api.poll(ADDON_PATH, "status", seen[-1]) == seen, action


# -- job runs ---------------------------------------------------------------------------------------------------
@pytest.fixture
def release(web):
    web.data("PUT", "/v1/projects/acme-web/jobs", RELEASE_JOB)
    return web


def run_until_concluded(api, run_id: str) -> list:
    seen = []
    for _read in range(5):
        run = api.data("GET", f"{JOB}/runs/{run_id}")
        seen.append((run["status"], run["concluded"], run["succeeded"], run["failed"]))
        if run["concluded"]:
            return seen
    raise AssertionError(seen)


@pytest.mark.parametrize("outcome, last", [
    (None, ("SUCCESS", True, 1, 0)),
    ("FAILED", ("FAILED", True, 0, 2)),   # backoffLimit 1: two attempts failed
    ("SUCCESS", ("SUCCESS", True, 1, 0)),
])
def test_a_job_run_ends_as_a_test_asks(release, outcome, last):
    if outcome:
        knob = {"project": "acme-web", "job": "acme-web-release", "outcome": outcome}
        assert release.call("POST", "/_admin/next-outcome", knob).status_code == 200
    body = {"runtimeEnvironment": {"DATABASE_URL": "postgresql://addon/db"},
            "billing": {"deploymentPlan": "nf-compute-50"}}
    run = release.data("POST", f"{JOB}/runs", body)
    assert run["runName"].startswith("acme-web-release-")
    assert run_until_concluded(release, run["id"]) == [last]  # RUNNING until the first read
    assert [r["id"] for r in release.data("GET", f"{JOB}/runs")["runs"]] == [run["id"]]


@pytest.mark.contract_violations_expected
@pytest.mark.parametrize("body, status, words", [
    ({"runtimeEnvironment": {"RETRIES": 3}}, 400, "values must be strings"),
    ({"deployment": {"internal": {"id": "acme-web-web", "branch": "main"}}}, 404, "Build service"),
    ({"runtimeVariables": {"A": "b"}}, 400, "runtimeVariables"),
    ({"billing": {"deploymentPlan": 20}}, 400, "deploymentPlan"),
])
def test_a_job_run_body_is_checked(release, body, status, words):
    resp = release.call("POST", f"{JOB}/runs", body)
    assert resp.status_code == status and words in resp.json()["error"]["message"]
    assert release.data("GET", f"{JOB}/runs")["runs"] == []


def test_the_outcome_knob_refuses_what_it_cannot_apply(api):
    for body in ({"project": "acme-web", "job": "x", "outcome": "CRASHED"}, {"job": "x"}, {"project": "acme-web"}):
        assert api.call("POST", "/_admin/next-outcome", body).status_code == 400, body


# -- addon links ------------------------------------------------------------------------------------------------
@pytest.fixture
def group(api):
    project(api)
    api.data("POST", "/v1/projects/acme-web/addons", ADDON)
    api.data("POST", "/v1/projects/acme-web/secrets", {
        "name": "acme-web-env", "secretType": "environment", "priority": 10,
        "secrets": {"variables": {"DATABASE_URL": COPIED, "SECRET_KEY_BASE": "s"}}})
    return api


def addon_uri(api) -> str:
    return api.data("GET", f"{ADDON_PATH}/credentials")["envs"]["POSTGRES_URI"]


@pytest.mark.parametrize("method, path, body", [
    ("PATCH", GROUP, {"addonDependencies": [LINK]}),
    ("POST", GROUP, {"addonDependencies": [LINK]}),
    ("POST", f"{GROUP}/addons/acme-web-db", {"keys": LINK["keys"]}),
])
def test_an_alias_never_collides_with_the_groups_own_variable(group, method, path, body):
    resp = group.call(method, path, body)
    assert resp.status_code == 409 and "collides with the group's own variable" in resp.json()["error"]["message"]
    assert group.data("GET", GROUP)["secrets"]["variables"]["DATABASE_URL"] == COPIED


@pytest.mark.parametrize("show, expected", [
    (None, {"DATABASE_URL": "addon", "SECRET_KEY_BASE": "s"}),
    ("all", {"DATABASE_URL": "addon", "SECRET_KEY_BASE": "s"}),
    ("this", {"SECRET_KEY_BASE": "s"}),
    ("inherited", {"DATABASE_URL": "addon"}),
])
def test_the_switch_in_one_patch_resolves_the_alias_to_the_addon(group, show, expected):
    group.data("PATCH", GROUP, {"secrets": {"variables": {"SECRET_KEY_BASE": "s"}}, "addonDependencies": [LINK]})
    uri = addon_uri(group)
    variables = group.data("GET", GROUP + (f"?show={show}" if show else ""))["secrets"]["variables"]
    assert variables == {k: uri if v == "addon" else v for k, v in expected.items()}
    linked = group.data("GET", f"{GROUP}/addons/acme-web-db")
    assert linked["linked"] and linked["linkedKeys"][0]["aliases"] == ["DATABASE_URL"]


def test_rollback_unlinks_and_puts_the_copied_string_back(group):
    group.data("PATCH", GROUP, {"secrets": {"variables": {"SECRET_KEY_BASE": "s"}}, "addonDependencies": [LINK]})
    restored = {"DATABASE_URL": COPIED, "SECRET_KEY_BASE": "s"}
    group.data("PATCH", GROUP, {"secrets": {"variables": restored}, "addonDependencies": []})
    assert group.data("GET", GROUP)["secrets"]["variables"] == {"DATABASE_URL": COPIED, "SECRET_KEY_BASE": "s"}
    assert group.data("GET", f"{GROUP}/addons/acme-web-db")["linked"] is False


def test_two_links_cannot_share_an_alias(group):
    group.data("POST", "/v1/projects/acme-web/addons", {**ADDON, "name": "acme-web-db2"})
    group.data("PATCH", GROUP, {"secrets": {"variables": {}}, "addonDependencies": [LINK]})
    resp = group.call("POST", f"{GROUP}/addons/acme-web-db2", {"keys": LINK["keys"]})
    assert resp.status_code == 409 and "an alias of addon 'acme-web-db'" in resp.json()["error"]["message"]
    assert group.data("GET", f"{GROUP}/addons/acme-web-db2")["linked"] is False


def test_an_outcome_holds_for_count_runs_then_the_default_returns(release):
    knob = {"project": "acme-web", "job": "acme-web-release", "outcome": "FAILED", "count": 2}
    release.call("POST", "/_admin/next-outcome", knob)
    statuses = []
    for _run in range(3):
        run = release.data("POST", f"{JOB}/runs", {})
        statuses.append(run_until_concluded(release, run["id"])[-1][0])
    assert statuses == ["FAILED", "FAILED", "SUCCESS"]
    assert release.call("GET", "/_admin/next-outcome").json()["outcomes"] == {}

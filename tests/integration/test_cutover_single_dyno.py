# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cut-over's switch of a single-dyno app (its runtime variables on its combined service, not in a secret group),
against both emulators, no database needed: the demo's northwind-hello with a Heroku Redis add-on and a release phase.
The switch creates a secret group restricted to the service and its release job that links the Redis addon under
REDIS_URL, removes the copied REDIS_URL from the service and the job, restarts the service and runs the release job
once; migrate.yml keeps it; rollback.yml puts REDIS_URL back, deletes the group, and a second rollback changes
nothing."""

from __future__ import annotations

import json

import pytest
import requests

from tests.helpers import EmulatorProcess, demo_app, run_playbook, write_one_app_world

APP = PROJECT = SERVICE = "northwind-hello"
GROUP = SERVICE + "-addons"
RELEASE = APP + "-release"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    work = tmp_path_factory.mktemp("cutover-single")
    app = demo_app(APP)
    app = dict(
        app,
        addons=[{"plan": "heroku-redis:mini"}],
        process_types=dict(app["process_types"], release="node migrate.js"),
    )
    write_one_app_world(work, app, herokumigrate_heroku_writes=True)
    heroku = EmulatorProcess("heroku", "--fixture", str(work / "heroku.yml"))
    northflank = EmulatorProcess("northflank", "--state-file", str(work / "state.json"))
    env = {**heroku.env(), **northflank.env()}
    try:
        run_playbook("playbooks/migrate.yml", env, "-i", str(work / "inventory.yml"))
        nf = requests.Session()
        nf.headers["Authorization"] = f"Bearer {northflank.token}"
        base = f"{northflank.url}/v1/projects/{PROJECT}"
        nf.post(f"{base}/services/{SERVICE}/build", json={}, timeout=10)
        addons = nf.get(f"{base}/addons", timeout=10).json()["data"]["addons"]
        for _round in range(6):  # each read moves a build, a rollout or an addon one step (docs/emulators.md)
            nf.get(f"{base}/services/{SERVICE}", timeout=10)
            nf.get(f"{base}/services/{SERVICE}/build", timeout=10)
            for addon in addons:
                nf.get(f"{base}/addons/{addon['id']}", timeout=10)
        yield dict(work=work, heroku=heroku, northflank=northflank, env=env, nf=nf, base=base, addon=addons[0]["id"])
    finally:
        heroku.stop()
        northflank.stop()


def run(world, playbook, *args):
    for server in (world["heroku"], world["northflank"]):
        server.clear_log()
    result = run_playbook(
        f"playbooks/{playbook}.yml", world["env"], "-i", str(world["work"] / "inventory.yml"), "--diff", *args
    )
    (unit,) = json.loads((world["work"] / "report" / "report.json").read_text())["units"]
    return result, unit, world["northflank"].requests()


def steps(unit, name):
    return [s["status"] for s in unit["cutover"] if s["step"] == name]


def env_of(world, kind, name):
    """A service's runtime variables (its GET), or a job's (the emulator's state: a job's GET does not show them)."""
    if kind == "jobs":
        spec = world["northflank"].state()["jobs"][PROJECT][name]["spec"]
        return spec.get("runtimeEnvironment") or {}
    return world["nf"].get(f"{world['base']}/{kind}/{name}", timeout=10).json()["data"].get("runtimeEnvironment") or {}


def group(world):
    resp = world["nf"].get(f"{world['base']}/secrets/{GROUP}", params={"show": "all"}, timeout=10)
    return resp.json()["data"] if resp.status_code == 200 else None


def test_1_the_cutover_links_the_addon_in_a_group_of_the_service_and_removes_the_copies(world):
    assert "REDIS_URL" in env_of(world, "services", SERVICE) and "REDIS_URL" in env_of(world, "jobs", RELEASE)
    result, unit, nf_log = run(world, "cutover")
    assert result.returncode == 0, result.stdout[-3000:]
    assert unit["status"] == "cut over", unit["cutover"]
    assert steps(unit, "switch") == ["switched"] and steps(unit, "restart") == ["restarted"]
    assert steps(unit, "release") == ["ran"]
    assert "REDIS_URL" not in env_of(world, "services", SERVICE)
    assert "REDIS_URL" not in env_of(world, "jobs", RELEASE)
    found = group(world)
    assert found["restrictions"]["restricted"] is True
    assert {o["id"] for o in found["restrictions"]["nfObjects"]} == {SERVICE, RELEASE}
    assert found["secrets"]["variables"]["REDIS_URL"].startswith("rediss://")  # the addon's, through the link
    runs = world["nf"].get(f"{world['base']}/jobs/{RELEASE}/runs", timeout=10).json()["data"]["runs"]
    assert len(runs) == 1


def test_2_migrate_and_a_second_cutover_keep_the_switch_and_change_nothing(world):
    for playbook in ("migrate", "cutover"):
        result, unit, nf_log = run(world, playbook)
        assert result.returncode == 0, result.stdout[-3000:]
        assert nf_log["writes"] == 0, (playbook, nf_log["counts"])
        assert "changed=0" in result.stdout.split("PLAY RECAP", 1)[1], playbook
    assert "REDIS_URL" not in env_of(world, "services", SERVICE) and group(world) is not None


def test_3_rollback_puts_the_copies_back_and_deletes_the_group_once(world):
    result, unit, nf_log = run(world, "rollback")
    assert result.returncode == 0, result.stdout[-3000:]
    assert unit["status"] == "rolled back" and steps(unit, "switch") == ["undone"]
    assert "REDIS_URL" in env_of(world, "services", SERVICE) and "REDIS_URL" in env_of(world, "jobs", RELEASE)
    assert group(world) is None
    result, unit, nf_log = run(world, "rollback")
    assert result.returncode == 0 and nf_log["writes"] == 0
    assert steps(unit, "switch") == ["already undone"]
    result, unit, nf_log = run(world, "migrate")  # migrate manages the copied strings again: nothing to change
    assert result.returncode == 0 and nf_log["writes"] == 0, nf_log["counts"]

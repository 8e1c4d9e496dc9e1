# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/cutover.yml killed (SIGKILL, the whole process tree: tests/faults/harness.py) at a Northflank write, then
run again: the re-run converges to the state of an uninterrupted cut-over (issue 14, item 3, for the cut-over).

Each kill point gets a fresh world of tests/integration/test_cutover.py (a real PostgreSQL database seeded as the
Heroku Postgres, both emulators, northwind-shop migrated); the cut-over runs with the Heroku writes opted in, through a
fault proxy in front of the Northflank emulator that kills the run right after the chosen write reached the server
(before the client got its answer) and then records any request that still arrives (none may).

Asserted per kill point: the run was killed there; no process of it survived and nothing reached Northflank after the
kill; the re-run succeeds; the Northflank state equals the uninterrupted cut-over's (tests/state_compare.py: ids and
timestamps aside), so one import (one backup, one restore) and one run of the release job; every POST reached the
emulator as many times as in the uninterrupted cut-over; DATABASE_URL is linked to the addon; the data is there and
recorded verified; Heroku is frozen and the state file keeps what the freeze found, the switch and the release run.

``make test`` runs 2 kill points (after the import POST, after the release job's run POST) and the switch's window
(killed after the secret group's write, migrate.yml, then the re-run); ``make soak`` (SOAK=1) every POST of the
cut-over and write numbers up to 20 kill points (or every write, when there are fewer).
"""

from __future__ import annotations

import json
import re
import time

import pytest

from tests import state_compare
from tests.faults import harness
from tests.faults.proxy import FaultProxy
from tests.integration.postgres import postgres_server  # noqa: F401 - the fixture  # pylint: disable=unused-import
from tests.integration.test_cutover import ADDON, APP, heroku_state, links, make_world

IMPORT_POST = r"POST .*/addons/[^/]+/import"
RUN_POST = r"POST .*/jobs/[^/]+/runs"
# Every non-idempotent POST of the cut-over (the import, its restore, the release job's run, the restarts) and the
# write of the app's secret group (its variables removed, the addon links added).
POSTS = [
    IMPORT_POST,
    r"POST .*/backups/[^/]+/restore",
    RUN_POST,
    r"POST .*/services/[^/]+/restart",
    r"\w+ .*/secrets/[^/]+",
]
FROZEN = {"maintenance": True, "formation": {"web": 2, "worker": 0}}
FOUND = {"maintenance": False, "formation": {"web": 2, "worker": 1}}
CUTOVER_ARGS = ("-e", "herokumigrate_heroku_writes=true")
if harness.soak():
    KILL_POINTS: list = POSTS + list(range(1, 16))
else:
    KILL_POINTS = [IMPORT_POST, RUN_POST]


def cutover(world, proxy: FaultProxy, name: str, start_only: bool = False) -> harness.Playbook:
    env = {**harness.isolated_env(world["work"] / "env"), **world["env"], "NORTHFLANK_API_BASE_URL": proxy.url}
    run = harness.Playbook(
        harness.PLAYBOOKS / "cutover.yml",
        env,
        ("-i", str(world["work"] / "inventory.yml"), *CUTOVER_ARGS),
        world["work"] / "runs",
        name,
    )
    if not start_only:
        run.wait()
    return run


def outcome(world) -> dict:
    """What the cut-over left: the Northflank state, the POSTs that reached it, the writes in order, the state file."""
    log = world["northflank"].requests()
    return {
        "state": world["northflank"].state(),
        "posts": harness.non_idempotent(log),
        "writes": [f"{e['method']} {e['path']}" for e in log["requests"] if e["method"] != "GET"],
        "file": json.loads((world["work"] / "report" / "state" / f"{APP}.json").read_text()),
    }


def converged(world, got: dict) -> None:
    """The outcome every cut-over of a fresh world must end in, killed or not."""
    assert links(world)[ADDON] == {"POSTGRES_URI": ["DATABASE_URL"]}
    assert heroku_state(world) == FROZEN
    url = world["nf"].get(
        f"{world['northflank'].url}/v1/projects/{APP}/addons/{ADDON}/credentials", timeout=10
    ).json()["data"]["envs"]["POSTGRES_URI"]
    assert world["server"].psql("SELECT count(*) FROM orders", url=url).strip() == "5000"
    assert world["server"].psql("SELECT count(*) FROM customers", url=url).strip() == "300"
    state = got["file"]
    assert state["attempt"] == 1 and not state.get("history")
    assert state["heroku"][APP]["before"] == FOUND
    assert state["data"][ADDON]["verified"] is True
    (switched,) = state["switch"]["groups"]
    assert switched["removed"] == ["DATABASE_URL", "REDIS_URL"]
    assert state["release"]["northwind-shop-release"]["key"] == state["attempt_id"]
    imports = [k for k in got["posts"] if k.endswith("/import") or "/import " in k]
    runs = [k for k in got["posts"] if "/runs" in k]
    assert [got["posts"][k] for k in imports] == [1], got["posts"]
    assert [got["posts"][k] for k in runs] == [1], got["posts"]


_REFERENCE: dict = {}


def reference(server, tmp_path_factory) -> dict:
    """An uninterrupted cut-over of a fresh world, once per session."""
    if not _REFERENCE:
        with make_world(server, tmp_path_factory.mktemp("cutover-reference")) as world:
            proxy = FaultProxy(world["northflank"].url, "northflank").start()
            try:
                world["northflank"].clear_log()
                run = cutover(world, proxy, "reference")
                assert run.proc.returncode == 0, run.output()[-5000:]
                got = outcome(world)
                converged(world, got)
                _REFERENCE.update(got)
            finally:
                proxy.stop()
    return _REFERENCE


def kill_at(world, proxy: FaultProxy, point) -> dict:
    """cutover.yml killed right after the write ``point`` reached Northflank; asserts that nothing survived it."""
    holder: dict = {}
    proxy.on_write = harness.kill_on_write(point, holder, (proxy,))
    try:
        world["northflank"].clear_log()
        holder["run"] = run = cutover(world, proxy, "killed", start_only=True)
        code = run.wait()
        assert "killed_at" in holder, f"the run ended ({code}) before kill point {point!r}:\n{run.output()[-3000:]}"
        assert code == -9
        assert harness.wait_gone(holder["pids"]) == [], "processes of the killed run survived the kill"
        time.sleep(max(0.0, harness.LATE_WINDOW - (time.monotonic() - holder["killed_at"])))
        assert proxy.late == [], f"requests reached Northflank after the kill at write {holder['write']}"
        proxy.reset_plan()
    finally:
        if "run" in holder and holder["run"].proc.poll() is None:
            holder["run"].kill()
            holder["run"].proc.wait(timeout=30)
    return holder


def rerun_converges(world, proxy: FaultProxy, expected: dict, where: str) -> None:
    rerun = cutover(world, proxy, "rerun")
    assert rerun.proc.returncode == 0, f"the re-run after a kill at write {where} failed:\n{rerun.output()[-5000:]}"
    got = outcome(world)
    # the attempt's id (a timestamp) tags the release job's run: the reference's is another
    same_attempt = json.loads(
        json.dumps(got["state"]).replace(got["file"]["attempt_id"], expected["file"]["attempt_id"])
    )
    # A re-run restarts the services again unless the state file recorded their restart: a restart changes nothing
    # but its count (the services must read the links; the cut-over cannot tell a restart it did not see finish).
    diffs = state_compare.compare(expected["state"], same_attempt)
    assert [d for d in diffs if not re.match(r"services\.[^:]*\.restarts: 1 != 2$", d)] == [], f"killed at {where}"
    restarts = {k: v for k, v in got["posts"].items() if k.endswith("/restart")}
    assert {k: v for k, v in got["posts"].items() if k not in restarts} == {
        k: v for k, v in expected["posts"].items() if k not in restarts
    }, f"killed at write {where}"
    assert set(restarts) == {k for k in expected["posts"] if k.endswith("/restart")}
    assert all(1 <= n <= 2 for n in restarts.values()), restarts
    converged(world, got)
    # a further cut-over writes nothing
    world["northflank"].clear_log()
    again = cutover(world, proxy, "again")
    assert again.proc.returncode == 0, again.output()[-3000:]
    assert world["northflank"].requests()["writes"] == 0, world["northflank"].requests()["counts"]


@pytest.mark.parametrize("point", KILL_POINTS, ids=[re.sub(r"\W+", "_", str(p)).strip("_") for p in KILL_POINTS])
def test_a_killed_cutover_converges_on_a_rerun(point, postgres_server, tmp_path_factory):  # noqa: F811
    expected = reference(postgres_server, tmp_path_factory)
    if isinstance(point, int) and point > len(expected["writes"]):
        pytest.skip(f"the cut-over sends {len(expected['writes'])} writes")
    with make_world(postgres_server, tmp_path_factory.mktemp("cutover-killed")) as world:
        proxy = FaultProxy(world["northflank"].url, "northflank").start()
        try:
            holder = kill_at(world, proxy, point)
            rerun_converges(world, proxy, expected, holder["write"])
        finally:
            proxy.stop()


def test_a_migration_between_a_killed_switch_and_the_rerun_keeps_the_switch(postgres_server, tmp_path_factory):  # noqa: F811
    """The window of the switch: killed right after the secret group's write (the links added under the names of the
    variables it removed), before the state file records it; migrate.yml then runs before the cut-over does. It must
    not put the copied Heroku strings back beside the links (Northflank refuses an alias that is also a variable: 409),
    and the cut-over's re-run must still converge."""
    expected = reference(postgres_server, tmp_path_factory)
    with make_world(postgres_server, tmp_path_factory.mktemp("cutover-switch-window")) as world:
        proxy = FaultProxy(world["northflank"].url, "northflank").start()
        try:
            holder = kill_at(world, proxy, r"\w+ .*/secrets/[^/]+")
            env = {**harness.isolated_env(world["work"] / "env"), **world["env"], "NORTHFLANK_API_BASE_URL": proxy.url}
            migrate = harness.Playbook(
                harness.PLAYBOOKS / "migrate.yml", env, ("-i", str(world["work"] / "inventory.yml")),
                world["work"] / "runs", "migrate",
            )
            assert migrate.wait() == 0, f"migrate.yml after a kill at {holder['write']}:\n{migrate.output()[-5000:]}"
            assert links(world)[ADDON] == {"POSTGRES_URI": ["DATABASE_URL"]}
            world["northflank"].clear_log()
            rerun = cutover(world, proxy, "rerun")
            assert rerun.proc.returncode == 0, rerun.output()[-5000:]
            got = outcome(world)
            converged_without_posts = dict(got, posts=expected["posts"])
            converged(world, converged_without_posts)
            same_attempt = json.loads(
                json.dumps(got["state"]).replace(got["file"]["attempt_id"], expected["file"]["attempt_id"])
            )
            assert state_compare.compare(expected["state"], same_attempt) == []
        finally:
            proxy.stop()

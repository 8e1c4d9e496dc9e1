"""Issue 12's Heroku budget, counted: at most 10 Heroku requests per app for the inventory and one run (plan, migrate,
a no-op re-run), as `make bench` (tools/bench.py, HEROKU_PER_APP) counts them.

A small generated fleet (tools/fleet.py: single-dyno apps, multi-dyno apps with add-ons, scheduler jobs and a custom
domain, a pipeline) runs against the emulators: `ansible-inventory --list`, then plan.yml, migrate.yml and migrate.yml
again. The Heroku emulator's request log gives the counts, route by route. Discovery reuses the inventory's snapshot
(heroku_snapshot), so a plan made with it must be the plan made reading everything (herokumigrate_snapshot_max_age=0),
ids and timestamps aside.

A fleet of a few units pays the account-wide lists (GET /apps, /pipeline-couplings, /pipelines, once per inventory
parse: `ansible-inventory` and each playbook parse the inventory) over few apps; so the test pins the cost of each kind
of app and of the lists, checks the measured run against them, and checks the budget on the run and on the fleets
`make bench` measures (10, 50 and 200 units) from those costs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.helpers import COLLECTIONS, ROOT, EmulatorProcess, ensure_collection_link, run_playbook

sys.path.insert(0, str(ROOT / "tools"))
import bench  # noqa: E402
import fleet  # noqa: E402

UNITS = 3  # a single-dyno app, a multi-dyno app (add-ons, scheduler jobs, a custom domain), a pipeline of two apps
LISTS = {"GET /apps", "GET /pipeline-couplings", "GET /pipelines"}
# Heroku requests of one app in one run, the inventory's formation read aside (docs/heroku-discovery.md): config vars,
# add-on attachments (with their add-ons), domains, features, releases, the slug, the buildpack installations; and the
# Scheduler's jobs for an app with the add-on.
PER_APP = {"single": 7, "multi": 8, "pipeline": 7}


def route(entry: dict) -> str:
    """``GET /apps/{app}``: the emulators log the route with its method."""
    found = entry.get("route") or entry["path"]
    return found if found.startswith(entry["method"] + " ") else "%s %s" % (entry["method"], found)


def kind_of(app: dict) -> str:
    if app.get("pipeline"):
        return "pipeline"
    return "multi" if len(app.get("formation") or {}) > 1 else "single"


def expected(account: dict) -> int:
    """What the inventory plus one run cost for an account: the lists and a formation read per app per inventory parse
    (twice: ansible-inventory and the playbook's own), plus each app's discovery."""
    return 2 * (len(LISTS) + len(account["apps"])) + sum(PER_APP[kind_of(a)] for a in account["apps"])


def normalized(report: Path) -> dict:
    """report.json, with what changes from run to run (when it ran) taken out."""
    data = json.loads(report.read_text())
    data.pop("run", None)
    text = json.dumps(data, sort_keys=True)
    return json.loads(re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", "<time>", text))


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("fleet")
    account = fleet.account(UNITS)
    fixture = work / "account.yml"
    fixture.write_text(yaml.safe_dump(account, sort_keys=False))
    inventory = work / "inventory"
    shutil.copytree(ROOT / "tests" / "demo" / "inventory", inventory)
    heroku = EmulatorProcess("heroku", "--fixture", str(fixture))
    northflank = EmulatorProcess("northflank")
    env = {**heroku.env(), **northflank.env(), "ANSIBLE_FORKS": "5"}
    out = dict(account=account, work=work, logs={})

    def log(phase):
        out["logs"][phase] = dict(heroku=heroku.requests()["requests"], northflank=northflank.requests()["requests"])
        heroku.clear_log()
        northflank.clear_log()

    try:
        # Reading everything (the snapshot unused): the plan as it was made before discovery reused the snapshot.
        run_playbook("playbooks/plan.yml", env, "-i", str(inventory), "-e", f"herokumigrate_report_dir={work / 'full'}",
                     "-e", "herokumigrate_snapshot_max_age=0")
        log("full")
        ensure_collection_link()
        subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory), "--list"],
                       cwd=ROOT, check=True, capture_output=True,
                       env=dict(os.environ, **env, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
                                ANSIBLE_CONFIG=str(ROOT / "tests" / "ansible.cfg")))
        log("inventory")
        for phase, playbook in (("plan", "plan"), ("migrate", "migrate"), ("re-run", "migrate")):
            run_playbook(f"playbooks/{playbook}.yml", env, "-i", str(inventory),
                         "-e", f"herokumigrate_report_dir={work / phase}")
            log(phase)
        yield out
    finally:
        heroku.stop()
        northflank.stop()


def test_the_fleet_has_every_scenario(fleet_run):
    kinds = Counter(kind_of(a) for a in fleet_run["account"]["apps"])
    assert kinds == {"single": 1, "multi": 1, "pipeline": 2}
    apps = fleet_run["account"]["apps"]
    assert any(a.get("domains") for a in apps) and any(a.get("scheduler_jobs") for a in apps)


@pytest.mark.parametrize("phase", ["plan", "migrate", "re-run"])
def test_heroku_requests_per_app(fleet_run, phase):
    account = fleet_run["account"]
    apps = len(account["apps"])
    inventory, run = fleet_run["logs"]["inventory"]["heroku"], fleet_run["logs"][phase]["heroku"]
    assert all(e["method"] == "GET" for e in inventory + run)
    # Each app's routes in the run: the formation only in the inventory's parse, never in discovery.
    routes = Counter(route(e) for e in run)
    assert routes["GET /apps/{app}/formation"] == apps
    for gone in ("GET /apps/{app}", "GET /apps/{app}/addons", "GET /apps/{app}/pipeline-couplings",
                 "GET /pipelines/{pipeline}", "GET /pipelines/{pipeline}/pipeline-couplings"):
        assert routes[gone] == 0, (gone, routes)
    assert len(inventory) + len(run) == expected(account), routes
    # The budget as `make bench` counts it (the inventory, then the run, whose own inventory parse is included).
    per_app = (len(inventory) + len(run)) / apps
    lists = sum(1 for e in inventory + run if route(e) in LISTS)
    assert lists == 2 * len(LISTS)
    # Without the account-wide lists, which a fleet of 3 units spreads over only 4 apps, at most 10 per app...
    assert (len(inventory) + len(run) - lists) / apps <= bench.HEROKU_PER_APP, per_app
    # ...and one parse of them (the playbook's: an inventory and one run) included too.
    assert (len(run) + sum(1 for e in inventory if route(e) not in LISTS)) / apps <= bench.HEROKU_PER_APP, per_app


@pytest.mark.parametrize("units", [10, 50, 200])
def test_bench_fleets_meet_the_budget(units):
    """The fleets `make bench` measures, from the costs the run above pins: at most 10 per app, lists included."""
    account = fleet.account(units)
    assert expected(account) / len(account["apps"]) <= bench.HEROKU_PER_APP


def test_discovery_reads_less_than_reading_everything(fleet_run):
    full = Counter(route(e) for e in fleet_run["logs"]["full"]["heroku"])
    plan = Counter(route(e) for e in fleet_run["logs"]["plan"]["heroku"])
    apps = len(fleet_run["account"]["apps"])
    assert full["GET /apps/{app}"] == apps and full["GET /apps/{app}/formation"] == 2 * apps
    assert sum(plan.values()) < sum(full.values())


@pytest.mark.parametrize("phase", ["plan"])
def test_plan_is_the_same_as_reading_everything(fleet_run, phase):
    work = fleet_run["work"]
    assert normalized(work / phase / "report.json") == normalized(work / "full" / "report.json")


def test_rerun_reads_each_resource_at_most_once_and_writes_nothing(fleet_run):
    work = fleet_run["work"]
    migrated = json.loads((work / "migrate" / "report.json").read_text())["units"]
    assert [u["status"] for u in migrated] == ["migrated"] * UNITS
    resources = sum(1 for u in migrated for r in u.get("resources", []) if r["kind"] != "git_mirrors")
    nf = fleet_run["logs"]["re-run"]["northflank"]
    assert not [route(e) for e in nf if e["method"] not in ("GET", "HEAD")]
    # One read per resource, and the preflight's one token check of the run (GET /v1/projects?per_page=1).
    reads = Counter(route(e) for e in nf)
    assert len(nf) <= resources + 1, reads
    rerun = json.loads((work / "re-run" / "report.json").read_text())["units"]
    assert {r["action"] for u in rerun for r in u.get("resources", [])} == {"unchanged"}

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/cutover.yml and rollback.yml against both emulators and a real PostgreSQL server: the demo's multi-dyno app
(web 2, worker 1, a release phase, Heroku Postgres and Redis) whose Heroku Postgres is a real database (the Heroku
fixture's
add-on ``value``), migrated, then cut over (the Northflank emulator restores the import into the same server).

In order, on one unit: without the opt-in the cut-over stops before the data and no request to Heroku is a write; a
target
row altered before the verification fails the unit naming the table, and nothing is switched; the cut-over then moves
and
verifies the data, freezes Heroku (the state found before in the report and the state file), leaves the switch as a
manual
step; with the switch declared done by hand, the release job runs once; a further cut-over changes nothing; rollback
gives
Heroku back what was recorded, a second rollback changes nothing. No password shows anywhere, at -vvv --diff."""

from __future__ import annotations

import json

import pytest
import requests
import yaml

from tests.helpers import ROOT, EmulatorProcess, run_playbook
from tests.integration.postgres import postgres_server  # noqa: F401 - the fixture  # pylint: disable=unused-import

# A Northflank addon is named after its Heroku add-on (docs/mapping.md).
APP = PROJECT = "northwind-shop"
ADDON = HEROKU_ADDON = "postgresql-shop-12345"
IMPORT = "heroku-import-" + HEROKU_ADDON
MARKER = "NEVER-PRINT"
SOURCE_USER, SOURCE_DB = "u7shop", "d7shop"
SOURCE_PASSWORD = "sh0p@pass:w/rd-NEVER-PRINT-7"
DEMO = yaml.safe_load((ROOT / "tests" / "emulators" / "fixtures" / "demo.yml").read_text())
SEED = """
CREATE TABLE customers (id bigserial PRIMARY KEY, email {email} NOT NULL UNIQUE, name text NOT NULL);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint REFERENCES customers (id), total numeric(12, 2),
placed_at timestamptz);
INSERT INTO customers (email, name) SELECT 'c' || g || '@Example.com', 'customer ' || g FROM generate_series(1, 300) AS
g;
INSERT INTO orders (customer_id, total, placed_at)
  SELECT 1 + g % 300, g * 1.25, '2024-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 5000) AS g;
"""


def no_secret(where: str, text: str) -> None:
    leaked = [line for line in text.splitlines() if MARKER in line or 'POSTGRES_URI": "postgres' in line]
    assert not leaked, f"a secret shows in {where}:\n" + "\n".join(leaked[:5])


@pytest.fixture(scope="module")
def world(postgres_server, tmp_path_factory):  # noqa: F811 - the fixture imported above
    """The source database, both emulators, a static inventory of northwind-shop, migrated and running."""
    server, work = postgres_server, tmp_path_factory.mktemp("cutover")
    server.psql(
        f"CREATE ROLE {SOURCE_USER} LOGIN PASSWORD '{SOURCE_PASSWORD}'; CREATE DATABASE {SOURCE_DB} OWNER "
        f"{SOURCE_USER};"
    )
    source = server.url(SOURCE_USER, SOURCE_PASSWORD, SOURCE_DB)
    citext = server.psql("SELECT count(*) FROM pg_available_extensions WHERE name = 'citext'").strip() == "1"
    ext = "CREATE SCHEMA heroku_ext; CREATE EXTENSION citext WITH SCHEMA heroku_ext;" if citext else ""
    server.psql(ext + SEED.format(email="heroku_ext.citext" if citext else "text"), url=source)
    if citext:
        server.psql(f'ALTER DATABASE {SOURCE_DB} SET search_path = "$user", public, heroku_ext')
    app = [a for a in DEMO["apps"] if a["name"] == APP][0]
    app = dict(
        app,
        addons=[
            {"plan": "heroku-postgresql:essential-0", "name": HEROKU_ADDON, "value": source},
            {"plan": "heroku-redis:mini"},
        ],
        scheduler_jobs=[],
    )
    fixture = dict({k: v for k, v in DEMO.items() if k not in ("apps", "pipelines")}, apps=[app])
    (work / "heroku.yml").write_text(yaml.safe_dump(fixture))
    (work / "inventory.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {APP: {"heroku_unit": {"kind": "app", "name": APP}}},
                    "vars": {
                        "herokumigrate_repository_default": {
                            "url": "https://github.com/northwind/{app}",
                            "type": "github",
                            "account_login": "northwind",
                            "branch": "main",
                        },
                        "herokumigrate_poll_interval": 1,
                        "herokumigrate_report_dir": str(work / "report"),
                    },
                }
            }
        )
    )
    heroku = EmulatorProcess("heroku", "--fixture", str(work / "heroku.yml"))
    northflank = EmulatorProcess(
        "northflank",
        "--state-file",
        str(work / "state.json"),
        "--data-dir",
        str(work / "data"),
        "--pg-target-url",
        server.url(),
        "--pg-bin",
        server.bin_dir,
    )
    env = {**heroku.env(), **northflank.env()}
    try:
        run_playbook("playbooks/migrate.yml", env, "-i", str(work / "inventory.yml"))
        nf = requests.Session()
        nf.headers["Authorization"] = f"Bearer {northflank.token}"
        nf.post(
            f"{northflank.url}/v1/projects/{PROJECT}/services/northwind-shop-builder/build", json={}, timeout=10
        )  # a push
        addons = nf.get(f"{northflank.url}/v1/projects/{PROJECT}/addons", timeout=10).json()["data"]["addons"]
        for _round in range(6):  # each read moves a build, a rollout or an addon one step (docs/emulators.md)
            for kind, name in [
                ("services", "northwind-shop-builder"),
                ("services", "northwind-shop-web"),
                ("services", "northwind-shop-worker"),
            ] + [("addons", addon["id"]) for addon in addons]:
                nf.get(f"{northflank.url}/v1/projects/{PROJECT}/{kind}/{name}", timeout=10)
                if kind == "services":
                    nf.get(f"{northflank.url}/v1/projects/{PROJECT}/services/{name}/build", timeout=10)
        yield dict(
            server=server, source=source, work=work, heroku=heroku, northflank=northflank, env=env, nf=nf, outputs=[]
        )
    finally:
        heroku.stop()
        northflank.stop()
        server.psql(f"DROP DATABASE IF EXISTS {SOURCE_DB} WITH (FORCE); DROP ROLE IF EXISTS {SOURCE_USER};")


def run(world, playbook, *args, check=False):
    """A playbook on the unit from clean logs, at -vvv --diff; returns (process, the unit's record, Heroku log,
    Northflank log)."""
    for server in (world["heroku"], world["northflank"]):
        server.clear_log()
    result = run_playbook(
        f"playbooks/{playbook}.yml",
        world["env"],
        "-i",
        str(world["work"] / "inventory.yml"),
        "-vvv",
        "--diff",
        *args,
        check=check,
    )
    world["outputs"].append(result.stdout + result.stderr)
    report = json.loads((world["work"] / "report" / "report.json").read_text())
    (unit,) = report["units"]
    return result, unit, world["heroku"].requests(), world["northflank"].requests()


def heroku_state(world):
    s = requests.Session()
    s.headers.update(
        {"Authorization": f"Bearer {world['heroku'].token}", "Accept": "application/vnd.heroku+json; version=3"}
    )
    app = s.get(f"{world['heroku'].url}/apps/{APP}", timeout=10).json()
    formation = s.get(f"{world['heroku'].url}/apps/{APP}/formation", timeout=10).json()
    return {"maintenance": app["maintenance"], "formation": {f["type"]: f["quantity"] for f in formation}}


def addon_url(world):
    resp = world["nf"].get(f"{world['northflank'].url}/v1/projects/{PROJECT}/addons/{ADDON}/credentials", timeout=10)
    resp.raise_for_status()
    return resp.json()["data"]["envs"]["POSTGRES_URI"]


def steps(unit, name):
    return [s for s in unit["cutover"] if s["step"] == name]


def job_runs(world, job):
    resp = world["nf"].get(f"{world['northflank'].url}/v1/projects/{PROJECT}/jobs/{job}/runs", timeout=10)
    resp.raise_for_status()
    return resp.json()["data"]["runs"]


def test_1_without_the_opt_in_nothing_is_written_to_heroku_and_the_data_waits(world):
    before = world["found"] = heroku_state(world)
    assert before == {"maintenance": False, "formation": {"web": 2, "worker": 1}}
    result, unit, heroku_log, nf_log = run(world, "cutover")
    assert result.returncode != 0
    assert unit["status"] == "failed"
    assert (
        "herokumigrate_heroku_writes" in unit["skipped"][0]["why"]
        and "herokumigrate_cutover_without_freeze" in unit["skipped"][0]["why"]
    )
    assert heroku_log["writes"] == 0 and nf_log["writes"] == 0
    assert heroku_state(world) == before
    assert not steps(unit, "data") or all(s["status"] == "manual" for s in steps(unit, "data"))
    assert steps(unit, "pre-flight")[0]["status"] == "done"


def test_2_check_mode_is_a_plan_that_writes_nothing(world):
    result, unit, heroku_log, nf_log = run(world, "cutover", "--check", "-e", "herokumigrate_heroku_writes=true")
    assert result.returncode == 0, result.stdout[-3000:]
    assert unit["status"] == "planned"
    assert heroku_log["writes"] == 0 and nf_log["writes"] == 0
    assert steps(unit, "freeze")[0]["status"] == "would freeze"
    assert [s["status"] for s in steps(unit, "data") if HEROKU_ADDON in s["detail"]] == ["would import"]
    assert not (world["work"] / "report" / "state" / f"{APP}.json").exists()


def preimport(world):
    """The import and its restore, started through the API as the module would, so that a row can change before
    verification."""
    nf, base = world["nf"], f"{world['northflank'].url}/v1/projects/{PROJECT}/addons/{ADDON}"
    assert (
        nf.post(f"{base}/import", json={"name": IMPORT, "connectionString": world["source"]}, timeout=60).status_code
        == 200
    )
    for _attempt in range(10):
        backup = next(b for b in nf.get(f"{base}/backups", timeout=10).json()["data"]["backups"] if b["name"] == IMPORT)
        if backup["status"] == "completed":
            break
    assert backup["status"] == "completed", backup
    assert nf.post(f"{base}/backups/{backup['id']}/restore", timeout=60).status_code == 200
    for _attempt in range(4):
        nf.get(f"{base}/restores", timeout=10)


def test_3_a_changed_target_row_fails_the_unit_naming_the_table_and_nothing_is_switched(world):
    preimport(world)
    target = addon_url(world)
    world["server"].psql("UPDATE orders SET total = total + 1 WHERE id = 42", url=target)
    result, unit, heroku_log, _nf_log = run(world, "cutover", "-e", "herokumigrate_heroku_writes=true")
    assert result.returncode != 0
    assert unit["status"] == "failed"
    assert "public.orders" in unit["skipped"][0]["why"]
    assert [s["status"] for s in steps(unit, "verify")] == ["failed"] and "public.orders" in steps(unit, "verify")[0][
        "detail"
    ]
    assert not steps(unit, "switch") and not steps(unit, "release")
    state = json.loads((world["work"] / "report" / "state" / f"{APP}.json").read_text())
    assert not state["data"][ADDON].get("verified")
    assert job_runs(world, "northwind-shop-release") == []
    assert heroku_state(world) == {
        "maintenance": True,
        "formation": {"web": 2, "worker": 0},
    }  # frozen before the data moved
    world["server"].psql("UPDATE orders SET total = total - 1 WHERE id = 42", url=target)


def test_4_the_cutover_verifies_the_data_freezes_heroku_and_leaves_the_switch_to_do(world):
    found = world["found"]  # the third run froze Heroku already: the state file keeps what the first freeze found
    result, unit, heroku_log, nf_log = run(world, "cutover", "-e", "herokumigrate_heroku_writes=true")
    assert result.returncode == 0, result.stdout[-3000:]
    assert unit["status"] == "data moved, not switched"
    assert [s["status"] for s in steps(unit, "verify")] == ["passed"]
    assert steps(unit, "switch")[0]["status"] == "manual"
    assert any(t.startswith("switch: not automated in this version") for t in unit["todo"])
    assert [s["status"] for s in steps(unit, "release")] == ["waits for the switch"]
    assert any("redis" in s["detail"] for s in steps(unit, "data") if s["status"] == "manual")
    assert heroku_state(world) == {"maintenance": True, "formation": {"web": 2, "worker": 0}}
    state = json.loads((world["work"] / "report" / "state" / f"{APP}.json").read_text())
    assert state["heroku"][APP]["before"] == found
    assert state["data"][ADDON]["verified"] is True
    if world["server"].psql("SELECT count(*) FROM pg_available_extensions WHERE name = 'citext'").strip() == "1":
        query = "SELECT name FROM customers WHERE email = 'C7@EXAMPLE.COM'"
        assert world["server"].psql(query, url=addon_url(world)).strip() == "customer 7"
    assert job_runs(world, "northwind-shop-release") == []


def test_5_switched_by_hand_the_release_phase_runs_once(world):
    result, unit, heroku_log, _nf_log = run(
        world, "cutover", "-e", "herokumigrate_heroku_writes=true", "-e", "herokumigrate_cutover_switched_by_hand=true"
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert unit["status"] == "cut over"
    assert [s["status"] for s in steps(unit, "release")] == ["ran"]
    assert len(job_runs(world, "northwind-shop-release")) == 1
    assert heroku_log["writes"] == 0
    assert steps(unit, "domains") and unit["dns_records"]


def test_6_a_second_cutover_changes_nothing(world):
    result, unit, heroku_log, nf_log = run(
        world, "cutover", "-e", "herokumigrate_heroku_writes=true", "-e", "herokumigrate_cutover_switched_by_hand=true"
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert heroku_log["writes"] == 0 and nf_log["writes"] == 0, (heroku_log["counts"], nf_log["counts"])
    recap = result.stdout.split("PLAY RECAP", 1)[1]
    assert "changed=0" in recap and "failed=0" in recap, recap
    assert unit["status"] == "cut over"
    assert [s["status"] for s in steps(unit, "release")] == ["already ran"]
    assert len(job_runs(world, "northwind-shop-release")) == 1


def test_7_rollback_gives_heroku_back_what_was_recorded_and_a_second_changes_nothing(world):
    result, unit, _heroku_log, _nf_log = run(world, "rollback")
    assert result.returncode != 0 and "herokumigrate_heroku_writes" in unit["skipped"][0]["why"]
    result, unit, heroku_log, _nf_log = run(world, "rollback", "-e", "herokumigrate_heroku_writes=true")
    assert result.returncode == 0, result.stdout[-3000:]
    state = json.loads((world["work"] / "report" / "state" / f"{APP}.json").read_text())
    assert (
        heroku_state(world)
        == state["heroku"][APP]["before"]
        == {"maintenance": False, "formation": {"web": 2, "worker": 1}}
    )
    assert unit["status"] == "rolled back" and heroku_log["writes"] == 2
    assert any(s["step"] == "data" and s["status"] == "not copied back" for s in unit["cutover"])
    result, unit, heroku_log, _nf_log = run(world, "rollback", "-e", "herokumigrate_heroku_writes=true")
    assert result.returncode == 0
    assert heroku_log["writes"] == 0 and "changed=0" in result.stdout.split("PLAY RECAP", 1)[1]
    assert [s["status"] for s in unit["cutover"] if s["step"] == "heroku"] == ["already as recorded"]


def test_8_no_connection_string_or_password_anywhere(world):
    assert world["outputs"]
    for i, output in enumerate(world["outputs"]):
        no_secret(f"the output of run {i}", output)
        assert world["source"] not in output
    for path in (world["work"] / "report").rglob("*"):
        if path.is_file():
            text = path.read_text()
            no_secret(str(path), text)
            assert "postgres://" not in text and "postgresql://" not in text, path
    no_secret("the Northflank emulator's log", json.dumps(world["northflank"].requests()))

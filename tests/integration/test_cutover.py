# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/cutover.yml and rollback.yml against both emulators and a real PostgreSQL server: the demo's multi-dyno app
(web 2, worker 1, a release phase, Heroku Postgres and Redis) whose Heroku Postgres is a real database (the Heroku
fixture's add-on ``value``), migrated, then cut over (the Northflank emulator restores the import into the same server).
The source has three schemas (public, heroku_ext holding citext, billing), sequences well past 1 and several MB of rows.

In order, on one unit: without the opt-in the cut-over stops before the data and no request to Heroku is a write; check
mode writes nothing; a target row altered before the verification fails the unit naming the table, and nothing is
switched; the cut-over then moves and verifies the data, freezes Heroku (the state found before in the report and the
state file), switches the app's secret group from the copied Heroku connection strings to links to the addons under the
same names, restarts the services and runs the release job once; a further cut-over, migrate.yml and verify.yml change
nothing; rollback puts the Heroku connection strings back and gives Heroku back what was recorded, a second rollback
changes nothing; a second cut-over is a new attempt (a new import, the release phase again). No password shows
anywhere, at -vvv --diff."""

from __future__ import annotations

import contextlib
import json

import pytest
import requests

from tests.helpers import EmulatorProcess, demo_app, run_playbook, write_one_app_world
from tests.integration.postgres import postgres_server  # noqa: F401 - the fixture  # pylint: disable=unused-import

# A Northflank addon is named after its Heroku add-on (docs/mapping.md).
APP = PROJECT = "northwind-shop"
ADDON = HEROKU_ADDON = "postgresql-shop-12345"
IMPORT = "heroku-import-" + HEROKU_ADDON
MARKER = "NEVER-PRINT"
SOURCE_USER, SOURCE_DB = "u7shop", "d7shop"
SOURCE_PASSWORD = "sh0p@pass:w/rd-NEVER-PRINT-7"
SEED = """
CREATE TABLE customers (id bigserial PRIMARY KEY, email {email} NOT NULL UNIQUE, name text NOT NULL);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint REFERENCES customers (id), total numeric(12, 2),
placed_at timestamptz);
INSERT INTO customers (email, name) SELECT 'c' || g || '@Example.com', 'customer ' || g FROM generate_series(1, 300) AS
g;
INSERT INTO orders (customer_id, total, placed_at)
  SELECT 1 + g % 300, g * 1.25, '2024-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 5000) AS g;
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id serial PRIMARY KEY, order_id bigint NOT NULL, body text NOT NULL);
INSERT INTO billing.invoices (order_id, body)
  SELECT g, repeat(md5(g::text), 48) FROM generate_series(1, {invoices}) AS g;
"""
# billing.invoices: several MB of rows (1,536 characters each), in a third schema, its sequence well past 1.
INVOICES = 2500
INVOICE_BYTES = INVOICES * 1536


def no_secret(where: str, text: str) -> None:
    leaked = [line for line in text.splitlines() if MARKER in line or 'POSTGRES_URI": "postgres' in line]
    assert not leaked, f"a secret shows in {where}:\n" + "\n".join(leaked[:5])


@contextlib.contextmanager
def make_world(server, work):
    """The source database, both emulators, a static inventory of northwind-shop, migrated and running (also a fresh
    world per kill point of tests/integration/test_cutover_interruptions.py)."""
    server.psql(
        f"CREATE ROLE {SOURCE_USER} LOGIN PASSWORD '{SOURCE_PASSWORD}'; CREATE DATABASE {SOURCE_DB} OWNER "
        f"{SOURCE_USER};"
    )
    source = server.url(SOURCE_USER, SOURCE_PASSWORD, SOURCE_DB)
    citext = server.psql("SELECT count(*) FROM pg_available_extensions WHERE name = 'citext'").strip() == "1"
    ext = "CREATE SCHEMA heroku_ext; CREATE EXTENSION citext WITH SCHEMA heroku_ext;" if citext else ""
    server.psql(ext + SEED.format(email="heroku_ext.citext" if citext else "text", invoices=INVOICES), url=source)
    if citext:
        server.psql(f'ALTER DATABASE {SOURCE_DB} SET search_path = "$user", public, heroku_ext')
    app = dict(
        demo_app(APP),
        addons=[
            {"plan": "heroku-postgresql:essential-0", "name": HEROKU_ADDON, "value": source},
            {"plan": "heroku-redis:mini"},
        ],
        scheduler_jobs=[],
    )
    write_one_app_world(work, app)
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


@pytest.fixture(scope="module")
def world(postgres_server, tmp_path_factory):  # noqa: F811 - the fixture imported above
    with make_world(postgres_server, tmp_path_factory.mktemp("cutover")) as the_world:
        yield the_world


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
    assert [s["status"] for s in steps(unit, "switch")] == ["would switch"]
    assert [s["status"] for s in steps(unit, "restart")] == ["would restart"]
    assert [s["status"] for s in steps(unit, "release")] == ["would run"]
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


GROUP = "northwind-shop-env"
SWITCHED = ["DATABASE_URL", "REDIS_URL"]


def group(world, show="this"):
    """The app's secret group as Northflank answers it: its own variables (``this``) or what its services inherit
    (``all``: the links' values under their aliases too)."""
    nf, url = world["nf"], f"{world['northflank'].url}/v1/projects/{PROJECT}/secrets/{GROUP}"
    return nf.get(url, params={"show": show}, timeout=10).json()["data"]


def links(world):
    """``{addon: {key: aliases}}`` of the app's secret group."""
    nf, url = world["nf"], f"{world['northflank'].url}/v1/projects/{PROJECT}/secrets/{GROUP}"
    out = {}
    for addon in nf.get(f"{url}/details", timeout=10).json()["data"].get("addonSecrets") or []:
        keys = nf.get(f"{url}/addons/{addon['id']}", timeout=10).json()["data"]["linkedKeys"]
        out[addon["id"]] = {k["keyName"]: k.get("aliases") or [] for k in keys}
    return out


def the_app_is_on_heroku(world):
    own = group(world)["secrets"]["variables"]
    assert own["DATABASE_URL"] == world["source"] and "REDIS_URL" in own
    assert links(world) == {}


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
    assert not state["data"][ADDON].get("verified") and "switch" not in state
    assert job_runs(world, "northwind-shop-release") == []
    the_app_is_on_heroku(world)  # still the copied Heroku connection strings, no link
    assert heroku_state(world) == {
        "maintenance": True,
        "formation": {"web": 2, "worker": 0},
    }  # frozen before the data moved
    world["server"].psql("UPDATE orders SET total = total - 1 WHERE id = 42", url=target)


def test_4_the_cutover_verifies_the_data_switches_the_app_and_runs_the_release_phase_once(world):
    found = world["found"]  # the third run froze Heroku already: the state file keeps what the first freeze found
    result, unit, heroku_log, nf_log = run(world, "cutover", "-e", "herokumigrate_heroku_writes=true")
    assert result.returncode == 0, result.stdout[-3000:]
    assert unit["status"] == "cut over"
    assert [s["status"] for s in steps(unit, "verify")] == ["passed"]
    assert [s["status"] for s in steps(unit, "switch")] == ["switched"]
    assert f"DATABASE_URL -> addon {ADDON} (POSTGRES_URI)" in steps(unit, "switch")[0]["detail"]
    assert [s["status"] for s in steps(unit, "restart")] == ["restarted"]
    assert [s["status"] for s in steps(unit, "release")] == ["ran"]
    assert not any(t.startswith("switch:") for t in unit["todo"])
    assert any("redis" in s["detail"] for s in steps(unit, "data") if s["status"] == "manual")
    assert heroku_state(world) == {"maintenance": True, "formation": {"web": 2, "worker": 0}}
    assert heroku_log["writes"] == 0  # frozen by the third run already
    # the app's runtime variables resolve DATABASE_URL to the addon; no copied Heroku string remains
    own = group(world)["secrets"]["variables"]
    assert not set(SWITCHED) & set(own) and world["source"] not in own.values()
    assert links(world)[ADDON] == {"POSTGRES_URI": ["DATABASE_URL"]}
    inherited = group(world, "all")["secrets"]["variables"]
    assert inherited["DATABASE_URL"] == addon_url(world) and inherited["DATABASE_URL"] != world["source"]
    assert inherited["REDIS_URL"].startswith("rediss://") and "REDIS_URL" in [
        a for keys in links(world).values() for aliases in keys.values() for a in aliases
    ]
    # one restart of each deployment service, one write of the group, one run of the release job
    counts = nf_log["counts"]
    group_writes = [k for k in counts if "/secrets" in k and not k.startswith("GET ")]
    assert sum(counts[k] for k in group_writes) == 1, counts
    assert counts.get("POST /v1/projects/{projectId}/services/{serviceId}/restart") == 2, counts
    assert len(job_runs(world, "northwind-shop-release")) == 1
    state = json.loads((world["work"] / "report" / "state" / f"{APP}.json").read_text())
    assert state["heroku"][APP]["before"] == found
    assert state["data"][ADDON]["verified"] is True
    (switched,) = state["switch"]["groups"]
    assert switched["group"] == GROUP and switched["removed"] == SWITCHED
    assert {"addon": ADDON, "key": "POSTGRES_URI", "aliases": ["DATABASE_URL"]} in switched["links"]
    assert state["release"]["northwind-shop-release"]["key"] == state["attempt_id"]
    if world["server"].psql("SELECT count(*) FROM pg_available_extensions WHERE name = 'citext'").strip() == "1":
        query = "SELECT name FROM customers WHERE email = 'C7@EXAMPLE.COM'"
        assert world["server"].psql(query, url=addon_url(world)).strip() == "customer 7"
    invoices = "SELECT count(*), sum(length(body)), max(id), (SELECT last_value FROM billing.invoices_id_seq) FROM "
    arrived = world["server"].psql(invoices + "billing.invoices", url=addon_url(world)).strip().split("|")
    assert arrived == [str(INVOICES), str(INVOICE_BYTES), str(INVOICES), str(INVOICES)]
    assert steps(unit, "domains") and unit["dns_records"]


def test_5_a_second_cutover_changes_nothing(world):
    result, unit, heroku_log, nf_log = run(world, "cutover", "-e", "herokumigrate_heroku_writes=true")
    assert result.returncode == 0, result.stdout[-3000:]
    assert heroku_log["writes"] == 0 and nf_log["writes"] == 0, (heroku_log["counts"], nf_log["counts"])
    recap = result.stdout.split("PLAY RECAP", 1)[1]
    assert "changed=0" in recap and "failed=0" in recap, recap
    assert unit["status"] == "cut over"
    assert [s["status"] for s in steps(unit, "switch")] == ["already switched"]
    assert [s["status"] for s in steps(unit, "release")] == ["already ran"]
    assert len(job_runs(world, "northwind-shop-release")) == 1


def test_6_migrate_and_verify_after_the_switch_keep_it(world):
    result, unit, heroku_log, nf_log = run(world, "migrate")
    assert result.returncode == 0, result.stdout[-3000:]
    assert nf_log["writes"] == 0, nf_log["counts"]
    assert "changed=0" in result.stdout.split("PLAY RECAP", 1)[1]
    assert unit["changed"] == 0
    assert links(world)[ADDON] == {"POSTGRES_URI": ["DATABASE_URL"]}
    assert not set(SWITCHED) & set(group(world)["secrets"]["variables"])
    result, unit, _heroku_log, nf_log = run(world, "verify")
    assert result.returncode == 0, result.stdout[-3000:]
    assert unit["status"] in ("verified", "attention") and not any(GROUP in r for r in unit["reasons"]), unit
    assert nf_log["writes"] == 0


def test_7_rollback_restores_the_heroku_strings_and_state_and_a_second_changes_nothing(world):
    result, unit, heroku_log, nf_log = run(world, "rollback")
    assert result.returncode != 0 and "herokumigrate_heroku_writes" in unit["skipped"][0]["why"]
    assert heroku_log["writes"] == 0 and nf_log["writes"] == 0  # nothing at all without the opt-in
    result, unit, heroku_log, nf_log = run(world, "rollback", "-e", "herokumigrate_heroku_writes=true")
    assert result.returncode == 0, result.stdout[-3000:]
    state = json.loads((world["work"] / "report" / "state" / f"{APP}.json").read_text())
    assert (
        heroku_state(world)
        == state["heroku"][APP]["before"]
        == {"maintenance": False, "formation": {"web": 2, "worker": 1}}
    )
    assert unit["status"] == "rolled back" and heroku_log["writes"] == 2
    assert [s["status"] for s in steps(unit, "switch")] == ["undone"]
    assert [s["status"] for s in steps(unit, "restart")] == ["restarted"]
    assert nf_log["counts"].get("POST /v1/projects/{projectId}/services/{serviceId}/restart") == 2
    the_app_is_on_heroku(world)
    assert state["switch"]["undone_at"] and state["rolled_back_at"]
    assert any(s["step"] == "data" and s["status"] == "not copied back" for s in unit["cutover"])
    result, unit, heroku_log, nf_log = run(world, "rollback", "-e", "herokumigrate_heroku_writes=true")
    assert result.returncode == 0
    assert heroku_log["writes"] == 0 and nf_log["writes"] == 0
    assert "changed=0" in result.stdout.split("PLAY RECAP", 1)[1]
    assert [s["status"] for s in unit["cutover"] if s["step"] == "heroku"] == ["already as recorded"]
    assert [s["status"] for s in steps(unit, "switch")] == ["already undone"]
    assert json.loads((world["work"] / "report" / "state" / f"{APP}.json").read_text()) == state


def test_8_a_cutover_after_the_rollback_is_a_new_attempt(world):
    result, unit, _heroku_log, nf_log = run(world, "cutover", "-e", "herokumigrate_heroku_writes=true")
    assert result.returncode == 0, result.stdout[-3000:]
    assert unit["status"] == "cut over"
    assert [s["status"] for s in steps(unit, "data") if HEROKU_ADDON in s["detail"]] == ["imported"]
    assert any(IMPORT + "-2" in s["detail"] for s in steps(unit, "data"))
    assert [s["status"] for s in steps(unit, "switch")] == ["switched"]
    assert [s["status"] for s in steps(unit, "release")] == ["ran"]
    assert len(job_runs(world, "northwind-shop-release")) == 2
    state = json.loads((world["work"] / "report" / "state" / f"{APP}.json").read_text())
    assert state["attempt"] == 2 and state["history"][0]["attempt"] == 1
    assert links(world)[ADDON] == {"POSTGRES_URI": ["DATABASE_URL"]}
    result, unit, heroku_log, nf_log = run(world, "rollback", "-e", "herokumigrate_heroku_writes=true")
    assert result.returncode == 0, result.stdout[-3000:]
    the_app_is_on_heroku(world)
    assert heroku_state(world) == {"maintenance": False, "formation": {"web": 2, "worker": 1}}


def test_9_no_connection_string_or_password_anywhere(world):
    assert world["outputs"]
    for i, output in enumerate(world["outputs"]):
        no_secret(f"the output of run {i}", output)
        assert world["source"] not in output
    for path in (world["work"] / "report").rglob("*"):
        if path.is_file():
            text = path.read_text()
            no_secret(str(path), text)
            assert "postgres://" not in text and "postgresql://" not in text, path
    # The rollback's write of the secret group carries the Heroku connection strings in its body (what Northflank
    # stores); nothing else may: no path, query or other field of a request the collection sent (the last run's).
    sent = [{k: v for k, v in r.items() if k != "body"} for r in world["northflank"].requests()["requests"]]
    no_secret("the Northflank emulator's log", json.dumps(sent))

"""The shipped playbooks keep Ansible's contracts, against both emulators (the demo account):

- ``--check`` never writes: ``migrate.yml --check`` sends no write request and its report says it is a plan;
- ``--limit`` (AWX's Limit) still writes the report, for the units in the limit, and a failed unit fails the run after
it;
- ``serial`` and ``strategy: free`` still give one report with every unit;
- an inventory that cannot read Heroku, an inventory without units, missing or refused credentials and ``--tags`` fail
the
  run, naming the cause, before any unit is read from Heroku;
- the single_dyno, multi_dyno and pipeline roles read the scenario from discovery and refuse another before planning.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tests.helpers import ROOT, EmulatorProcess, run_playbook

FIXTURE = ROOT / "tests" / "emulators" / "fixtures" / "demo.yml"
INVENTORY = ROOT / "tests" / "demo" / "inventory"
REPOSITORY = {
    "url": "https://github.com/northwind/{app}",
    "type": "github",
    "account_login": "northwind",
    "branch": "main",
}


@pytest.fixture(scope="module")
def servers():
    heroku = EmulatorProcess("heroku", "--fixture", str(FIXTURE))
    northflank = EmulatorProcess("northflank")
    yield heroku, northflank
    heroku.stop()
    northflank.stop()


@pytest.fixture
def run(servers, tmp_path, monkeypatch):
    """``run(playbook, *args, env=..., inventory=...)``: a shipped playbook (by name) or a playbook file, against the
    emulators,
    from clean logs; returns the completed process, the report (None when none was written) and both logs. ``env``
    entries
    set to None are unset."""
    heroku, northflank = servers

    def _run(playbook, *args, env=None, inventory=INVENTORY):
        full = {**heroku.env(), **northflank.env()}
        for name, value in (env or {}).items():
            if value is None:
                full.pop(name, None)
                monkeypatch.delenv(name, raising=False)
            else:
                full[name] = value
        heroku.clear_log()
        northflank.clear_log()
        report = tmp_path / "report"
        path = playbook if playbook.endswith(".yml") else "playbooks/%s.yml" % playbook
        result = run_playbook(
            path, full, "-i", str(inventory), "-e", "herokumigrate_report_dir=%s" % report, *args, check=False
        )
        data = json.loads((report / "report.json").read_text()) if (report / "report.json").exists() else None
        return SimpleNamespace(result=result, report=data, heroku_log=heroku.requests(), nf_log=northflank.requests())

    return _run


def output(result):
    return result.stdout + result.stderr


def test_migrate_with_check_writes_nothing_and_reports_a_plan(run, tmp_path):
    ran = run("migrate", "--check", "--diff")
    assert ran.result.returncode == 0, output(ran.result)
    assert ran.nf_log["total"] > 0 and ran.nf_log["writes"] == 0
    assert ran.heroku_log["writes"] == 0
    assert ran.report["mode"] == "plan" and {u["mode"] for u in ran.report["units"]} == {"plan"}
    assert {u["status"] for u in ran.report["units"]} == {"planned", "unsupported"}
    assert all(
        r["action"].startswith("would ") or r["action"] == "unchanged"
        for u in ran.report["units"]
        for r in u["resources"]
    )
    assert "This is a plan" in (tmp_path / "report" / "report.md").read_text()


def test_limit_reports_the_units_in_the_limit_with_serial_batches(run):
    ran = run("plan", "--limit", "northwind-hello,northwind-shop", "-e", "herokumigrate_serial=1")
    assert ran.result.returncode == 0, output(ran.result)
    assert sorted(u["unit"] for u in ran.report["units"]) == ["northwind-hello", "northwind-shop"]
    assert ran.report["missing"] == [] and ran.nf_log["writes"] == 0


def test_a_failed_unit_fails_the_run_after_the_report_also_with_strategy_free(run):
    """northwind-hello has no repository to build from: the rules cannot map it. northwind-shop still runs; the report
    holds
    both; the run fails, naming the failed unit and the setting to change."""
    extra = json.dumps(
        {
            "herokumigrate_repository_default": {},
            "herokumigrate_repositories": {
                "northwind-shop": {k: v.replace("{app}", "northwind-shop") for k, v in REPOSITORY.items()}
            },
        }
    )
    ran = run("migrate", "--limit", "northwind-hello,northwind-shop", "-e", extra, env={"ANSIBLE_STRATEGY": "free"})
    assert ran.result.returncode != 0
    units = {u["unit"]: u for u in ran.report["units"]}
    assert set(units) == {"northwind-hello", "northwind-shop"}
    assert (
        units["northwind-hello"]["status"] == "failed"
        and "herokumigrate_repositories" in units["northwind-hello"]["skipped"][0]["why"]
    )
    assert units["northwind-shop"]["status"] == "migrated"
    assert "northwind-hello failed" in ran.result.stdout and "Traceback" not in output(ran.result)
    assert ran.nf_log["writes"] > 0 and not [e for e in ran.nf_log["requests"] if "northwind-hello" in e["path"]]


def test_no_heroku_key_fails_the_run_naming_it(run):
    ran = run("plan", env={"HEROKU_API_KEY": None})
    assert ran.result.returncode != 0
    assert "HEROKU_API_KEY" in ran.result.stdout, output(ran.result)
    assert ran.report is None and ran.heroku_log["total"] == 0 and ran.nf_log["total"] == 0


@pytest.mark.parametrize(
    "env, words",
    [
        ({"HEROKU_API_KEY": "not-the-key"}, "HEROKU_API_KEY (or api_token) is not a valid Heroku API key"),
        ({"HEROKU_API_URL": "not a url"}, "is not an http:// or https:// URL with a host name"),
    ],
    ids=["refused key", "bad url"],
)
def test_an_inventory_that_cannot_read_heroku_fails_the_run_with_the_reason(run, env, words):
    ran = run("plan", env=env)
    assert ran.result.returncode != 0
    assert words in ran.result.stdout, output(ran.result)
    assert ran.report is None and ran.nf_log["total"] == 0
    assert "not-the-key" not in output(ran.result)


def test_an_unreachable_heroku_fails_the_run_with_the_reason(run, tmp_path):
    inventory = tmp_path / "unreachable.heroku.yml"
    inventory.write_text(
        "plugin: herokumigrate.northflank.heroku\napi_url: http://127.0.0.1:9\nmax_retries: 0\ntimeout: 5\n"
    )
    ran = run("plan", inventory=inventory)
    assert ran.result.returncode != 0
    assert "127.0.0.1:9 refused the connection" in ran.result.stdout, output(ran.result)
    assert ran.report is None


def test_an_inventory_filter_that_matches_nothing_fails_the_run(run, tmp_path):
    inventory = tmp_path / "none.heroku.yml"
    inventory.write_text("plugin: herokumigrate.northflank.heroku\napps: ['no-such-*']\npipelines: ['no-such-*']\n")
    ran = run("plan", inventory=inventory)
    assert ran.result.returncode != 0
    assert "No migration unit" in ran.result.stdout, output(ran.result)
    assert ran.report is None and ran.nf_log["total"] == 0


def test_no_northflank_token_fails_before_any_heroku_discovery(run):
    ran = run("migrate", env={"NORTHFLANK_API_TOKEN": None})
    assert ran.result.returncode != 0
    assert "NORTHFLANK_API_TOKEN" in ran.result.stdout, output(ran.result)
    assert ran.report is None and ran.nf_log["total"] == 0
    # Only what the inventory plugin read: the units and their formations, never an app's config vars, add-ons or
    # builds.
    routes = set(ran.heroku_log["counts"])
    assert routes and routes <= {
        "GET /apps",
        "GET /pipelines",
        "GET /pipeline-couplings",
        "GET /apps/{app}/formation",
    }, routes


def test_a_refused_northflank_token_fails_after_one_request(run):
    ran = run("migrate", env={"NORTHFLANK_API_TOKEN": "not-the-token"})
    assert ran.result.returncode != 0
    assert "Northflank refused NORTHFLANK_API_TOKEN (HTTP 401)" in ran.result.stdout, output(ran.result)
    assert "not-the-token" not in output(ran.result)
    assert ran.report is None and ran.nf_log["total"] == 1 and ran.nf_log["writes"] == 0


def test_tags_are_refused_with_the_reason(run):
    ran = run("plan", "--tags", "services")
    assert ran.result.returncode != 0
    assert "offer no tags" in ran.result.stdout, output(ran.result)
    assert ran.report is None and ran.nf_log["total"] == 0


FACE = """
- name: One app through a scenario role
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Migrate
      ansible.builtin.include_role:
        name: herokumigrate.northflank.{role}
      vars:
        herokumigrate_app: northwind-hello
    - name: Keep the record
      ansible.builtin.copy:
        content: "{{{{ herokumigrate_record | to_json }}}}"
        dest: {record}
        mode: "0644"
      check_mode: false
"""


@pytest.mark.parametrize("role", ["single_dyno", "multi_dyno"])
def test_the_scenario_roles_read_the_scenario_from_discovery(run, tmp_path, role):
    """northwind-hello runs one process type: single_dyno plans it; multi_dyno refuses it before anything is planned,
    naming the role to use."""
    playbook, record = tmp_path / "face.yml", tmp_path / "record.json"
    playbook.write_text(FACE.format(role=role, record=record))
    extra = json.dumps({"herokumigrate_repository_default": REPOSITORY})
    ran = run(str(playbook), "--check", "-e", extra)
    assert ran.nf_log["writes"] == 0
    if role == "single_dyno":
        assert ran.result.returncode == 0, output(ran.result)
        assert json.loads(record.read_text())["status"] == "planned"
    else:
        assert ran.result.returncode != 0 and not record.exists()
        assert (
            "northwind-hello is a single_dyno unit, not multi_dyno: use the herokumigrate.northflank.single_dyno role"
            in ran.result.stdout
        )
        assert ran.nf_log["total"] == 0

"""Bad input a user will meet, each answered by one clear message naming the unit (or the file, or the variable) and
the fix, with no traceback and no Python repr, and leaving nothing written or a state a re-run completes (issue 14).

Covered in test_playbook_contracts.py, not repeated here: no HEROKU_API_KEY, a refused key, a bad HEROKU_API_URL,
an unreachable Heroku, filters matching nothing, no NORTHFLANK_API_TOKEN, a refused token, --tags. test_client_inputs.py
covers the clients' own answers to bad tokens, URLs and TLS.

To keep the cost small, the cases share their runs: the inventory cases run ``ansible-inventory`` (the playbooks' first
task fails with the inventory's error host, see test_playbook_contracts.py); the shape cases share one preflight
run; the unit cases share one plan.yml run and one migrate.yml run, then one re-run after the inputs are fixed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from tests.helpers import COLLECTIONS, ROOT, EmulatorProcess, ensure_collection_link, run_playbook

BIG_VALUE = "0123456789abcdef" * 2048  # a 32 KB config var value: never to be printed
FORBIDDEN = ("Traceback", "{'", "<class", "HTTPSConnectionPool", BIG_VALUE[:64])
REPOSITORY = {"url": "https://github.com/demo/{app}", "type": "github", "account_login": "demo"}


def _app(name, **keys):
    spec = {
        "name": name,
        "process_types": {"web": "npm start"},
        "formation": {"web": {"quantity": 1, "size": "basic"}},
        "config_vars": {"NODE_ENV": "production"},
    }
    spec.update(keys)
    return spec


ACCOUNT = {
    "account": {"email": "ops@badin.example", "name": "Ops"},
    "pipelines": [{"name": "bi-split"}],
    "apps": [
        _app(name)
        for name in (
            "bi-hello",
            "bi-denied",
            "bi-badname",
            "bi-cedar",
            "bi-w403",
            "bi-w409",
            "bi-quota",
            "bi-other",
            "bi-region",
            "bi-plan",
        )
    ]
    + [
        _app("bi-big", config_vars={"NODE_ENV": "production", "BIG_BLOB": BIG_VALUE}),
        _app("bi-fir", generation="fir", formation={"web": {"quantity": 1, "size": "dyno-2c-4gb"}}),
        {"name": "bi-idle", "process_types": {}},
        _app("bi-storage", addons=[{"plan": "heroku-postgresql:essential-0"}]),
        _app("bi-split-staging", pipeline={"name": "bi-split", "stage": "staging"}),
        _app("bi-split-prod", region="eu", pipeline={"name": "bi-split", "stage": "production"}),
    ],
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    fixture = tmp_path_factory.mktemp("account") / "bad-input.yml"
    fixture.write_text(yaml.safe_dump(ACCOUNT))
    heroku = EmulatorProcess("heroku", "--fixture", str(fixture))
    northflank = EmulatorProcess("northflank")
    # A retired stack: the emulator's fixtures only know live stacks, so bi-cedar is moved to cedar-14 in its state.
    state = heroku.state()
    for app in state["apps"]:
        if app["name"] == "bi-cedar":
            app["stack"] = app["build_stack"] = {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "cedar-14")),
                "name": "cedar-14",
            }
    heroku.admin("PUT", "/_admin/state", state)
    yield heroku, northflank
    heroku.stop()
    northflank.stop()


def app_id(heroku, name):
    return next(a["id"] for a in heroku.state()["apps"] if a["name"] == name)


def output(result):
    return result.stdout + result.stderr


def assert_clean(text):
    for bad in FORBIDDEN:
        assert bad not in text, "%r in the output:\n%s" % (bad[:20], text[-3000:])


def static_inventory(path, hosts, **group_vars):
    """A static inventory: ``hosts`` maps a host to its variables (heroku_unit is {kind: app, name: host} unless
    given; None: no variables at all)."""
    entries = {}
    for host, variables in hosts.items():
        entries[host] = (
            dict({"heroku_unit": {"kind": "app", "name": host}}, **variables) if variables is not None else {}
        )
    path.write_text(
        yaml.safe_dump(
            {"all": {"vars": dict({"herokumigrate_repository_default": REPOSITORY}, **group_vars), "hosts": entries}}
        )
    )
    return path


def playbook(servers, name, inventory, *args, report=None):
    heroku, northflank = servers
    heroku.clear_log()
    northflank.clear_log()
    extra = ("-e", "herokumigrate_report_dir=%s" % report) if report else ()
    result = run_playbook(
        "playbooks/%s.yml" % name,
        {**heroku.env(), **northflank.env()},
        "-i",
        str(inventory),
        *extra,
        *args,
        check=False,
    )
    data = (
        json.loads((Path(report) / "report.json").read_text())
        if report and (Path(report) / "report.json").exists()
        else None
    )
    return result, data, heroku.requests(), northflank.requests()


# -- the inventory file ------------------------------------------------------------------------------------------------
PLUGIN = "plugin: herokumigrate.northflank.heroku\n"
# (id, file name, content, Heroku fault or budget, words the answer holds)
INVENTORY_CASES = [
    (
        "app for apps",
        "inv.heroku.yml",
        PLUGIN + "app: ['bi-hello']\n",
        None,
        [
            "inv.heroku.yml: unknown option app (did you mean apps?)",
            "ansible-doc -t inventory herokumigrate.northflank.heroku",
        ],
    ),
    (
        "pipeline for pipelines",
        "inv.heroku.yml",
        PLUGIN + "pipeline: ['bi-split']\n",
        None,
        ["unknown option pipeline (did you mean pipelines?)"],
    ),
    (
        "unknown options",
        "inv.heroku.yml",
        PLUGIN + "filter: bi-*\nregion: eu\n",
        None,
        ["unknown options filter, region;"],
    ),
    (
        "apps a mapping",
        "inv.heroku.yml",
        PLUGIN + "apps: {bi-hello: true}\n",
        None,
        ["option apps must be a list of patterns, e.g. apps: ['shop-*']"],
    ),
    ("timeout not a number", "inv.heroku.yml", PLUGIN + "timeout: soon\n", None, ["option timeout must be an integer"]),
    (
        "max_retries not a number",
        "inv.heroku.yml",
        PLUGIN + "max_retries: many\n",
        None,
        ["option max_retries must be an integer"],
    ),
    (
        "file not named heroku.yml",
        "inventory.yml",
        PLUGIN,
        None,
        [
            "inventory.yml names plugin herokumigrate.northflank.heroku but its name does not end with heroku.yml",
            "rename it (e.g. to",
        ],
    ),
    (
        "misspelt plugin",
        "inv.heroku.yml",
        "plugin: herokumigrate.northflank.herokuu\n",
        None,
        ["specifies unknown plugin 'herokumigrate.northflank.herokuu'"],
    ),
    (
        "key may not list apps (403)",
        "inv.heroku.yml",
        PLUGIN,
        {"queue": [{"fault": "403", "match": "GET /apps", "times": 5}]},
        ["HTTP 403", "the Heroku API key may not read this account's apps"],
    ),
    (
        "Heroku budget exhausted",
        "inv.heroku.yml",
        PLUGIN + "max_rate_limit_wait: 5\n",
        {"rate-limit": {"remaining": 0, "per_hour": 1}},
        ["rate limit", "re-run later"],
    ),
]


@pytest.mark.parametrize(
    "name, content, knob, words", [c[1:] for c in INVENTORY_CASES], ids=[c[0] for c in INVENTORY_CASES]
)
def test_a_bad_inventory_file_is_answered_naming_the_fix(servers, tmp_path, name, content, knob, words):
    heroku, northflank = servers
    path = tmp_path / name
    path.write_text(content)
    if knob and "queue" in knob:
        heroku.faults(**knob)
    elif knob:
        before = heroku.admin("GET", "/_admin/rate-limit")
        heroku.admin("POST", "/_admin/rate-limit", knob["rate-limit"])
    ensure_collection_link()
    env = dict(
        os.environ,
        **heroku.env(),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_CONFIG=str(ROOT / "tests" / "ansible.cfg"),
    )
    try:
        result = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(path), "--list"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        if knob and "queue" in knob:
            heroku.faults(queue=[])
        elif knob:
            heroku.admin(
                "POST",
                "/_admin/rate-limit",
                {"size": before["size"], "per_hour": before["per_hour"], "remaining": before["size"]},
            )
    text = output(result)
    for word in words:
        assert word in " ".join(text.split()), text
    assert_clean(text)
    hosts = json.loads(result.stdout)["_meta"]["hostvars"] if result.stdout.strip() else {}
    # Never the whole account: either no unit, or only the host that carries the error (the playbooks fail on it first).
    assert set(hosts) <= {"heroku-inventory-error"}, sorted(hosts)
    if set(hosts):
        assert words[0] in hosts["heroku-inventory-error"]["heroku_inventory_error"]


def test_a_misspelt_plugin_fails_the_playbook_before_any_unit(servers, tmp_path):
    path = tmp_path / "typo.heroku.yml"
    path.write_text("plugin: herokumigrate.northflank.herokuu\n")
    result, report, heroku_log, nf_log = playbook(servers, "plan", path, report=tmp_path / "report")
    assert result.returncode != 0
    text = " ".join(output(result).split())
    assert "unknown plugin 'herokumigrate.northflank.herokuu'" in text and "No migration unit" in text, text
    assert "fix the file it names" in text
    assert report is None and nf_log["total"] == 0
    assert_clean(output(result))


# -- the variables of the units: one preflight run, before any unit starts ---------------------------------------------
SHAPE_CASES = [
    (
        "plans a list",
        {"herokumigrate_plans": ["basic"]},
        "herokumigrate_plans must be a mapping (name: value), not list",
    ),
    (
        "variables a string",
        {"herokumigrate_variables": "keep all"},
        "herokumigrate_variables must be a mapping (name: value), not str",
    ),
    (
        "repositories a list",
        {"herokumigrate_repositories": ["https://github.com/demo/x"]},
        "herokumigrate_repositories must be a mapping (name: value), not list",
    ),
    (
        "scheduler jobs a mapping",
        {"herokumigrate_scheduler_jobs": {"command": "rake x"}},
        "herokumigrate_scheduler_jobs must be a list, not dict",
    ),
    ("project a number", {"herokumigrate_project": 42}, "herokumigrate_project must be a string, not int"),
    (
        "heroku_unit kind misspelt",
        {"heroku_unit": {"kind": "pipline", "name": "bi-split"}},
        "heroku_unit must be {kind: app or pipeline, name: <Heroku name>}",
    ),
    ("heroku_unit missing", None, "heroku_unit must be {kind: app or pipeline, name: <Heroku name>}"),
]


@pytest.fixture(scope="module")
def shape_run(servers, tmp_path_factory):
    where = tmp_path_factory.mktemp("shapes")
    hosts = {"shape-%d" % i: variables for i, (_unit, variables, _words) in enumerate(SHAPE_CASES)}
    return playbook(servers, "plan", static_inventory(where / "hosts.yml", hosts), report=where / "report")


@pytest.mark.parametrize("index", range(len(SHAPE_CASES)), ids=[c[0] for c in SHAPE_CASES])
def test_a_variable_of_the_wrong_shape_fails_the_run_before_any_unit(shape_run, index):
    result, report, heroku_log, nf_log = shape_run
    assert result.returncode != 0
    text = " ".join(result.stdout.split())
    assert "Fix these variables (host_vars or group_vars):" in text
    assert "shape-%d: %s" % (index, SHAPE_CASES[index][2]) in text, text
    assert report is None and heroku_log["total"] == 0 and nf_log["total"] == 0
    assert_clean(output(result))


def test_an_unwritable_report_directory_fails_the_run_before_any_unit(servers, tmp_path):
    (tmp_path / "a-file").write_text("")
    inventory = static_inventory(tmp_path / "hosts.yml", {"bi-hello": {}})
    result, _report, heroku_log, nf_log = playbook(servers, "migrate", inventory, report=tmp_path / "a-file" / "report")
    assert result.returncode != 0
    text = " ".join(result.stdout.split())
    assert (
        "The report directory %s (herokumigrate_report_dir) cannot be created or written"
        % (tmp_path / "a-file" / "report")
        in text
    )
    assert "set herokumigrate_report_dir to a directory you may write" in text
    assert heroku_log["total"] == 0 and nf_log["writes"] == 0
    assert_clean(output(result))


# -- units Heroku or the rules refuse: one plan.yml run ----------------------------------------------------------------
# (unit, its variables, status, words of the unit's record)
PLAN_CASES = [
    (
        "bi-fir",
        # A table of the user's own that lacks the app's Fir size.
        {"herokumigrate_plans": {"basic": "nf-compute-20", "standard-1x": "nf-compute-20"}},
        "failed",
        [
            "bi-fir: no Northflank compute plan for Heroku 'dyno-2c-4gb'",
            "set herokumigrate_plans (or herokumigrate_plan)",
        ],
    ),
    (
        "bi-cedar",
        {},
        "failed",
        ["no Northflank buildpack builder for Heroku 'cedar-14'", "set herokumigrate_builder for this unit"],
    ),
    ("bi-idle", {}, "unsupported", ["no dyno formation: nothing runs on Heroku to migrate"]),
    (
        "bi-split",
        {"heroku_unit": {"kind": "pipeline", "name": "bi-split"}},
        "unsupported",
        ["pipeline spans several regions (eu, us)"],
    ),
    ("bi-denied", {}, "failed", ["Could not read Heroku app bi-denied: HTTP 403", "deploy permission"]),
    (
        "bi-deleted",
        {},
        "failed",
        ["Could not read Heroku app bi-deleted: HTTP 404", "no longer exists on Heroku", "--limit '!bi-deleted'"],
    ),
    ("bi-badname", {"herokumigrate_project": "Bad Name!"}, "planned", []),
    ("bi-big", {}, "planned", []),
]


@pytest.fixture(scope="module")
def plan_run(servers, tmp_path_factory):
    heroku, _northflank = servers
    where = tmp_path_factory.mktemp("plan")
    # An under-privileged key: it may read bi-denied but not its config vars.
    heroku.faults(
        queue=[
            {"fault": "403", "match": "GET /apps/%s/config-vars" % ref, "times": 50}
            for ref in ("bi-denied", app_id(heroku, "bi-denied"))
        ]
    )
    try:
        return playbook(
            servers,
            "plan",
            static_inventory(where / "hosts.yml", {c[0]: c[1] for c in PLAN_CASES}),
            report=where / "report",
        )
    finally:
        heroku.faults(queue=[])


@pytest.mark.parametrize(
    "unit, status, words", [(c[0], c[2], c[3]) for c in PLAN_CASES], ids=[c[0] for c in PLAN_CASES]
)
def test_a_unit_heroku_or_the_rules_refuse_is_recorded_with_the_fix(plan_run, unit, status, words):
    result, report, _heroku_log, nf_log = plan_run
    assert nf_log["writes"] == 0
    assert_clean(output(result))
    record = {u["unit"]: u for u in report["units"]}[unit]
    assert record["status"] == status, record
    why = " ".join(s["why"] for s in record["skipped"])
    for word in words:
        assert word in why, why
    if status == "failed":
        assert result.returncode != 0 and "%s failed:" % unit in result.stdout
    if unit == "bi-badname":  # a name Northflank would refuse is made valid, and the report says so
        renamed = [(r["kind"], r["heroku"], r["northflank"]) for r in record["renamed"]]
        assert ("project", "Bad Name!", "bad-name") in renamed, record["renamed"]


# -- units Northflank refuses: one migrate.yml run, then a re-run after the input is fixed -----------------------------
# (unit, its variables, fault on its service write, words of the failure, variables of the re-run)
MIGRATE_CASES = [
    ("bi-w403", {}, "403", ["HTTP 403", "the API token's role may not create or change services"], {}),
    ("bi-w409", {}, "409", ["HTTP 409", "rename or delete it on Northflank"], {}),
    ("bi-quota", {}, "402", ["HTTP 402", "the team's plan or quota does not allow it"], {}),
    (
        "bi-other",
        {},
        None,
        [
            "a deployment service with the ID 'bi-other' already exists in project 'bi-other'",
            "delete it first, or give this combined service another name",
        ],
        {},
    ),
    (
        "bi-region",
        {"herokumigrate_region": "mars"},
        None,
        ["region='mars' is not a region", "change the option (or herokumigrate_* variable) that sets it"],
        {"herokumigrate_region": "us-east1"},
    ),
    (
        "bi-plan",
        {"herokumigrate_plan": "nf-compute-huge"},
        None,
        ["billing.deploymentPlan='nf-compute-huge' is not a plan"],
        {"herokumigrate_plan": ""},
    ),
    ("bi-big", {}, None, [], {}),
]


@pytest.fixture(scope="module")
def migrate_runs(servers, tmp_path_factory):
    heroku, northflank = servers
    where = tmp_path_factory.mktemp("migrate")
    # Someone made a deployment service on the ID the combined service of bi-other derives.
    northflank_api(northflank, "PUT", "/v1/projects", {"name": "bi-other", "region": "us-east1"})
    northflank_api(
        northflank,
        "PUT",
        "/v1/projects/bi-other/services/deployment",
        {
            "name": "bi-other",
            "billing": {"deploymentPlan": "nf-compute-20"},
            "deployment": {"instances": 1, "external": {"imagePath": "nginx:latest"}},
        },
    )
    northflank.faults(
        queue=[
            {"fault": c[2], "match": "PUT /v1/projects/%s/services" % c[0], "times": 1} for c in MIGRATE_CASES if c[2]
        ]
    )
    hosts = dict({c[0]: c[1] for c in MIGRATE_CASES}, **{"bi-storage": {}})
    first = playbook(servers, "migrate", static_inventory(where / "first.yml", hosts), report=where / "first")
    northflank.faults(queue=[])
    northflank_api(northflank, "DELETE", "/v1/projects/bi-other/services/bi-other")
    # The re-run, inputs fixed; and bi-storage (migrated above) with a smaller addon storage: see the test below.
    smaller = {"postgresql": {"version": "16-latest", "plan": "nf-compute-50", "storage": 4096, "replicas": 1,
                              "tls": True}}
    hosts = dict({c[0]: c[4] for c in MIGRATE_CASES}, **{"bi-storage": {"herokumigrate_addon_settings": smaller}})
    again = playbook(servers, "migrate", static_inventory(where / "again.yml", hosts), report=where / "again")
    return first, again


def northflank_api(northflank, method, path, body=None):
    import urllib.request

    request = urllib.request.Request(
        northflank.url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + northflank.token},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


@pytest.mark.parametrize("unit, words", [(c[0], c[3]) for c in MIGRATE_CASES], ids=[c[0] for c in MIGRATE_CASES])
def test_a_unit_northflank_refuses_fails_naming_the_fix_and_a_rerun_converges(migrate_runs, unit, words):
    (result, report, _hl1, _nl1), (again, again_report, _hl2, _nl2) = migrate_runs
    assert_clean(output(result))
    assert_clean(output(again))
    record = {u["unit"]: u for u in report["units"]}[unit]
    if not words:  # bi-big: a 32 KB value is migrated, and never printed
        assert record["status"] == "migrated", record
    else:
        assert record["status"] == "failed", record
        why = " ".join(record["skipped"][0]["why"].split())
        for word in words:
            assert word in why, why
        assert "%s failed:" % unit in result.stdout
    assert result.returncode != 0
    assert {u["unit"]: u["status"] for u in again_report["units"]}[unit] == "migrated", output(again)[-4000:]


def test_an_addon_storage_decrease_fails_the_unit_and_leaves_the_addon(migrate_runs):
    """bi-storage is migrated with the default 10 GB by the first run; in the re-run its user lowers the storage:
    Northflank cannot shrink it, so the unit fails naming the variable, and the addon is left as it was."""
    (_result, report, _hl1, _nl1), (again, again_report, _hl2, nf_log) = migrate_runs
    assert {u["unit"]: u["status"] for u in report["units"]}["bi-storage"] == "migrated"
    record = {u["unit"]: u for u in again_report["units"]}["bi-storage"]
    assert record["status"] == "failed", record
    why = " ".join(record["skipped"][0]["why"].split())
    assert "storage cannot decrease from 10240 to 4096" in why and "herokumigrate_addon_settings" in why, why
    assert again.returncode != 0 and "bi-storage failed:" in again.stdout
    assert not [e for e in nf_log["requests"] if e["method"] != "GET" and "/addons" in e["path"]], nf_log["counts"]

"""The mapping rules on a messy account (tests/emulators/fixtures/edge.yml) against both emulators, through
playbooks/migrate.yml and the heroku inventory plugin: one Northflank resource per Heroku thing, every renaming
in the report, a second run that changes nothing; and northflank_project's owner check (docs/mapping.md)."""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import pytest

from ansible_collections.herokumigrate.northflank.plugins.module_utils import rules
from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku import HerokuClient
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank import NorthflankClient
from tests.helpers import ROOT, EmulatorProcess, run_playbook

FIXTURE = ROOT / "tests" / "emulators" / "fixtures" / "edge.yml"
INVENTORY = ROOT / "tests" / "integration" / "edge" / "inventory"
UNITS = [
    ("pipeline", "edge-shop"),
    ("pipeline", "edge-geo"),
    ("app", "edge-shop"),
    ("app", "edge-a--b"),
    ("app", "edge-a-b"),
    ("app", "edge-procs"),
    ("app", "edge-fir"),
    ("app", "edge-internal"),
    ("app", "edge-docker"),
    ("app", "edge-empty"),
]
PROJECTS = rules.unit_project_names(UNITS)
SHOP, SHOP_APP = PROJECTS[("pipeline", "edge-shop")], PROJECTS[("app", "edge-shop")]
A_B2, A_B1 = PROJECTS[("app", "edge-a--b")], PROJECTS[("app", "edge-a-b")]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    report = tmp_path_factory.mktemp("report")
    heroku = EmulatorProcess("heroku", "--fixture", str(FIXTURE))
    northflank = EmulatorProcess("northflank")
    env = {**heroku.env(), **northflank.env()}
    args = ("-i", str(INVENTORY), "-e", f"herokumigrate_report_dir={report}")
    try:
        plan = run_playbook("playbooks/plan.yml", env, *args)
        plan_writes = northflank.requests()["writes"]
        northflank.clear_log()
        first = run_playbook("playbooks/migrate.yml", env, *args, "--diff")
        first_log = northflank.requests()
        northflank.clear_log()
        second = run_playbook("playbooks/migrate.yml", env, *args)
        second_log = northflank.requests()
        # keyed by kind too: the app edge-shop and the pipeline edge-shop are two units of one name
        units = {(u["kind"], u["heroku_name"]): u for u in json.loads((report / "report.json").read_text())["units"]}
        yield dict(
            heroku=heroku,
            northflank=northflank,
            plan=plan,
            plan_writes=plan_writes,
            first=first,
            first_log=first_log,
            second=second,
            second_log=second_log,
            report=report,
            units=units,
        )
    finally:
        heroku.stop()
        northflank.stop()


@pytest.fixture(scope="module")
def nf(migrated):
    return NorthflankClient(token=migrated["northflank"].token, base_url=migrated["northflank"].url)


@pytest.fixture(scope="module")
def heroku(migrated):
    return HerokuClient(token=migrated["heroku"].token, base_url=migrated["heroku"].url)


def services(nf, project):
    return {
        s["name"]: nf.get("/v1/projects/{project}/services/{service}", project=project, service=s["id"])
        for s in nf.list("/v1/projects/{project}/services", "services", project=project)
    }


def test_the_plan_writes_nothing_and_the_second_run_changes_nothing(migrated):
    assert migrated["plan_writes"] == 0
    assert migrated["second_log"]["writes"] == 0
    recap = [line for line in migrated["second"].stdout.split("PLAY RECAP", 1)[1].splitlines() if " : " in line]
    assert len(recap) == 10  # ten units (the report is delegated to localhost from them)
    for line in recap:
        assert "changed=0" in line and "failed=0" in line, line
    for log in (migrated["first_log"], migrated["second_log"]):
        assert not [e for e in log["requests"] if e.get("contract_error")]


def test_each_unit_has_its_own_project_and_colliding_names_are_disambiguated(migrated, nf):
    projects = {p["name"]: p for p in nf.list("/v1/projects", "projects")}
    migrated_units = [
        u for u in UNITS if u not in (("pipeline", "edge-geo"), ("app", "edge-docker"), ("app", "edge-empty"))
    ]
    assert set(projects) == {PROJECTS[u] for u in migrated_units}  # one project per unit, none shared
    assert "edge-shop" not in projects and "edge-a-b" not in projects
    assert len({SHOP, SHOP_APP, A_B1, A_B2}) == 4
    assert projects[SHOP]["description"] == "Migrated from Heroku pipeline edge-shop"
    assert projects[SHOP_APP]["description"] == "Migrated from Heroku app edge-shop"
    # nothing overwrote anything: each app's own values are in its own project
    assert services(nf, A_B2)["edge-a-b"]["runtimeEnvironment"]["WHICH"] == "double-hyphen"
    assert services(nf, A_B1)["edge-a-b"]["runtimeEnvironment"]["WHICH"] == "single-hyphen"
    assert services(nf, SHOP_APP)["edge-shop"]["runtimeEnvironment"]["LEGACY_SHOP"] == "true"


def test_the_report_lists_every_renaming(migrated):
    units = migrated["units"]
    renamed = {(key, r["kind"], r["heroku"], r["northflank"]) for key, u in units.items() for r in u["renamed"]}
    assert {
        (("pipeline", "edge-shop"), "project", "edge-shop", SHOP),
        (("app", "edge-shop"), "project", "edge-shop", SHOP_APP),
        (("app", "edge-a--b"), "project", "edge-a--b", A_B2),
        (("app", "edge-a-b"), "project", "edge-a-b", A_B1),
    } <= renamed
    procs = {r["heroku"]: r["northflank"] for r in units[("app", "edge-procs")]["renamed"] if r["kind"] == "service"}
    assert set(procs) == {"edge-procs-web_worker", "edge-procs-web-worker"} and len(set(procs.values())) == 2
    assert all(r["reason"] for u in units.values() for r in u["renamed"])
    md, html = (migrated["report"] / "report.md").read_text(), (migrated["report"] / "report.html").read_text()
    for name, _kind, heroku_name, northflank_name in renamed:
        assert "`%s` is `%s`" % (heroku_name, northflank_name) in md
        assert "<code>%s</code></td><td><code>%s</code>" % (heroku_name, northflank_name) in html


def test_process_types_differing_by_underscore_and_hyphen_are_two_services(nf):
    found = services(nf, "edge-procs")
    deployments = {
        s["deployment"]["buildpack"]["customProcess"]: s for s in found.values() if s["serviceType"] == "deployment"
    }
    assert set(deployments) == {"web", "web_worker", "web-worker"}
    assert (
        deployments["web_worker"]["deployment"]["instances"],
        deployments["web-worker"]["deployment"]["instances"],
    ) == (1, 2)
    assert len(found) == 4  # the build service and one deployment per process type


def test_each_heroku_add_on_is_its_own_addon_with_its_own_import(migrated, nf, heroku):
    heroku_addons = {a["name"] for a in heroku.list("/apps/{app}/addons", app="edge-procs")}
    assert {"postgresql-curved-12345", "postgresql-rigid-67890"} <= heroku_addons
    addons = {a["name"]: a for a in nf.list("/v1/projects/{project}/addons", "addons", project="edge-procs")}
    assert set(addons) == heroku_addons  # Postgres twice, Redis once
    assert sorted(a["spec"]["type"] for a in addons.values()) == ["postgresql", "postgresql", "redis"]
    assert all(a["description"].startswith("Heroku add-on %s " % name) for name, a in addons.items())
    todo = migrated["units"][("app", "edge-procs")]["todo"]
    for name in heroku_addons:
        assert len([t for t in todo if "move the data of %s " % name in t]) == 1
    assert any("postgresql-rigid-67890" in t and "HEROKU_POSTGRESQL_ORANGE_URL" in t for t in todo)


def test_heroku_s_own_variables_are_dropped_by_name_and_the_user_s_heroku_variables_copied(nf, heroku):
    group = nf.get("/v1/projects/{project}/secrets/{secret}", project="edge-procs", secret="edge-procs-env")
    variables = group["secrets"]["variables"]
    config = heroku.get("/apps/{app}/config-vars", app="edge-procs")
    assert (
        variables["HEROKU_API_KEY"] == config["HEROKU_API_KEY"]
        and variables["HEROKU_OAUTH_SECRET"] == config["HEROKU_OAUTH_SECRET"]
    )
    assert not {"HEROKU_APP_NAME", "HEROKU_APP_ID", "HEROKU_SLUG_COMMIT", "HEROKU_RELEASE_VERSION"} & set(variables)
    assert {"DATABASE_URL", "HEROKU_POSTGRESQL_ORANGE_URL", "REDIS_URL"} <= set(variables)


def test_domains_under_public_suffixes_are_registered_under_their_apex(migrated, nf):
    domains = {d["name"] for d in nf.list("/v1/domains", "domains")}
    assert domains == {"edge-shop.co.uk", "edge-shop.com.au", "edge-shop.github.io"}  # never co.uk, com.au or github.io
    # each host name waits for its domain's verification under the right apex (the subdomains are linked after it)
    todo = migrated["units"][("app", "edge-procs")]["todo"]
    for host, domain in (
        ("www.edge-shop.co.uk", "edge-shop.co.uk"),
        ("edge-shop.co.uk", "edge-shop.co.uk"),
        ("api.edge-shop.com.au", "edge-shop.com.au"),
        ("docs.edge-shop.github.io", "edge-shop.github.io"),
    ):
        assert "%s: the domain %s is not verified yet" % (host, domain) in "\n".join(todo), host


def test_a_fir_app_migrates_with_fir_sizes_mapped_to_plans(nf):
    found = services(nf, "edge-fir")
    assert found["edge-fir-web"]["billing"]["deploymentPlan"] == "nf-compute-200"  # dyno-2c-4gb
    assert found["edge-fir-worker"]["billing"]["deploymentPlan"] == "nf-compute-100-1"  # dyno-1c-0.5gb
    assert found["edge-fir-web"]["deployment"]["instances"] == 2


def test_internal_routing_stays_private(nf):
    (svc,) = services(nf, "edge-internal").values()
    assert [(p["name"], p["public"]) for p in svc["ports"]] == [("web", False)]


def test_the_pipeline_follows_heroku_s_promotion(migrated, nf):
    pipeline = nf.get("/v1/projects/{project}/pipelines/{pipeline}", project=SHOP, pipeline="edge-shop")
    members = sorted((o["id"], o["stage"]) for o in pipeline["nfObjects"])
    assert ("edge-shop-dev-a-release", "Development") in members and ("edge-shop-stg-release", "Staging") in members
    assert not [m for m in members if "pr-12" in m[0] or "-ci" in m[0]]  # review and test apps are not migrated

    def steps(stage):
        flow = nf.get(
            "/v1/projects/{project}/pipelines/{pipeline}/release-flows/{stage}",
            project=SHOP,
            pipeline="edge-shop",
            stage=stage,
        )
        return [
            (
                s["kind"],
                s["spec"].get("origin", {}).get("id"),
                s["spec"].get("target", {}).get("id") or s["spec"].get("jobId"),
            )
            for s in flow["spec"]["spec"]["steps"]
        ]

    # development: each app's own build, every release phase first
    assert steps("development") == [
        ("Release", "edge-shop-dev-a-builder", "edge-shop-dev-a-release"),
        ("JobRun", None, "edge-shop-dev-a-release"),
        ("Release", "edge-shop-dev-b-builder", "edge-shop-dev-b-release"),
        ("JobRun", None, "edge-shop-dev-b-release"),
        ("Release", "edge-shop-dev-a-builder", "edge-shop-dev-a-web"),
        ("Release", "edge-shop-dev-a-builder", "edge-shop-dev-a-worker"),
        ("Release", "edge-shop-dev-b-builder", "edge-shop-dev-b-web"),
    ]
    # staging: everything from ONE app (edge-shop-dev-a runs web, worker and a release phase)
    assert steps("staging") == [
        ("Release", "edge-shop-dev-a-release", "edge-shop-stg-release"),
        ("JobRun", None, "edge-shop-stg-release"),
        ("Release", "edge-shop-dev-a-web", "edge-shop-stg-web"),
        ("Release", "edge-shop-dev-a-worker", "edge-shop-stg-worker"),
    ]
    # production: clock is not run in staging and production has no release phase: promoted without them, reported
    assert steps("production") == [
        ("Release", "edge-shop-stg-web", "edge-shop-prd-web"),
        ("Release", "edge-shop-stg-worker", "edge-shop-prd-worker"),
    ]
    unit = migrated["units"][("pipeline", "edge-shop")]
    assert unit["status"] == "migrated"
    assert any("process type clock to edge-shop-prd" in s["what"] for s in unit["skipped"])
    assert any("edge-shop-prd has no release phase" in w for w in unit["warnings"])
    assert "edge-shop-prd-clock" in services(nf, SHOP)


def test_units_the_importer_refuses_are_reported_and_not_created(migrated, nf):
    units = migrated["units"]
    for unit, why in (
        (("app", "edge-docker"), "container"),
        (("app", "edge-empty"), "no dyno formation"),
        (("pipeline", "edge-geo"), "several regions"),
    ):
        assert units[unit]["status"] == "unsupported" and why in units[unit]["skipped"][0]["why"], unit
        assert nf.get_or_none("/v1/projects/{project}", project=unit[1]) is None


def test_no_config_var_value_or_token_in_output_or_report(migrated, heroku):
    apps = heroku.list("/apps")
    names = {
        a["name"] for a in apps
    }  # review apps' HEROKU_APP_NAME and HEROKU_PARENT_APP_NAME are app names, not secrets
    values = {
        v
        for app in apps
        for v in heroku.get("/apps/{app}/config-vars", app=app["name"]).values()
        if len(v) >= 12 and v not in names
    }
    assert len(values) >= 8  # the check has something to find
    values |= {migrated["heroku"].token, migrated["northflank"].token}
    texts = [migrated[k].stdout + migrated[k].stderr for k in ("plan", "first", "second")]
    texts += [p.read_text() for p in Path(migrated["report"]).iterdir() if p.is_file()]
    assert not sorted({v[:8] + "..." for v in values for t in texts if v in t})


OWNER_PLAY = textwrap.dedent("""\
    - hosts: localhost
      gather_facts: false
      vars:
        ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
      tasks:
        - name: {name}
          herokumigrate.northflank.northflank_project:
            name: "{project}"
            region: us-east1
            description: "{description}"
            owner: "{owner}"
          register: result
        - ansible.builtin.debug:
            msg: "changed={{{{ result.changed }}}}"
    """)


@pytest.mark.parametrize(
    "existing,owner,fails",
    [
        ("Migrated from Heroku app edge-x", "Heroku app edge-y", True),  # another unit's project: refused
        (
            "Migrated from Heroku app edge-x",
            "Heroku app edge-x-2",
            True,
        ),  # a name that only starts alike is another unit
        ("Migrated from Heroku pipeline edge-x", "Heroku app edge-x", True),
        ("Migrated from Heroku app edge-x", "Heroku app edge-x", False),  # its own
        ("Made by hand", "Heroku app edge-x", False),  # not a migrated project: used as before
    ],
)
def test_northflank_project_refuses_a_project_another_heroku_unit_owns(migrated, nf, tmp_path, existing, owner, fails):
    project = "owned-" + hashlib.sha1((existing + owner).encode()).hexdigest()[:8]
    nf.put("/v1/projects", {"name": project, "region": "us-east1", "description": existing})
    env = migrated["northflank"].env()
    playbook = tmp_path / "owner.yml"
    for check in (["--check"], []):
        playbook.write_text(OWNER_PLAY.format(name="Owner check", project=project, description=existing, owner=owner))
        migrated["northflank"].clear_log()
        result = run_playbook(str(playbook), env, "-i", "localhost,", "-c", "local", *check, check=False)
        assert (result.returncode != 0) == fails, result.stdout
        if fails:
            assert "belongs to another Heroku unit" in result.stdout and owner in result.stdout
            assert migrated["northflank"].requests()["writes"] == 0
        else:
            assert "changed=False" in result.stdout
    assert nf.get("/v1/projects/{project}", project=project)["description"] == existing


def test_project_names_do_not_depend_on_the_inventory_s_filters(migrated, tmp_path):
    """The inventory names projects from every unit of the account: with only edge-a-b and the app edge-shop kept,
    their projects keep the names that tell them from edge-a--b and the pipeline edge-shop."""
    config = tmp_path / "filtered.heroku.yml"
    config.write_text("plugin: herokumigrate.northflank.heroku\napps: [edge-a-b, edge-shop]\npipelines: []\n")
    out = tmp_path / "projects.json"
    run_playbook(
        str(INVENTORY_PLAY), migrated["heroku"].env(), "-i", str(config), "-e", f"herokumigrate_projects_file={out}"
    )
    hosts = json.loads(out.read_text())
    assert hosts == {"edge-a-b": A_B1, "edge-shop": SHOP_APP}


INVENTORY_PLAY = ROOT / "tests" / "integration" / "edge" / "projects.yml"

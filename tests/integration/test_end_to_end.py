"""The whole migration of the demo account (tests/emulators/fixtures/demo.yml) against both
emulators, through playbooks/migrate.yml and the heroku inventory plugin, asserted resource by
resource on the Northflank side; then a second run that must change nothing and write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku import HerokuClient
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank import NorthflankClient
from tests.helpers import ROOT, EmulatorProcess, run_playbook

FIXTURE = ROOT / "tests" / "emulators" / "fixtures" / "demo.yml"
INVENTORY = ROOT / "tests" / "demo" / "inventory"
DEMO = yaml.safe_load(FIXTURE.read_text())
WEB_PORT = "8080"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    report = tmp_path_factory.mktemp("report")
    heroku = EmulatorProcess("heroku", "--fixture", str(FIXTURE))
    northflank = EmulatorProcess("northflank")
    env = {**heroku.env(), **northflank.env()}
    args = ("-i", str(INVENTORY), "-e", f"herokumigrate_report_dir={report}")
    try:
        plan = run_playbook("playbooks/plan.yml", env, *args)
        plan_log = northflank.requests()
        plan_writes = plan_log["writes"]
        northflank.clear_log()
        first = run_playbook("playbooks/migrate.yml", env, *args, "-vvv", "--diff")
        first_log = northflank.requests()
        northflank.clear_log()
        second = run_playbook("playbooks/migrate.yml", env, *args)
        second_log = northflank.requests()
        yield dict(
            heroku=heroku,
            northflank=northflank,
            plan=plan,
            plan_writes=plan_writes,
            plan_log=plan_log,
            first=first,
            first_log=first_log,
            second=second,
            second_log=second_log,
            report=report,
        )
    finally:
        heroku.stop()
        northflank.stop()


@pytest.fixture(scope="module")
def nf(migrated):
    server = migrated["northflank"]
    return NorthflankClient(token=server.token, base_url=server.url)


def heroku_config(migrated, app):
    server = migrated["heroku"]
    return HerokuClient(token=server.token, base_url=server.url).get("/apps/{app}/config-vars", app=app)


def data_addons(migrated, app):
    """The names of the app's Heroku data add-ons (Postgres, Redis): each becomes a Northflank addon of that name."""
    server = migrated["heroku"]
    return {
        a["addon_service"]["name"].removeprefix("heroku-"): a["name"]
        for a in HerokuClient(token=server.token, base_url=server.url).list("/apps/{app}/addons", app=app)
        if a["addon_service"]["name"] in ("heroku-postgresql", "heroku-redis")
    }


def service(nf, project, name):
    return nf.get("/v1/projects/{project}/services/{service}", project=project, service=name)


def test_the_plan_writes_nothing_and_every_request_keeps_the_contract(migrated):
    assert migrated["plan_writes"] == 0
    for log in (migrated["plan_log"], migrated["first_log"], migrated["second_log"]):
        assert not [e for e in log["requests"] if e.get("contract_error")]


def test_the_second_run_changes_nothing_and_writes_nothing(migrated):
    assert migrated["second_log"]["writes"] == 0
    recap = [line for line in migrated["second"].stdout.split("PLAY RECAP", 1)[1].splitlines() if " : " in line]
    assert len(recap) == 4  # the four units (the report is written by the first of them, on the controller)
    for line in recap:
        assert "changed=0" in line and "failed=0" in line, line


def test_single_dyno_app_is_one_combined_service(migrated, nf):
    project = nf.get("/v1/projects/{project}", project="northwind-hello")
    assert project["deployment"]["region"] == "us-east1"
    svc = service(nf, "northwind-hello", "northwind-hello")
    assert svc["serviceType"] == "combined"
    assert svc["billing"]["deploymentPlan"] == "nf-compute-20"
    assert svc["deployment"]["instances"] == 1
    assert svc["buildSettings"]["buildpack"]["builder"] == "HEROKU_24"
    assert svc["buildSettings"]["buildpack"]["buildpackLocators"] == ["heroku/nodejs"]
    assert svc["vcsData"]["projectUrl"] == "https://github.com/northwind/northwind-hello"
    assert [(p["name"], p["internalPort"], p["public"], p["protocol"]) for p in svc["ports"]] == [
        ("web", 8080, True, "HTTP")
    ]
    config = heroku_config(migrated, "northwind-hello")
    assert config == DEMO["apps"][0]["config_vars"]
    # Two independent copies: runtime variables (with PORT) and build arguments.
    assert svc["runtimeEnvironment"] == dict(config, PORT=WEB_PORT)
    assert svc["buildArguments"] == config


def test_multi_dyno_app_is_a_build_service_deployments_and_a_secret_group(migrated, nf):
    p = "northwind-shop"
    build = service(nf, p, "northwind-shop-builder")
    assert build["serviceType"] == "build"
    assert build["buildSettings"]["buildpack"]["buildpackLocators"] == ["heroku/nodejs", "heroku/ruby"]
    assert build["buildConfiguration"]["branchRestrictions"] == ["main"]
    config = heroku_config(migrated, p)
    assert {"DATABASE_URL", "REDIS_URL"} <= set(config)  # the add-ons' connection strings, kept until the data moves
    assert build["buildArguments"] == config
    web, worker = service(nf, p, "northwind-shop-web"), service(nf, p, "northwind-shop-worker")
    assert (web["serviceType"], web["deployment"]["instances"], web["billing"]["deploymentPlan"]) == (
        "deployment",
        2,
        "nf-compute-50",
    )
    assert (worker["deployment"]["instances"], worker["billing"]["deploymentPlan"]) == (1, "nf-compute-20")
    assert web["deployment"]["internal"]["id"] == "northwind-shop-builder"
    assert web["deployment"]["buildpack"] == {"configType": "customProcess", "customProcess": "web"}
    assert worker["deployment"]["buildpack"] == {"configType": "customProcess", "customProcess": "worker"}
    assert [p_["name"] for p_ in web["ports"]] == ["web"] and not worker.get("ports")
    group = nf.get("/v1/projects/{project}/secrets/{secret}", project=p, secret="northwind-shop-env")
    assert group["secretType"] == "environment"
    assert group["secrets"]["variables"] == dict(config, PORT=WEB_PORT)
    assert {o["id"] for o in group["restrictions"]["nfObjects"]} == {
        "northwind-shop-web",
        "northwind-shop-worker",
        "northwind-shop-release",
        "northwind-shop-scheduler-1",
        "northwind-shop-scheduler-2",
        "northwind-shop-scheduler-3",
    }
    schedules = [
        nf.get("/v1/projects/{project}/jobs/{job}", project=p, job="northwind-shop-scheduler-%d" % i)["settings"][
            "cron"
        ]["schedule"]
        for i in (1, 2, 3)
    ]
    assert schedules == ["*/10 * * * *", "30 * * * *", "30 2 * * *"]
    release = nf.get("/v1/projects/{project}/jobs/{job}", project=p, job="northwind-shop-release")
    assert release["jobType"] == "manual"
    addons = {a["name"]: a for a in nf.list("/v1/projects/{project}/addons", "addons", project=p)}
    assert set(addons) == set(data_addons(migrated, p).values()) and len(addons) == 2
    assert {a["spec"]["type"] for a in addons.values()} == {"postgresql", "redis"}


def test_pipeline_places_each_app_in_its_stage_with_release_flows(migrated, nf):
    p = "northwind-api"
    for app, instances, plan in (("northwind-api-staging", 1, "nf-compute-20"), ("northwind-api", 2, "nf-compute-20")):
        web = service(nf, p, app + "-web")
        assert (web["deployment"]["instances"], web["billing"]["deploymentPlan"]) == (instances, plan)
        group = nf.get("/v1/projects/{project}/secrets/{secret}", project=p, secret=app + "-env")
        assert group["secrets"]["variables"] == dict(heroku_config(migrated, app), PORT=WEB_PORT)
    pipeline = nf.get("/v1/projects/{project}/pipelines/{pipeline}", project=p, pipeline="northwind-api")
    assert sorted((o["id"], o["stage"]) for o in pipeline["nfObjects"]) == [
        ("northwind-api-staging-web", "Staging"),
        ("northwind-api-web", "Production"),
    ]

    def steps(stage):
        flow = nf.get(
            "/v1/projects/{project}/pipelines/{pipeline}/release-flows/{stage}",
            project=p,
            pipeline="northwind-api",
            stage=stage,
        )
        assert flow["spec"]["kind"] == "Workflow"
        return [(s["kind"], s["spec"]) for s in flow["spec"]["spec"]["steps"]]

    # Staging deploys the latest build of its branch; production promotes what runs in staging.
    assert steps("staging") == [
        (
            "Release",
            {
                "type": "build",
                "origin": {"id": "northwind-api-staging-builder", "branch": "main", "build": "latest"},
                "target": {"id": "northwind-api-staging-web", "type": "service"},
            },
        )
    ]
    assert steps("production") == [
        (
            "Release",
            {
                "type": "deployment",
                "origin": {"id": "northwind-api-staging-web", "type": "service"},
                "target": {"id": "northwind-api-web", "type": "service"},
            },
        )
    ]


def test_unsupported_app_is_reported_with_its_reason_and_not_created(migrated, nf):
    assert nf.get_or_none("/v1/projects/{project}", project="northwind-renderer") is None
    report = json.loads((Path(migrated["report"]) / "report.json").read_text())
    units = {u["unit"]: u for u in report["units"]}
    assert units["northwind-renderer"]["status"] == "unsupported"
    assert "container" in units["northwind-renderer"]["skipped"][0]["why"]
    assert {u["status"] for n, u in units.items() if n != "northwind-renderer"} == {"migrated"}


def test_no_config_var_value_or_token_in_output_or_report(migrated):
    """The first migration ran at -vvv --diff: no value of any app's config vars (add-on URLs included) and no token may
    show."""
    heroku = HerokuClient(token=migrated["heroku"].token, base_url=migrated["heroku"].url)
    values = {v for app in heroku.list("/apps") for v in heroku_config(migrated, app["name"]).values() if len(v) >= 12}
    assert len(values) >= 10  # the check has something to find
    values |= {migrated["heroku"].token, migrated["northflank"].token}
    texts = [migrated[k].stdout + migrated[k].stderr for k in ("plan", "first", "second")]
    texts += [p.read_text() for p in Path(migrated["report"]).iterdir() if p.is_file()]
    leaked = sorted({v[:8] + "..." for v in values for t in texts if v in t})
    assert not leaked


def test_a_unit_the_rules_cannot_map_fails_clearly_and_writes_nothing(migrated, tmp_path):
    """Without a Git repository to build from, the unit fails with a message naming it and the setting, the report says
    so, the run fails, and nothing is written."""
    server = migrated["northflank"]
    server.clear_log()
    env = {**migrated["heroku"].env(), **server.env()}
    result = run_playbook(
        "playbooks/migrate.yml",
        env,
        "-i",
        str(INVENTORY),
        "--limit",
        "northwind-hello",
        "-e",
        f"herokumigrate_report_dir={tmp_path}",
        "-e",
        '{"herokumigrate_repository_default": {}}',
        check=False,
    )
    assert result.returncode != 0
    assert "northwind-hello" in result.stdout and "herokumigrate_repositories" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    (unit,) = json.loads((tmp_path / "report.json").read_text())["units"]
    assert unit["status"] == "failed" and "herokumigrate_repositories" in unit["skipped"][0]["why"]
    assert server.requests()["writes"] == 0


def run_verify(migrated, report):
    """playbooks/verify.yml on the demo inventory; returns the report's units by name and both emulators' request
    logs."""
    for server in (migrated["heroku"], migrated["northflank"]):
        server.clear_log()
    env = {**migrated["heroku"].env(), **migrated["northflank"].env()}
    run_playbook("playbooks/verify.yml", env, "-i", str(INVENTORY), "-e", f"herokumigrate_report_dir={report}")
    data = json.loads((report / "report.json").read_text())
    assert data["mode"] == "verify"
    return {u["unit"]: u for u in data["units"]}, migrated["heroku"].requests(), migrated["northflank"].requests()


def test_verify_writes_nothing_and_tells_each_unit_verified_or_what_needs_attention(migrated, tmp_path):
    units, heroku_log, nf_log = run_verify(migrated, tmp_path)
    assert nf_log["writes"] == 0 and heroku_log["writes"] == 0
    assert not [e for e in nf_log["requests"] if e.get("contract_error")]
    assert set(units) == {"northwind-hello", "northwind-shop", "northwind-api", "northwind-renderer"}
    assert {u["mode"] for u in units.values()} == {"verify"}
    assert units["northwind-renderer"]["status"] == "unsupported"
    for name in ("northwind-hello", "northwind-shop", "northwind-api"):
        unit = units[name]
        assert unit["status"] in ("verified", "attention"), (name, unit["reasons"])
        assert unit["changed"] == 0 and all(r["action"] == "unchanged" for r in unit["resources"])
        assert unit["runtime"] and (unit["status"] == "verified") == (not unit["reasons"])
    shop = units["northwind-shop"]
    assert {(c["kind"], c["name"]) for c in shop["runtime"]} >= {
        ("services", "northwind-shop-builder"),
        ("services", "northwind-shop-web"),
        ("addons", data_addons(migrated, "northwind-shop")["postgresql"]),
    }
    # the demo's custom domains are not verified (nobody published their DNS records): attention, saying which
    domains = [c for u in units.values() for c in u.get("runtime", []) if c["kind"] == "domains"]
    assert domains and not any(c["ok"] for c in domains)
    assert any("not verified" in r for u in units.values() for r in u.get("reasons", []))
    md, html = (tmp_path / "report.md").read_text(), (tmp_path / "report.html").read_text()
    assert "migration verification" in md and "migration verification" in html
    assert "Why attention:" in md and "<h3>Why attention</h3>" in html


def test_verify_reports_a_changed_resource_as_drift_naming_it(migrated, nf, tmp_path):
    route = "/v1/projects/{project}/services/deployment/{service}"
    nf.patch(route, {"deployment": {"instances": 3}}, project="northwind-shop", service="northwind-shop-web")
    try:
        units, heroku_log, nf_log = run_verify(migrated, tmp_path)
    finally:
        nf.patch(route, {"deployment": {"instances": 2}}, project="northwind-shop", service="northwind-shop-web")
    assert nf_log["writes"] == 0 and heroku_log["writes"] == 0
    shop = units["northwind-shop"]
    assert shop["status"] == "drift"
    assert [r for r in shop["reasons"] if r.startswith("services northwind-shop-web: would update")], shop["reasons"]
    assert [(r["name"], r["action"]) for r in shop["resources"] if r["action"] != "unchanged"] == [
        ("northwind-shop-web", "would update")
    ]
    assert units["northwind-hello"]["status"] in ("verified", "attention")

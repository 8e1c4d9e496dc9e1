# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Heroku discovery end to end: heroku_app_info and heroku_pipeline_info through ansible-playbook
(targets/heroku_app_info, targets/heroku_pipeline_info) and the heroku inventory plugin through
ansible-inventory, against the Heroku emulator serving fixtures/demo.yml and fixtures/account.yml.

Each account is read once by one ansible-playbook run at -vvv (every app twice: without and with
config var values); the tests below check what that run returned and printed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from tests.emulators.heroku_fixture import read as read_fixture
from tests.helpers import COLLECTIONS, ROOT, EmulatorProcess, ensure_collection_link, run_playbook

FIXTURES = ROOT / "tests" / "emulators" / "fixtures"
TARGETS = Path(__file__).parent / "targets"
INVENTORY = Path(__file__).parent / "inventory" / "emulator.heroku.yml"
ACCEPT = "application/vnd.heroku+json; version=3"

CONTAINER = "container-registry app: Heroku builds no source for it to rebuild"
NO_FORMATION = "no dyno formation: nothing runs on Heroku to migrate"
# app: (scenario, reason, GET requests of one heroku_app_info task). docs/heroku-discovery.md explains the counts:
# 10 for a Cedar app; +1 in a pipeline (its name); +1 with the Scheduler add-on; Fir 9; never released 9; container 8.
# (The add-ons come embedded in their attachments: no GET /apps/{app}/addons.)
EXPECTED = {
    "demo": {
        "northwind-hello": ("single_dyno", None, 10),
        "northwind-shop": ("multi_dyno", None, 11),
        "northwind-api-staging": ("pipeline", None, 11),
        "northwind-api": ("pipeline", None, 11),
        "northwind-renderer": ("unsupported", CONTAINER, 8),
    },
    "account": {
        "hello-static": ("single_dyno", None, 10),
        "acme-shop": ("multi_dyno", None, 11),
        "billing-staging": ("pipeline", None, 11),
        "billing-production": ("pipeline", None, 11),
        "billing-pr-87": ("pipeline", None, 11),
        "geo-api-us": ("pipeline", None, 11),
        "geo-api-eu": ("pipeline", None, 11),
        "legacy-placeholder": ("unsupported", NO_FORMATION, 9),
        "pdf-renderer": ("unsupported", CONTAINER, 8),
        "edge-gateway": ("multi_dyno", None, 9),
        "analytics-core": ("multi_dyno", None, 10),
        "analytics-dashboard": ("single_dyno", None, 10),
        "config-zoo": ("single_dyno", None, 10),
        "settings-heavy": ("single_dyno", None, 10),
        "ledger-internal": ("multi_dyno", None, 10),
        "old-blog": ("single_dyno", None, 10),
    },
}
# pipeline: (scenario, reason, stages, GET requests): 2 + 9 per Cedar app.
PIPELINES = {
    "demo": {
        "northwind-api": (
            "pipeline",
            None,
            {"staging": ["northwind-api-staging"], "production": ["northwind-api"]},
            20,
        ),
    },
    "account": {
        "geo-api": (
            "unsupported",
            "pipeline spans several regions (eu, us): a Northflank project has one region",
            {"production": ["geo-api-eu", "geo-api-us"]},
            20,
        ),
        "billing": (
            "pipeline",
            None,
            {"review": ["billing-pr-87"], "staging": ["billing-staging"], "production": ["billing-production"]},
            29,
        ),
    },
}
SCHEDULER_APP = {"demo": "northwind-shop", "account": "acme-shop"}
CEDAR_APP_ROUTES = {
    "GET /apps/{app}": 1,
    "GET /apps/{app}/formation": 1,
    "GET /apps/{app}/config-vars": 1,
    "GET /apps/{app}/addon-attachments": 1,
    "GET /apps/{app}/domains": 1,
    "GET /apps/{app}/features": 1,
    "GET /apps/{app}/pipeline-couplings": 1,
    "GET /apps/{app}/releases": 1,
    "GET /apps/{app}/slugs/{slug}": 1,
    "GET /apps/{app}/buildpack-installations": 1,
}


# -- one ansible-playbook run per account ------------------------------------------------------
class Run:
    """What one run of both targets returned (by app and pipeline name), printed and sent."""

    def __init__(self, name: str, server: EmulatorProcess, workdir: Path):
        self.name, self.server = name, server
        server.clear_log()
        app_file, pipeline_file = workdir / f"{name}-apps.json", workdir / f"{name}-pipelines.json"
        extra = dict(
            heroku_apps=list(EXPECTED[name]),
            heroku_scheduler_app=SCHEDULER_APP[name],
            heroku_pipelines=list(PIPELINES[name]),
            heroku_app_results_file=str(app_file),
            heroku_pipeline_results_file=str(pipeline_file),
        )
        result = run_playbook(
            str(TARGETS / "heroku_app_info" / "main.yml"),
            server.env(),
            str(TARGETS / "heroku_pipeline_info" / "main.yml"),
            "-vvv",
            "-e",
            json.dumps(extra),
        )
        self.output = result.stdout + result.stderr
        self.recap = result.stdout.split("PLAY RECAP", 1)[-1]
        apps = json.loads(app_file.read_text(encoding="utf-8"))
        pipelines = json.loads(pipeline_file.read_text(encoding="utf-8"))
        self.without = {r["item"]: r for r in apps["without_values"]}
        self.values = {r["item"]: r for r in apps["with_values"]}
        self.no_scheduler, self.missing_app = apps["no_scheduler"], apps["missing"]
        self.pipelines = {r["item"]: r for r in pipelines["pipelines"]}
        self.missing_pipeline = pipelines["missing"]
        self.log = server.requests()

    def info(self, app: str) -> dict:
        return self.without[app]["app_info"]

    def all_results(self) -> list:
        return [
            *self.without.values(),
            *self.values.values(),
            self.no_scheduler,
            self.missing_app,
            *self.pipelines.values(),
            self.missing_pipeline,
        ]


@pytest.fixture(scope="module")
def servers():
    started = {
        name: EmulatorProcess("heroku", "--fixture", str(FIXTURES / f"{name}.yml")) for name in ("demo", "account")
    }
    yield started
    for server in started.values():
        server.stop()


@pytest.fixture(scope="module")
def runs(servers, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("heroku-discovery")
    done = {}

    def run(name: str) -> Run:
        if name not in done:
            done[name] = Run(name, servers[name], workdir)
        return done[name]

    return run


def api_get(server: EmulatorProcess, path: str):
    resp = requests.get(
        server.url + path, headers={"Accept": ACCEPT, "Authorization": f"Bearer {server.token}"}, timeout=30
    )
    resp.raise_for_status()
    return resp.json()


def total(counts: dict) -> int:
    return sum(counts.values())


# -- heroku_app_info ----------------------------------------------------------------------------
@pytest.mark.parametrize("account", ["demo", "account"])
def test_every_app_scenario_and_request_count(runs, account):
    run = runs(account)
    assert "failed=0" in run.recap
    assert set(run.without) == set(EXPECTED[account])
    for app, (scenario, reason, requests_sent) in EXPECTED[account].items():
        info = run.info(app)
        assert info["migration"]["scenario"] == scenario, app
        assert info["migration"]["reason"] == reason, app
        assert total(run.without[app]["api_requests"]) == requests_sent, (app, run.without[app]["api_requests"])
        assert total(run.values[app]["api_requests"]) == requests_sent, app
    # the modules' own counts are what the emulator received: nothing sent twice, nothing uncounted
    assert run.log["total"] == sum(total(r["api_requests"]) for r in run.all_results())
    assert run.log["writes"] == 0


def test_request_count_of_a_cedar_app_per_route(runs):
    run = runs("account")
    assert run.without["hello-static"]["api_requests"] == CEDAR_APP_ROUTES
    assert run.without["acme-shop"]["api_requests"] == {**CEDAR_APP_ROUTES, "scheduler GET /apps/{app}/jobs": 1}
    assert run.without["billing-staging"]["api_requests"] == {**CEDAR_APP_ROUTES, "GET /pipelines/{pipeline}": 1}
    fir = {
        k: v
        for k, v in CEDAR_APP_ROUTES.items()
        if k not in ("GET /apps/{app}/slugs/{slug}", "GET /apps/{app}/buildpack-installations")
    }
    assert run.without["edge-gateway"]["api_requests"] == {**fir, "GET /apps/{app}/oci-images/{image}": 1}
    assert run.without["pdf-renderer"]["api_requests"] == fir  # a container app: no OCI image either


def test_multi_dyno_app_every_field(runs, servers):
    run = runs("account")
    info = run.info("acme-shop")
    app = info["app"]
    assert {
        k: app[k]
        for k in (
            "name",
            "region",
            "stack",
            "build_stack",
            "generation",
            "space",
            "team",
            "maintenance",
            "internal_routing",
            "git_url",
        )
    } == {
        "name": "acme-shop",
        "region": "us",
        "stack": "heroku-24",
        "build_stack": "heroku-24",
        "generation": "cedar",
        "space": None,
        "team": "acme",
        "maintenance": False,
        "internal_routing": False,
        "git_url": "https://git.heroku.com/acme-shop.git",
    }
    assert re.fullmatch(r"[0-9a-f-]{36}", app["id"])
    assert info["formation"] == [
        {"type": "web", "quantity": 3, "size": "performance-m", "command": "bundle exec puma -C config/puma.rb"},
        {
            "type": "worker",
            "quantity": 2,
            "size": "standard-2X",
            "command": "bundle exec sidekiq -C config/sidekiq.yml",
        },
    ]
    # config vars: names and owners, never values without the option
    assert info["config_vars"] == {}
    classes = info["config_var_classes"]
    assert {
        k: classes[k] for k in ("RAILS_ENV", "RAILS_MASTER_KEY", "SIDEKIQ_CONCURRENCY", "ASSET_HOST")
    } == dict.fromkeys(("RAILS_ENV", "RAILS_MASTER_KEY", "SIDEKIQ_CONCURRENCY", "ASSET_HOST"), "user")
    addon_vars = sorted(k for k, v in classes.items() if v == "addon")
    assert addon_vars == sorted(v for a in info["addons"] for v in a["config_vars"])
    assert {"DATABASE_URL", "REDIS_URL"} <= set(addon_vars)
    # add-ons: service, plan, owner, attachments with the config var names each sets
    by_service = {a["service"]: a for a in info["addons"]}
    assert sorted(by_service) == ["heroku-postgresql", "heroku-redis", "papertrail", "scheduler"]
    postgres = by_service["heroku-postgresql"]
    assert postgres["plan"] == "heroku-postgresql:standard-0"
    assert postgres["owning_app"] == "acme-shop" and postgres["owned_by_other_app"] is False
    assert postgres["attachments"] == [{"name": "DATABASE", "config_vars": ["DATABASE_URL"], "namespace": None}]
    assert postgres["config_vars"] == ["DATABASE_URL"]
    assert by_service["scheduler"]["config_vars"] == []
    # domains, buildpacks in order, labs features
    custom = sorted(d["hostname"] for d in info["domains"] if d["kind"] == "custom")
    assert custom == sorted(info["custom_domains"]) == ["acme-shop.example", "www.acme-shop.example"]
    assert all(d["cname"].endswith(".herokudns.com") for d in info["domains"] if d["kind"] == "custom")
    assert [d["kind"] for d in info["domains"]].count("heroku") == 1
    assert info["buildpacks"] == ["heroku/nodejs", "heroku/ruby"]
    assert sorted(k for k, on in info["features"].items() if on) == [
        "log-runtime-metrics",
        "preboot",
        "runtime-dyno-metadata",
    ]
    assert info["pipeline"] is None
    # the current release is not the newest: the newest failed in its release phase
    releases = api_get(servers["account"], f"/apps/{app['id']}/releases")
    current = [r for r in releases if r["current"]]
    newest = max(releases, key=lambda r: r["version"])
    assert newest["status"] == "failed" and len(current) == 1 and current[0]["version"] < newest["version"]
    slug = api_get(servers["account"], f"/apps/{app['id']}/slugs/{current[0]['slug']['id']}")
    release = info["release"]
    assert (release["id"], release["version"], release["slug_id"], release["oci_image_id"]) == (
        current[0]["id"],
        current[0]["version"],
        slug["id"],
        None,
    )
    assert release["commit"] == slug["commit"] and re.fullmatch(r"[0-9a-f]{40}", release["commit"])
    assert (
        release["stack"] == "heroku-24" and release["buildpack_description"] == slug["buildpack_provided_description"]
    )
    process_types = {
        "web": "bundle exec puma -C config/puma.rb",
        "worker": "bundle exec sidekiq -C config/sidekiq.yml",
        "release": "bundle exec rails db:migrate",
    }
    assert release["process_types"] == info["process_types"] == process_types
    assert release["has_release_phase"] is True
    # Scheduler jobs, as UTC cron lines
    assert info["scheduler"]["available"] is True
    assert [(j["command"], j["schedule"], j["dyno_size"]) for j in info["scheduler"]["jobs"]] == [
        ("bundle exec rake feeds:refresh", "*/10 * * * *", "Standard-1X"),
        ("bundle exec rake search:reindex", "20 * * * *", "Standard-2X"),
        ("bin/nightly-export --to s3://acme-exports", "0 3 * * *", "Performance-M"),
    ]
    assert info["migration"] == {
        "scenario": "multi_dyno",
        "reason": None,
        "process_types": ["web", "worker"],
        "warnings": [],
    }


def test_demo_multi_dyno_app(runs):
    info = runs("demo").info("northwind-shop")
    assert [(f["type"], f["quantity"], f["size"]) for f in info["formation"]] == [
        ("web", 2, "standard-2X"),
        ("worker", 1, "standard-1X"),
    ]
    assert info["release"]["has_release_phase"] and info["process_types"]["release"] == "bundle exec rails db:migrate"
    assert [(j["every"], j["at"], j["schedule"]) for j in info["scheduler"]["jobs"]] == [
        (10, 0, "*/10 * * * *"),
        (60, 30, "30 * * * *"),
        (1440, 150, "30 2 * * *"),
    ]
    # set by the user: a buildpack only defaults WEB_CONCURRENCY when it is not set
    assert info["config_var_classes"]["WEB_CONCURRENCY"] == "user"
    assert info["config_var_classes"]["DATABASE_URL"] == "addon"


def test_fir_app_buildpacks_from_the_oci_image(runs):
    info = runs("account").info("edge-gateway")
    assert (info["app"]["generation"], info["app"]["stack"], info["app"]["space"]) == ("fir", "cnb", "acme-fir")
    assert info["buildpacks"] == ["heroku/nodejs", "heroku/procfile"]
    assert info["release"]["oci_image_id"] and info["release"]["slug_id"] is None
    assert info["process_types"] == {"web": "npm start", "worker": "node worker.js"}
    assert re.fullmatch(r"[0-9a-f]{40}", info["release"]["commit"])
    assert info["migration"]["warnings"] == [
        "runs in Private Space acme-fir: check network access (VPN, peering, stable outbound IPs)"
    ]


def test_shared_addon_is_flagged_as_owned_by_another_app(runs):
    run = runs("account")
    dashboard = run.info("analytics-dashboard")
    [shared] = dashboard["addons"]
    assert (shared["service"], shared["owning_app"], shared["owned_by_other_app"]) == (
        "heroku-postgresql",
        "analytics-core",
        True,
    )
    assert shared["attachments"] == [
        {"name": "ANALYTICS_DATABASE", "config_vars": ["ANALYTICS_DATABASE_URL"], "namespace": None}
    ]
    assert dashboard["config_var_classes"] == {"ANALYTICS_DATABASE_URL": "addon", "DASHBOARD_TITLE": "user"}
    core = run.info("analytics-core")
    [owned] = [a for a in core["addons"] if a["id"] == shared["id"]]
    assert owned["owned_by_other_app"] is False
    # the owner sees its own two attachments, not the one on the other app
    assert sorted(a["name"] for a in owned["attachments"]) == ["DATABASE", "HEROKU_POSTGRESQL_ONYX"]
    assert owned["config_vars"] == ["DATABASE_URL", "HEROKU_POSTGRESQL_ONYX_URL"]
    assert (
        core["config_var_classes"]["HEROKU_POSTGRESQL_ONYX_URL"] == "addon"
    )  # an add-on's, despite the HEROKU_ prefix
    assert sorted(a["service"] for a in core["addons"]) == ["heroku-postgresql", "jawsdb", "sendgrid"]


def test_config_var_classes(runs):
    run = runs("account")
    review = run.info("billing-pr-87")["config_var_classes"]
    assert review == {
        "DATABASE_URL": "addon",
        "GO_ENV": "user",
        "HEROKU_APP_NAME": "heroku",
        "HEROKU_BRANCH": "heroku",
        "HEROKU_PR_NUMBER": "heroku",
        "HEROKU_PARENT_APP_NAME": "heroku",
    }
    spec = {a["name"]: a for a in read_fixture(str(FIXTURES / "account.yml"))["apps"]}
    for name, result in run.without.items():
        classes = result["app_info"]["config_var_classes"]
        # every config var the fixture sets is classified; every other one comes from an add-on
        assert set(spec[name].get("config_vars") or {}) <= set(classes), name
        assert all(classes[k] == "addon" for k in set(classes) - set(spec[name].get("config_vars") or {})), name
    assert len(run.info("settings-heavy")["config_var_classes"]) == 500


@pytest.mark.parametrize("account", ["demo", "account"])
def test_config_var_values_byte_for_byte(runs, servers, account):
    run = runs(account)
    for app, result in run.values.items():
        # the values as the API holds them, read here independently
        assert result["app_info"]["config_vars"] == api_get(servers[account], f"/apps/{app}/config-vars"), app
    if account == "account":
        zoo = run.values["config-zoo"]["app_info"]["config_vars"]
        expected = {
            a["name"]: a for a in read_fixture(str(FIXTURES / "account.yml"))["apps"]
        }["config-zoo"]["config_vars"]
        assert zoo == expected
        assert zoo["CRLF"] == "first\r\nsecond" and zoo["TLS_PRIVATE_KEY"].endswith("-----END PRIVATE KEY-----\n")
        assert (
            zoo["EMPTY"] == "" and zoo["ALL_QUOTES"] == "'\"`" and zoo["LEADING_AND_TRAILING_SPACES"] == "   padded   "
        )
        assert (
            zoo["GREETING_UNICODE"]
            == "Gr\u00fc\u00dfe, \u4e16\u754c! \U0001f44b na\u00efve caf\u00e9 \u2014 \u201csmart quotes\u201d"
        )


@pytest.mark.parametrize("account", ["demo", "account"])
def test_values_never_printed_at_vvv(runs, account):
    run = runs(account)
    # values that also appear as plain data (a stage named "production", say) cannot be told apart: left out
    public = json.dumps(
        [r["app_info"] for r in run.without.values()] + [r["pipeline_info"] for r in run.pipelines.values()],
        ensure_ascii=False,
    )
    checked = 0
    for app, result in run.values.items():
        for key, value in result["app_info"]["config_vars"].items():
            for piece in {value, *value.splitlines()}:
                piece = piece.strip()
                if len(piece) < 8 or piece in public:
                    continue
                checked += 1
                for form in (piece, json.dumps(piece)[1:-1], json.dumps(piece, ensure_ascii=False)[1:-1]):
                    assert form not in run.output, f"{app} {key}: a value is printed"
    assert checked >= (500 if account == "account" else 10)
    # each task with values shows its result as hidden
    assert run.output.count(
        "the output has been hidden due to the fact that 'no_log: true' was specified"
    ) >= len(run.values)


def test_scheduler_unavailable_is_a_warning_not_a_failure(runs):
    run = runs("account")
    result = run.no_scheduler
    assert not result.get("failed") and result["app_info"]["scheduler"]["available"] is False
    assert (
        "404" in result["app_info"]["scheduler"]["reason"] and "Not Found" in result["app_info"]["scheduler"]["reason"]
    )
    [warning] = result["warnings"]
    assert warning.startswith("acme-shop has the Heroku Scheduler add-on but its jobs could not be read")
    assert "herokumigrate_scheduler_jobs" in warning
    assert any(w.startswith("scheduler jobs unknown") for w in result["app_info"]["migration"]["warnings"])
    assert result["app_info"]["migration"]["scenario"] == "multi_dyno"
    assert "[WARNING]: acme-shop has the Heroku Scheduler add-on" in run.output
    # apps without the add-on never ask the Scheduler
    assert all(
        "scheduler GET /apps/{app}/jobs" not in r["api_requests"] for n, r in run.without.items() if n != "acme-shop"
    )


def test_unsupported_apps_carry_their_reason(runs):
    run = runs("account")
    placeholder = run.info("legacy-placeholder")
    assert placeholder["formation"] == [] and placeholder["release"]["slug_id"] is None
    container = run.info("pdf-renderer")
    assert (
        container["app"]["stack"] == "container"
        and container["buildpacks"] == []
        and container["release"]["commit"] is None
    )
    assert container["migration"]["process_types"] == ["web", "worker"]
    assert runs("demo").info("northwind-renderer")["migration"]["reason"] == CONTAINER


def test_other_app_shapes(runs):
    run = runs("account")
    blog = run.info("old-blog")
    assert blog["buildpacks"] == ["https://github.com/heroku/heroku-buildpack-apt", "heroku/ruby"]
    assert (blog["app"]["stack"], blog["app"]["maintenance"], blog["formation"][0]["size"]) == (
        "heroku-22",
        True,
        "eco",
    )
    ledger = run.info("ledger-internal")["app"]
    assert (ledger["space"], ledger["region"], ledger["internal_routing"]) == ("acme-eu-private", "dublin", True)
    assert run.info("billing-pr-87")["pipeline"]["stage"] == "review"
    assert run.info("geo-api-eu")["pipeline"]["name"] == "geo-api"


def test_missing_app_fails_with_the_api_message(runs):
    missing = runs("account").missing_app  # failed, as the target's failed_when checked
    assert missing["msg"] == (
        "Could not read Heroku app no-such-app: HTTP 404: Couldn't find that app. (GET /apps/{app}); "
        "app no-such-app no longer exists on Heroku (deleted or renamed since the inventory was read): "
        "re-read the inventory, or leave the unit out with --limit '!no-such-app'"
    )
    assert missing["failure"]["id"] == "not_found" and missing["api_requests"] == {"GET /apps/{app}": 1}


# -- heroku_pipeline_info -------------------------------------------------------------------------
@pytest.mark.parametrize("account", ["demo", "account"])
def test_pipelines(runs, account):
    run = runs(account)
    for name, (scenario, reason, stages, requests_sent) in PIPELINES[account].items():
        info = run.pipelines[name]["pipeline_info"]
        assert (info["migration"]["scenario"], info["migration"]["reason"]) == (scenario, reason), name
        assert info["stages"] == stages, name
        assert total(run.pipelines[name]["api_requests"]) == requests_sent, (name, run.pipelines[name]["api_requests"])
        assert [a["app"]["name"] for a in info["apps"]] == [app for apps in stages.values() for app in apps]
        for app in info["apps"]:
            # each app as heroku_app_info reads it on its own
            assert app == run.info(app["app"]["name"]), app["app"]["name"]
    assert "Couldn't find that pipeline." in run.missing_pipeline["msg"]


def test_pipeline_spanning_two_regions_is_refused(runs):
    info = runs("account").pipelines["geo-api"]["pipeline_info"]
    assert info["migration"]["scenario"] == "unsupported" and "several regions (eu, us)" in info["migration"]["reason"]
    assert sorted(a["app"]["region"] for a in info["apps"]) == ["eu", "us"]
    assert all(a["migration"]["scenario"] == "pipeline" for a in info["apps"])  # each app alone would do


def test_pipeline_review_apps_are_listed_not_migrated(runs):
    info = runs("account").pipelines["billing"]["pipeline_info"]
    assert info["migration"]["region"] == "us"
    assert info["migration"]["warnings"] == [
        "billing-pr-87 (stage review) is not migrated: review and test apps are ephemeral"
    ]
    assert info["pipeline"]["name"] == "billing" and re.fullmatch(r"[0-9a-f-]{36}", info["pipeline"]["id"])


# -- the inventory plugin -------------------------------------------------------------------------
def run_inventory(server: EmulatorProcess, source: Path, *args: str, warnings: bool = False) -> str:
    """``ansible-inventory -i SOURCE ARGS`` against the emulator; its stdout. Warnings fail the test unless expected."""
    ensure_collection_link()
    env = {
        **os.environ,
        **server.env(),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_CONFIG": str(ROOT / "tests" / "ansible.cfg"),
    }
    cmd = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(source), *args]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
    assert warnings or "WARNING" not in result.stderr, result.stderr
    return result.stdout


def plain(node):
    """ansible-inventory --list marks values from plugins as unsafe (``{"__ansible_unsafe": v}``): the values."""
    if isinstance(node, dict):
        if set(node) == {"__ansible_unsafe"}:
            return node["__ansible_unsafe"]
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def listing(server: EmulatorProcess, source: Path, *args: str, warnings: bool = False) -> dict:
    return plain(json.loads(run_inventory(server, source, "--list", *args, warnings=warnings)))


def graph(server: EmulatorProcess, source: Path, *args: str, warnings: bool = False) -> dict:
    """``{group: {host, ...}}`` from ``ansible-inventory --graph``."""
    groups, current = {}, None
    for line in run_inventory(server, source, "--graph", *args, warnings=warnings).splitlines():
        match = re.match(r"^  \|--@(\S+):$", line)
        if match:
            current = groups.setdefault(match.group(1), set())
        elif re.match(r"^  \|  \|--[^@]", line):
            current.add(line.split("|--", 1)[1])
    return groups


def hosts_of(inventory: dict, group: str) -> set:
    return set(inventory.get(group, {}).get("hosts", []))


def test_inventory_graph_demo(servers):
    groups = graph(servers["demo"], INVENTORY)
    assert groups["single_dyno"] == {"northwind-hello"}
    assert groups["multi_dyno"] == {"northwind-shop"}
    assert groups["pipeline"] == {"northwind-api"}
    assert groups["unsupported"] == {"northwind-renderer"}
    assert groups["region_us"] == {"northwind-hello", "northwind-shop", "northwind-api", "northwind-renderer"}
    assert groups["team_northwind"] == {"northwind-shop", "northwind-api", "northwind-renderer"}
    assert groups["stack_container"] == {"northwind-renderer"}  # keyed_groups


def test_inventory_list_account(servers):
    server = servers["account"]
    server.clear_log()
    inventory = listing(server, INVENTORY)
    hostvars = inventory["_meta"]["hostvars"]
    # one host per pipeline and per app outside pipelines: the pipelines' apps are not hosts
    assert set(hostvars) == {
        "billing",
        "geo-api",
        "hello-static",
        "acme-shop",
        "legacy-placeholder",
        "pdf-renderer",
        "edge-gateway",
        "analytics-core",
        "analytics-dashboard",
        "config-zoo",
        "settings-heavy",
        "ledger-internal",
        "old-blog",
    }
    assert hosts_of(inventory, "pipeline") == {"billing"}
    assert hosts_of(inventory, "unsupported") == {"geo-api", "legacy-placeholder", "pdf-renderer"}
    assert hosts_of(inventory, "single_dyno") == {
        "hello-static",
        "analytics-dashboard",
        "config-zoo",
        "settings-heavy",
        "old-blog",
    }
    assert hosts_of(inventory, "multi_dyno") == {"acme-shop", "edge-gateway", "analytics-core", "ledger-internal"}
    assert hosts_of(inventory, "region_dublin") == {"ledger-internal"} and hosts_of(inventory, "region_virginia") == {
        "edge-gateway"
    }
    assert "geo-api" not in {h for g, v in inventory.items() if g.startswith("region_") for h in v.get("hosts", [])}
    assert hosts_of(inventory, "team_acme") == {
        "billing",
        "acme-shop",
        "pdf-renderer",
        "edge-gateway",
        "analytics-core",
        "analytics-dashboard",
        "ledger-internal",
    }
    # every unsupported unit carries its reason
    reasons = {h: hostvars[h]["heroku_migration"]["reason"] for h in hosts_of(inventory, "unsupported")}
    assert reasons == {
        "geo-api": "pipeline spans several regions (eu, us): a Northflank project has one region",
        "legacy-placeholder": NO_FORMATION,
        "pdf-renderer": CONTAINER,
    }
    assert all(hostvars[h]["heroku_unit"]["migration"]["reason"] == reason for h, reason in reasons.items())
    assert all(v["heroku_migration"]["reason"] is None for h, v in hostvars.items() if h not in reasons)
    # a pipeline host holds all its apps, in stage order
    billing = hostvars["billing"]["heroku_unit"]
    assert (billing["kind"], billing["region"], billing["team"], billing["stack"]) == (
        "pipeline",
        "us",
        "acme",
        "heroku-24",
    )
    assert [(a["name"], a["stage"]) for a in billing["apps"]] == [
        ("billing-pr-87", "review"),
        ("billing-staging", "staging"),
        ("billing-production", "production"),
    ]
    assert [a["region"] for a in hostvars["geo-api"]["heroku_unit"]["apps"]] == ["eu", "us"]
    # compose and groups of the constructed options
    assert hostvars["billing"]["heroku_apps"] == ["billing-pr-87", "billing-staging", "billing-production"]
    assert all(v["heroku_refused"] == (h in reasons) for h, v in hostvars.items())
    assert hosts_of(inventory, "needs_attention") == {"billing", "edge-gateway", "ledger-internal"}
    assert hosts_of(inventory, "stack_heroku_22") == {"ledger-internal", "old-blog"}
    assert hosts_of(inventory, "kind_pipeline") == {"billing", "geo-api"}
    # 3 lists (16 apps: one page) and one formation per app
    assert server.requests()["counts"] == {
        "GET /apps": 1,
        "GET /pipeline-couplings": 1,
        "GET /pipelines": 1,
        "GET /apps/{app}/formation": 16,
    }


def test_inventory_filters(servers, tmp_path):
    server = servers["account"]
    config = yaml.safe_load(INVENTORY.read_text(encoding="utf-8"))
    source = tmp_path / "filtered.heroku.yml"
    source.write_text(
        yaml.safe_dump({**config, "apps": ["analytics-*", "old-*"], "pipelines": ["bill*"], "teams": ["acme"]}),
        encoding="utf-8",
    )
    server.clear_log()
    inventory = listing(server, source)
    # old-blog is a personal app: the team filter leaves it out
    assert set(inventory["_meta"]["hostvars"]) == {"billing", "analytics-core", "analytics-dashboard"}
    # only the apps kept are read: 3 formations for billing, 2 for the analytics apps
    assert server.requests()["counts"]["GET /apps/{app}/formation"] == 5
    source.write_text(yaml.safe_dump({**config, "pipelines": ["geo-*"], "apps": ["hello-*"]}), encoding="utf-8")
    assert set(listing(server, source)["_meta"]["hostvars"]) == {"geo-api", "hello-static"}
    source.write_text(yaml.safe_dump({**config, "pipelines": ["nothing"], "apps": ["nothing"]}), encoding="utf-8")
    assert listing(server, source)["_meta"]["hostvars"] == {}


def test_inventory_limit_never_splits_a_pipeline(servers):
    server = servers["account"]
    # billing* matches the pipeline's host only, which holds the pipeline's three apps
    limited = listing(server, INVENTORY, "--limit", "billing*")["_meta"]["hostvars"]
    assert list(limited) == ["billing"] and len(limited["billing"]["heroku_unit"]["apps"]) == 3
    # the apps of a pipeline are not hosts: a limit cannot pick one out of it
    assert listing(server, INVENTORY, "--limit", "billing-staging", warnings=True)["_meta"]["hostvars"] == {}


def test_inventory_name_clash_and_empty_pipeline(tmp_path):
    fixture = tmp_path / "clash.yml"
    fixture.write_text(
        yaml.safe_dump(
            {
                "account": {"email": "ops@example.com"},
                "pipelines": [{"name": "blog"}, {"name": "empty"}],
                "apps": [
                    {
                        "name": "blog-web",
                        "buildpacks": ["heroku/ruby"],
                        "process_types": {"web": "rails s"},
                        "pipeline": {"name": "blog", "stage": "production"},
                    },
                    {"name": "blog", "buildpacks": ["heroku/ruby"], "process_types": {"web": "rails s"}},
                ],
            }
        ),
        encoding="utf-8",
    )
    server = EmulatorProcess("heroku", "--fixture", str(fixture))
    try:
        env_source = tmp_path / "clash.heroku.yml"
        env_source.write_text(INVENTORY.read_text(encoding="utf-8"), encoding="utf-8")
        hostvars = listing(server, env_source, warnings=True)["_meta"]["hostvars"]
    finally:
        server.stop()
    assert set(hostvars) == {"blog", "blog-app", "empty"}
    assert (hostvars["blog"]["heroku_unit"]["kind"], hostvars["blog-app"]["heroku_unit"]["kind"]) == ("pipeline", "app")
    assert hostvars["blog-app"]["heroku_unit"]["name"] == "blog"
    assert hostvars["empty"]["heroku_migration"]["scenario"] == "unsupported"
    assert (
        hostvars["empty"]["heroku_migration"]["reason"]
        == "pipeline has no apps in a development, staging or production stage"
    )


# -- the inventory's snapshot (heroku_snapshot) ------------------------------------------------------------------------
def discovery_of(server: EmulatorProcess):
    from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku import HerokuClient
    from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_discovery import HerokuDiscovery

    client = HerokuClient(token=server.token, base_url=server.url)
    scheduler = HerokuClient(token=server.token, base_url=server.env()["HEROKU_SCHEDULER_API_URL"])
    return HerokuDiscovery(client, scheduler_client=scheduler)


@pytest.mark.parametrize("account", ["demo", "account"])
def test_snapshot_gives_what_reading_everything_gives(servers, account):
    """Every unit of both accounts, read with the inventory's snapshot and without: the same info, and the snapshot
    spares the app, formation, coupling and pipeline reads."""
    from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_discovery import usable_snapshot

    server = servers[account]
    units = discovery_of(server).units()
    for unit in units:
        snapshot, why_not = usable_snapshot(unit["snapshot"], unit["kind"], unit["name"], 1800)
        assert why_not is None, (unit["name"], why_not)
        full, reuse = discovery_of(server), discovery_of(server)
        if unit["kind"] == "app":
            assert reuse.app_info(unit["name"], snapshot=snapshot) == full.app_info(unit["name"]), unit["name"]
            spared = {"GET /apps/{app}", "GET /apps/{app}/formation", "GET /apps/{app}/pipeline-couplings"}
        else:
            reused = reuse.pipeline_info(unit["name"], snapshot=snapshot)
            assert reused == full.pipeline_info(unit["name"]), unit["name"]
            spared = {"GET /apps/{app}", "GET /apps/{app}/formation", "GET /pipelines/{pipeline}",
                      "GET /pipelines/{pipeline}/pipeline-couplings"}
        assert not spared & set(reuse.client.counts), (unit["name"], reuse.client.counts)
        assert {k: v for k, v in full.client.counts.items() if k not in spared} == reuse.client.counts, unit["name"]


@pytest.mark.parametrize("account", ["demo", "account"])
def test_addons_from_attachments_are_the_addon_list(servers, account):
    """The add-ons embedded in the attachments (Accept-Inclusion: addon:plan) are those GET /apps/{app}/addons lists,
    with the same service, plan and owner; shared add-ons owned by another app included."""
    from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_discovery import (
        ATTACHMENT_INCLUSION,
        addons_from_attachments,
    )

    discovery = discovery_of(servers[account])
    c = discovery.client
    for app in c.list("/apps"):
        attachments = c.list("/apps/{app}/addon-attachments", app=app["id"],
                             headers={"Accept-Inclusion": ATTACHMENT_INCLUSION})
        embedded = addons_from_attachments(attachments)
        assert embedded is not None, app["name"]
        listed = c.list("/apps/{app}/addons", app=app["id"])
        assert discovery._addons(app, embedded, attachments) == discovery._addons(app, listed, attachments), app["name"]
    # without the inclusion, the attachments do not say the plan: the add-on list is read instead
    some = next(a for a in c.list("/apps") if c.list("/apps/{app}/addon-attachments", app=a["id"]))
    assert addons_from_attachments(c.list("/apps/{app}/addon-attachments", app=some["id"])) is None


def test_snapshot_is_used_only_when_recent_live_and_of_this_unit(servers):
    import calendar
    import time

    from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_discovery import usable_snapshot

    units = {u["name"]: u for u in discovery_of(servers["demo"]).units()}
    app, pipeline = units["northwind-hello"]["snapshot"], units["northwind-api"]["snapshot"]
    read_at = calendar.timegm(time.strptime(app["read_at"], "%Y-%m-%dT%H:%M:%SZ"))
    assert usable_snapshot(app, "app", "northwind-hello", 1800, now=read_at + 1799)[0] == app["apps"][0]
    assert usable_snapshot(app, "app", app["apps"][0]["app"]["id"], 1800, now=read_at)[0] == app["apps"][0]
    assert usable_snapshot(pipeline, "pipeline", "northwind-api", 1800, now=read_at)[0] == pipeline
    for snapshot, kind, ref, max_age, now, why in [
        (app, "app", "northwind-hello", 1800, read_at + 1801, "snapshot 1801 s old (snapshot_max_age 1800 s)"),
        (app, "app", "northwind-hello", 0, read_at, "snapshot_max_age is 0"),
        (dict(app, from_cache=True), "app", "northwind-hello", 1800, read_at, "snapshot from the inventory cache"),
        (app, "app", "northwind-shop", 1800, read_at, "snapshot of another unit"),
        (pipeline, "app", "northwind-api", 1800, read_at, "snapshot of another unit"),
        (app, "pipeline", "northwind-hello", 1800, read_at, "snapshot of another unit"),
        (dict(app, read_at="yesterday"), "app", "northwind-hello", 1800, read_at, "snapshot malformed"),
        (dict(app, apps=[{"app": {}}]), "app", "northwind-hello", 1800, read_at, "snapshot malformed"),
        (None, "app", "northwind-hello", 1800, read_at, "no snapshot"),
        (app, "app", "northwind-hello", 1800, read_at - 3600, "snapshot read in the future (clock skew)"),
    ]:
        assert usable_snapshot(snapshot, kind, ref, max_age, now=now) == (None, why), why


def test_inventory_snapshot_host_variable_and_cache(servers, tmp_path):
    """heroku_snapshot: live from a fresh read (no secret in it), from_cache once served from the inventory cache."""
    server = servers["demo"]
    source = tmp_path / "cached.heroku.yml"
    source.write_text(
        "plugin: herokumigrate.northflank.heroku\ncache: true\ncache_plugin: ansible.builtin.jsonfile\n"
        f"cache_connection: {tmp_path / 'cache'}\n"
    )
    first = listing(server, source)["_meta"]["hostvars"]
    snapshot = first["northwind-api"]["heroku_snapshot"]
    assert snapshot["from_cache"] is False and snapshot["pipeline"]["name"] == "northwind-api"
    assert [(a["app"]["name"], a["pipeline"]["stage"]) for a in snapshot["apps"]] == [
        ("northwind-api-staging", "staging"),
        ("northwind-api", "production"),
    ]
    assert first["northwind-hello"]["heroku_snapshot"]["apps"][0]["formation"][0]["type"] == "web"
    assert "snapshot" not in first["northwind-hello"]["heroku_unit"]
    secrets = [
        v
        for a in yaml.safe_load((FIXTURES / "demo.yml").read_text())["apps"]
        for k, v in (a.get("config_vars") or {}).items()
        if re.search("SECRET|TOKEN|KEY|PASSWORD", k) and len(v) > 6
    ]
    assert secrets and not [v for v in secrets if v in json.dumps(first)]
    server.clear_log()
    again = listing(server, source)["_meta"]["hostvars"]
    assert server.requests()["total"] == 0
    assert all(v["heroku_snapshot"]["from_cache"] is True for v in again.values())

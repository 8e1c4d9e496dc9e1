"""The Heroku emulator as a real process: every route over every fixture validates against Heroku's
published schema (checked here independently of the emulator's own check), and the behaviour
docs/emulators.md describes: Accept, auth, errors, identities, ranges, rate limit, inclusions, Git, scheduler."""

from __future__ import annotations

import collections
import copy
import os
import subprocess
import time
from urllib.parse import quote

import pytest
import requests

from tests.contract.heroku_schema import load, request_extras
from tests.emulators import heroku_fixture
from tests.helpers import ROOT, EmulatorProcess

FIXTURES = ROOT / "tests" / "emulators" / "fixtures"
ACCEPT = "application/vnd.heroku+json; version=3"
SCHEMA = load()
# Single objects an app or pipeline may not have: 404 is the answer then.
OPTIONAL = {"/apps/{app}/pipeline-couplings", "/apps/{app}/review-app", "/pipelines/{pipeline}/review-app-config"}
NOT_PLATFORM = ("/git/", "/particleboard/")


@pytest.fixture(scope="module")
def heroku():
    """``heroku("account")``: the emulator serving fixtures/account.yml, started once per module."""
    started = {}

    def server(name: str) -> EmulatorProcess:
        if name not in started:
            started[name] = EmulatorProcess("heroku", "--fixture", str(FIXTURES / f"{name}.yml"))
        return started[name]

    yield server
    for process in started.values():
        process.stop()


class Api:
    def __init__(self, server: EmulatorProcess):
        self.server = server
        self.session = requests.Session()
        self.session.headers.update({"Accept": ACCEPT, "Authorization": f"Bearer {server.token}"})

    def get(self, path: str, **headers) -> requests.Response:
        return self.session.get(self.server.url + path, headers=headers, timeout=30)


def check(template: str, resp: requests.Response, extras=frozenset()) -> None:
    """The answer of one GET, validated here with the schema, independently of the emulator."""
    if resp.status_code == 404 and template in OPTIONAL:
        assert not SCHEMA.check_error(resp.json())
        return
    assert resp.status_code in (200, 206), f"{resp.request.url}: {resp.status_code} {resp.text[:300]}"
    errors = SCHEMA.check_response("GET", template, resp.json(), extras)
    assert not errors, f"{resp.request.url}: {errors[:5]}"


def served_get_routes(server: EmulatorProcess) -> set:
    """The Platform API GET routes the emulator serves (Scheduler and Git aside)."""
    return {
        t for m, t in server.admin("GET", "/_admin/routes")["routes"] if m == "GET" and not t.startswith(NOT_PLATFORM)
    }


class Walker:
    """GETs every Platform API route of an emulator with every value its path parameters accept."""

    # parameters whose values come from somewhere else than the list one level up
    SOURCES = {
        "/users": lambda w, bound: [w.get("/account")],
        "/apps/{app}/slugs": lambda w, bound: [
            {"id": r["slug"]["id"]} for r in w.get("/apps/{app}/releases", bound) if r["slug"]
        ],
        "/apps/{app}/oci-images": lambda w, bound: [
            w.get("/apps/{app}/oci-images/{oci_image}", {**bound, "oci_image": a})[0]
            for r in w.get("/apps/{app}/releases", bound)
            for a in r["artifacts"]
            if a["type"] == "oci-image"
        ],
        "/plans": lambda w, bound: [
            p for s in w.get("/addon-services") for p in w.get("/addon-services/{service}/plans", {"service": s})
        ],
        "/review-apps": lambda w, bound: [
            r for p in w.get("/pipelines") for r in w.get("/pipelines/{pipeline}/review-apps", {"pipeline": p})
        ],
        "/teams/apps": lambda w, bound: [a for t in w.get("/teams") for a in w.get("/teams/{team}/apps", {"team": t})],
    }

    def __init__(self, api: Api):
        self.api = api
        self.cache: dict = {}
        self.walked = collections.Counter()

    @staticmethod
    def fill(template: str, bound: dict) -> str:
        for name, obj in bound.items():
            template = template.replace("{" + name + "}", quote(str(obj.get("id") or obj["name"]), safe=""))
        return template

    def get(self, template: str, bound: dict = None):
        """A list (every page, following Next-Range) or an object, validated and cached."""
        path = self.fill(template, bound or {})
        if path not in self.cache:
            resp = self.api.get(path)
            check(template, resp)
            body = resp.json()
            while resp.status_code == 206:
                resp = self.api.get(path, Range=resp.headers["Next-Range"])
                check(template, resp)
                body += resp.json()
            self.cache[path] = body
        return self.cache[path]

    def sources(self, template: str, param: str, bound: dict) -> list:
        prefix = template[: template.index("{" + param + "}")].rstrip("/")
        if prefix in self.SOURCES:
            return self.SOURCES[prefix](self, bound)
        return self.get(prefix, bound)

    def route(self, template: str) -> None:
        link = SCHEMA.link("GET", template)
        params = [p.strip("{}") for p in template.split("/") if p.startswith("{")]
        self._bind(template, params, list(link.placeholders), {})

    def _bind(self, template: str, params: list, placeholders: list, bound: dict) -> None:
        if not params:
            path = self.fill(template, bound)
            check(template, self.api.get(path))
            self.walked[template] += 1
            return
        param, rest = params[0], params[1:]
        for n, obj in enumerate(self.sources(template, param, bound)):
            if rest:
                self._bind(template, rest, placeholders[1:], {**bound, param: obj})
                continue
            # the last parameter: every identity the schema gives it names the same object (tried on the first object of
            # each list)
            answers = []
            for value in self.identities(obj, placeholders[0])[: None if n == 0 else 1]:
                path = self.fill(template, bound).replace("{" + param + "}", quote(str(value), safe=""))
                resp = self.api.get(path)
                check(template, resp)
                answers.append(resp.json())
                self.walked[template] += 1
            assert answers and all(a == answers[0] for a in answers), f"{template}: identities of one object disagree"

    @staticmethod
    def identities(obj: dict, placeholder) -> list:
        values = [obj.get(f) or (obj.get("user") or {}).get(f) for f in placeholder.fields]
        return [v for v in values if v is not None] + list(placeholder.literals)

    def walk(self) -> collections.Counter:
        for template in sorted(served_get_routes(self.api.server)):
            self.route(template)
        return self.walked


def assert_clean_log(server: EmulatorProcess) -> None:
    broken = [e for e in server.requests()["requests"] if e.get("response_error")]
    assert not broken, [(e["path"], e["response_error"]) for e in broken[:5]]


@pytest.mark.parametrize("fixture", ["account", "demo"])
def test_every_route_over_every_app_validates_against_the_schema(heroku, fixture):
    server = heroku(fixture)
    server.clear_log()
    walked = Walker(Api(server)).walk()
    apps = heroku_fixture.read(str(FIXTURES / f"{fixture}.yml"))["apps"]
    assert walked["/apps/{app}"] == len(apps) + 1  # each app, the first one by id and by name
    api = Api(server)
    for app in api.get("/apps").json():
        jobs = api.get(f"/particleboard/apps/{app['id']}/jobs", Accept="application/vnd.api+json")
        assert jobs.status_code == 200 and not SCHEMA.check_scheduler_jobs(jobs.json()), app["name"]
    if fixture == "account":
        # the account fixture has data behind every route
        assert served_get_routes(server) <= set(walked), served_get_routes(server) - set(walked)
    assert_clean_log(server)


def test_every_served_route_is_a_schema_link(heroku):
    routes = heroku("demo").admin("GET", "/_admin/routes")["routes"]
    missing = [(m, t) for m, t in routes if not t.startswith(NOT_PLATFORM) and SCHEMA.link(m, t) is None]
    assert not missing
    assert len(routes) > 50


def test_the_validator_catches_wrong_shapes(heroku):
    app = Api(heroku("demo")).get("/apps/northwind-hello").json()
    assert not SCHEMA.check_response("GET", "/apps/{app}", app)
    mutations = {
        "missing": lambda a: a.pop("git_url"),
        "extra": lambda a: a.update(dynos=1),
        "type": lambda a: a.update(maintenance="no"),
        "uuid": lambda a: a.update(id="123"),
        "date-time": lambda a: a.update(created_at="yesterday"),
        "nested": lambda a: a["stack"].pop("id"),
        "pattern": lambda a: a.update(git_url="https://github.com/x/y.git"),
    }
    for name, mutate in mutations.items():
        bad = copy.deepcopy(app)
        mutate(bad)
        assert SCHEMA.check_response("GET", "/apps/{app}", bad), name
    assert SCHEMA.check_response("GET", "/apps", app)  # an object where the list link returns an array
    assert SCHEMA.check_response("GET", "/apps/{app}/config-vars", {"BAD-KEY": "x"})
    assert SCHEMA.check_response("GET", "/apps/{app}/dyno-count", {})  # not a link


def test_the_emulator_answers_500_rather_than_a_broken_object(heroku):
    server = heroku("demo")
    state = server.state()
    broken = copy.deepcopy(state)
    broken["apps"][0].pop("web_url")
    server.admin("PUT", "/_admin/state", broken)
    try:
        server.clear_log()
        resp = Api(server).get(f"/apps/{broken['apps'][0]['name']}")
        assert resp.status_code == 500 and resp.json()["id"] == "internal_server_error"
        entry = server.requests()["requests"][-1]
        assert "'web_url' is a required property" in entry["response_error"] and entry["status"] == 500
    finally:
        server.admin("PUT", "/_admin/state", state)
        server.clear_log()


def test_accept_header_is_required(heroku):
    server = heroku("demo")
    for accept in (
        None,
        "application/json",
        "application/vnd.heroku+json; version=2",
        "application/vnd.heroku+json; version=3.sdk",
    ):
        headers = {"Authorization": f"Bearer {server.token}", **({"Accept": accept} if accept else {})}
        resp = requests.get(server.url + "/apps", headers=headers, timeout=10)
        assert resp.status_code == 406 and resp.json()["id"] == "not_acceptable", accept
    assert_clean_log(server)


def test_bearer_token_is_required(heroku):
    server = heroku("demo")
    for auth in (None, "Bearer wrong-token", f"Basic {server.token}"):
        headers = {"Accept": ACCEPT, **({"Authorization": auth} if auth else {})}
        resp = requests.get(server.url + "/apps", headers=headers, timeout=10)
        assert resp.status_code == 401 and resp.json()["id"] == "unauthorized", auth
        assert "RateLimit-Remaining" in resp.headers


def test_not_found_bodies(heroku):
    api = Api(heroku("demo"))
    assert api.get("/apps/no-such-app").json() == {
        "id": "not_found",
        "message": "Couldn't find that app.",
        "resource": "app",
    }
    body = api.get("/apps/northwind-shop/formation/clock").json()
    assert body["message"] == "Couldn't find that process type (clock)." and body["id"] == "not_found"
    # pipeline couplings take the pipeline id, not its name (docs/emulators.md)
    assert api.get("/pipelines/northwind-api/pipeline-couplings").status_code == 404
    assert api.get("/pipelines/northwind-api").status_code == 200
    unknown = api.get("/apps/northwind-shop/dyno-count")
    assert unknown.status_code == 404 and unknown.json()["id"] == "not_found"
    assert api.get("/apps/northwind-hello/pipeline-couplings").status_code == 404  # in no pipeline


def test_apps_by_name_and_by_id(heroku):
    api = Api(heroku("demo"))
    by_name = api.get("/apps/northwind-shop").json()
    assert api.get(f"/apps/{by_name['id']}").json() == by_name
    assert api.get(f"/apps/{by_name['id']}/formation").json() == api.get("/apps/northwind-shop/formation").json()


def test_range_pagination_over_2000_apps(heroku):
    server = heroku("large")
    server.clear_log()
    api = Api(server)
    for first_range, pages in ((None, 10), ("id ..; max=1000", 2), ("name ..; max=700, order=desc", 3)):
        seen, statuses, headers = [], [], {"Range": first_range} if first_range else {}
        while True:
            resp = api.get("/apps", **headers)
            if first_range is None:
                check("/apps", resp)  # the emulator checks every page; here, the default paging
            statuses.append(resp.status_code)
            seen += [a["name"] for a in resp.json()]
            if resp.status_code != 206:
                break
            headers = {"Range": resp.headers["Next-Range"]}
            assert resp.headers["Content-Range"].startswith(resp.headers["Next-Range"].split()[0] + " ")
        assert statuses == [206] * (pages - 1) + [200], first_range
        assert len(seen) == len(set(seen)) == 2000
        if first_range and "desc" in first_range:
            assert seen == sorted(seen, reverse=True)
    assert "name" in resp.headers["Accept-Ranges"]
    assert_clean_log(server)


def test_range_header_syntax(heroku):
    api = Api(heroku("account"))
    newest = api.get("/apps/acme-shop/releases", Range="version ..; max=2, order=desc")
    assert newest.status_code == 206 and [r["version"] for r in newest.json()] == [10, 9]
    assert newest.headers["Next-Range"] == "version ]9..; max=2, order=desc"
    rest = api.get("/apps/acme-shop/releases", Range=newest.headers["Next-Range"])
    assert [r["version"] for r in rest.json()][:2] == [8, 7]
    for bad in ("version ..; max=2; order=desc", "colour ..", "id ..; max=ten"):
        resp = api.get("/apps/acme-shop/releases", Range=bad)
        assert resp.status_code == 400 and resp.json()["id"] == "bad_request", bad
    # the newest release failed: the current one is the one before
    releases = sorted(api.get("/apps/acme-shop/releases").json(), key=lambda r: r["version"])
    assert [r["version"] for r in releases if r["current"]] == [9] and releases[-1]["status"] == "failed"


def test_rate_limit_bucket_empties_and_refills(heroku):
    server = heroku("demo")
    api = Api(server)
    server.admin("POST", "/_admin/rate-limit", {"size": 3, "per_hour": 36000})  # 10 tokens a second
    try:
        remaining = [int(api.get("/apps").headers["RateLimit-Remaining"]) for call in range(3)]
        assert remaining == [2, 1, 0]
        limited = api.get("/apps")
        assert limited.status_code == 429 and limited.json()["id"] == "rate_limit"
        assert limited.headers["RateLimit-Remaining"] == "0"
        assert api.get("/account/rate-limits").json() == {"remaining": 0}  # free of charge
        time.sleep(0.25)
        assert api.get("/apps").status_code == 200
    finally:
        server.admin("POST", "/_admin/rate-limit", {"size": 4500, "per_hour": 4500})
    server.faults(queue=[{"fault": "429", "match": "GET /apps", "times": 1}])
    injected = api.get("/apps")
    assert injected.status_code == 429 and injected.json()["id"] == "rate_limit"
    assert api.get("/apps").status_code == 200


def test_accept_inclusion_and_expansion_on_a_shared_add_on(heroku):
    api = Api(heroku("account"))
    plain = api.get("/apps/analytics-dashboard/addon-attachments").json()
    assert [a["name"] for a in plain] == ["ANALYTICS_DATABASE"] and "config_vars" not in plain[0]
    included = api.get("/apps/analytics-dashboard/addon-attachments", **{"Accept-Inclusion": "addon:plan,config_vars"})
    check("/apps/{app}/addon-attachments", included, request_extras({"accept-inclusion": "addon:plan,config_vars"}))
    attachment = included.json()[0]
    assert (
        attachment["config_vars"] == ["ANALYTICS_DATABASE_URL"]
        and attachment["addon"]["plan"]["name"] == "heroku-postgresql:standard-0"
    )
    # the add-on is owned (and billed) by another app, and lists the owner's config var names
    addon = api.get("/apps/analytics-dashboard/addons").json()[0]
    assert addon["app"]["name"] == "analytics-core" and addon["config_vars"] == [
        "DATABASE_URL",
        "HEROKU_POSTGRESQL_ONYX_URL",
    ]
    config = api.get("/apps/analytics-dashboard/config-vars").json()
    assert config["ANALYTICS_DATABASE_URL"] == api.get("/apps/analytics-core/config-vars").json()["DATABASE_URL"]
    expanded = api.get("/apps/analytics-core/addons", **{"Accept-Expansion": "addon_service,plan"})
    check("/apps/{app}/addons", expanded, request_extras({"accept-expansion": "addon_service,plan"}))
    assert expanded.json()[0]["addon_service"]["human_name"] == "Heroku Postgres"


def test_config_values_survive_byte_for_byte(heroku):
    api = Api(heroku("account"))
    fixture = {a["name"]: a for a in heroku_fixture.read(str(FIXTURES / "account.yml"))["apps"]}
    zoo = api.get("/apps/config-zoo/config-vars").json()
    for key, value in fixture["config-zoo"]["config_vars"].items():
        assert zoo[key] == value, key
    assert zoo["TLS_PRIVATE_KEY"].count("\n") == 4 and zoo["EMPTY"] == "" and "1PASSWORD_VAULT" in zoo
    heavy = api.get("/apps/settings-heavy/config-vars").json()
    assert len(heavy) == 500 and heavy["SETTING_042"] == "value 42 of 500"


def test_scheduler_jobs_by_app_uuid(heroku):
    server = heroku("demo")
    api = Api(server)
    shop = api.get("/apps/northwind-shop").json()
    resp = api.get(f"/particleboard/apps/{shop['id']}/jobs", Accept="application/vnd.api+json")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/vnd.api+json"
    assert not SCHEMA.check_scheduler_jobs(resp.json())
    assert [(j["attributes"]["every"], j["attributes"]["at"]) for j in resp.json()["data"]] == [
        (10, 0),
        (60, 30),
        (1440, 150),
    ]
    assert api.get("/particleboard/apps/northwind-shop/jobs").status_code == 404  # particleboard takes the uuid only
    assert requests.get(f"{server.url}/particleboard/apps/{shop['id']}/jobs", timeout=10).status_code == 401


def test_maintenance_is_the_one_write(heroku):
    server = heroku("demo")
    api = Api(server)
    url = server.url + "/apps/northwind-hello"
    on = api.session.patch(url, json={"maintenance": True}, timeout=10)
    assert on.status_code == 200 and on.json()["maintenance"] is True
    assert api.get("/apps/northwind-hello").json()["maintenance"] is True
    assert api.session.patch(url, json={"maintenance": False}, timeout=10).json()["maintenance"] is False
    for body in ({"maintenance": "yes"}, {"name": "renamed-app"}):
        resp = api.session.patch(url, json=body, timeout=10)
        assert resp.status_code == 422 and resp.json()["id"] == "invalid_params", body
    assert_clean_log(server)


def git(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_git_clone_over_http_with_the_api_key(heroku, tmp_path):
    server = heroku("account")
    api = Api(server)
    remote = server.url.replace("http://", f"http://heroku:{server.token}@") + "/git/acme-shop.git"
    assert git("clone", "--quiet", remote, str(tmp_path / "shop")).returncode == 0
    # the newest push failed in its release phase: what runs is HEAD~1
    live = git("rev-parse", "HEAD~1", cwd=tmp_path / "shop").stdout.strip()
    current = next(r for r in api.get("/apps/acme-shop/releases").json() if r["current"])
    assert api.get(f"/apps/acme-shop/slugs/{current['slug']['id']}").json()["commit"] == live
    assert "release: bundle exec rails db:migrate" in (tmp_path / "shop" / "Procfile").read_text()
    assert git("log", "--format=%s", cwd=tmp_path / "shop").stdout.splitlines()[-1] == "Rails storefront"
    # Heroku Git here is a read-only source
    assert git("push", "--quiet", "origin", "HEAD:refs/heads/other", cwd=tmp_path / "shop").returncode != 0
    # an app deployed without Heroku Git has an empty repository
    empty = git("clone", remote.replace("acme-shop", "config-zoo"), str(tmp_path / "zoo"))
    assert empty.returncode == 0 and "empty repository" in empty.stderr


def test_git_clone_fails_with_a_wrong_key(heroku, tmp_path):
    server = heroku("account")
    remote = server.url.replace("http://", "http://heroku:not-the-key@") + "/git/acme-shop.git"
    result = git("clone", remote, str(tmp_path / "shop"))
    assert result.returncode != 0 and "Authentication failed" in result.stderr
    assert git("clone", server.url + "/git/acme-shop.git", str(tmp_path / "anonymous")).returncode != 0


def test_fixture_directives_and_errors():
    spec = heroku_fixture.expand(
        {
            "apps": [{"$repeat": {"count": 3, "item": {"name": "app-{i:02d}"}}}],
            "vars": {"A": "a", "$repeat": {"count": 2, "key": "K_{i}", "value": "v{i}"}},
        }
    )
    assert [a["name"] for a in spec["apps"]] == ["app-01", "app-02", "app-03"] and spec["vars"] == {
        "A": "a",
        "K_1": "v1",
        "K_2": "v2",
    }
    broken = {
        "must be a string": {"apps": [{"name": "yaml-bool", "config_vars": {"DEBUG": True}}]},
        "unknown plan": {"apps": [{"name": "no-plan", "addons": [{"plan": "heroku-postgresql:hobby-dev"}]}]},
        "need a scheduler": {
            "apps": [
                {
                    "name": "no-scheduler",
                    "process_types": {"web": "x"},
                    "scheduler_jobs": [{"command": "x", "schedule": "every 10 minutes"}],
                }
            ]
        },
        "unknown schedule": {
            "apps": [
                {
                    "name": "odd-schedule",
                    "addons": [{"plan": "scheduler:standard"}],
                    "scheduler_jobs": [{"command": "x", "schedule": "hourly at :15"}],
                }
            ]
        },
        "not process types": {"apps": [{"name": "no-clock", "process_types": {"web": "x"}, "formation": {"clock": 1}}]},
    }
    for message, spec in broken.items():
        with pytest.raises(heroku_fixture.FixtureError, match=message):
            heroku_fixture.build_state(spec)

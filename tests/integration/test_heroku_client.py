# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Heroku client (plugins/module_utils/heroku.py) against the Heroku emulator, as a real process:
Range pagination, rate limits, retries, errors, the read-only rule and the GET cache. Nothing of
ours is mocked; the client's ``sleep`` is replaced so that back-off waits are recorded, not slept,
and a requests hook records what went over the wire."""

from __future__ import annotations

import time

import pytest
import requests

from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku import (
    FIRST_RANGE, LOW_WATER, HerokuClient, HerokuError)
from tests.helpers import ROOT, EmulatorProcess

FIXTURES = ROOT / "tests" / "emulators" / "fixtures"
FULL_BUCKET = {"size": 4500, "per_hour": 4500}


@pytest.fixture(scope="module")
def account():
    server = EmulatorProcess("heroku", "--fixture", str(FIXTURES / "account.yml"))
    yield server
    server.stop()


@pytest.fixture
def heroku(account):
    """The account emulator with an empty log, no queued fault and a full rate-limit bucket."""
    account.admin("POST", "/_admin/rate-limit", FULL_BUCKET)
    account.faults()
    account.clear_log()
    yield account
    account.admin("POST", "/_admin/rate-limit", FULL_BUCKET)
    account.faults()


class Wire:
    """What the client sent and received: a response hook on its own requests.Session."""

    def __init__(self):
        self.session = requests.Session()
        self.exchanges = []
        self.session.hooks["response"].append(self.record)

    def record(self, resp, *args, **kwargs):  # pylint: disable=unused-argument
        self.exchanges.append(dict(status=resp.status_code, range=resp.request.headers.get("Range"),
                                   next_range=resp.headers.get("Next-Range"), accept=resp.request.headers.get("Accept"),
                                   remaining=resp.headers.get("RateLimit-Remaining")))


def client_for(server, token=None, sleep=None, **kwargs):
    """A client of the emulator, its wire recorder and the list of waits it asked for."""
    wire, waits = Wire(), []

    def record_wait(seconds):
        waits.append(seconds)
        if sleep:
            sleep(seconds)

    client = HerokuClient(token or server.token, base_url=server.url, session=wire.session, sleep=record_wait, **kwargs)
    return client, wire, waits


def statuses(server):
    return [e["status"] for e in server.requests()["requests"]]


def test_pagination_follows_next_range_over_2000_apps():
    large = EmulatorProcess("heroku", "--fixture", str(FIXTURES / "large.yml"))
    try:
        client, wire, waits = client_for(large)
        apps = client.list("/apps")
        assert len(apps) == 2000 and len({a["id"] for a in apps}) == 2000
        assert sorted(a["name"] for a in apps) == ["fleet-app-%04d" % i for i in range(1, 2001)]
        # ids in order: the pages were chained on the id range
        assert [a["id"] for a in apps] == sorted(a["id"] for a in apps)
        first, second = wire.exchanges
        assert first["range"] == FIRST_RANGE == "id ..; max=1000"
        assert first["status"] == 206 and first["next_range"]
        assert second["range"] == first["next_range"]  # sent back verbatim
        assert second["status"] == 200 and second["next_range"] is None
        assert client.counts == {"GET /apps": 2}
        assert large.requests()["counts"] == {"GET /apps": 2}
        assert waits == []
    finally:
        large.stop()


def test_short_list_is_one_request(heroku):
    client, wire, _waits = client_for(heroku)
    apps = client.list("/apps")
    assert len(apps) == 16 and [e["status"] for e in wire.exchanges] == [200]


def test_rate_limit_429_then_success_after_backoff(heroku):
    # An empty bucket that refills at 10 tokens a second: the first try is refused, the one after the back-off passes.
    heroku.admin("POST", "/_admin/rate-limit", {"remaining": 0, "per_hour": 36000})
    client, wire, waits = client_for(heroku, sleep=lambda seconds: time.sleep(0.3))
    account = client.get("/account")
    assert account["email"] == "ada@acme.example"
    assert [e["status"] for e in wire.exchanges] == [429, 200]
    assert waits == [5.0]  # the first back-off; Heroku sends no Retry-After
    assert statuses(heroku) == [429, 200]
    assert client.counts == {"GET /account": 2}


def test_rate_limit_gives_up_after_max_retries(heroku):
    heroku.admin("POST", "/_admin/rate-limit", {"remaining": 0, "per_hour": 0})
    client, wire, waits = client_for(heroku, max_retries=2)
    with pytest.raises(HerokuError) as err:
        client.get("/account")
    assert err.value.status == 429 and err.value.error_id == "rate_limit"
    assert "rate limit" in err.value.message
    assert [e["status"] for e in wire.exchanges] == [429, 429, 429]
    assert waits == [5.0, 10.0]  # exponential


def test_rate_limit_wait_longer_than_allowed_is_an_error(heroku):
    heroku.admin("POST", "/_admin/rate-limit", {"remaining": 0, "per_hour": 0})
    client, wire, waits = client_for(heroku, max_rate_limit_wait=1)
    with pytest.raises(HerokuError) as err:
        client.get("/account")
    assert err.value.error_id == "rate_limit" and "max_rate_limit_wait" in err.value.message
    assert len(wire.exchanges) == 1 and waits == []


def test_low_water_mark_slows_down(heroku):
    client, wire, waits = client_for(heroku)
    client.get("/account")
    client.get("/apps/{app}", app="hello-static")
    assert waits == []  # a full bucket: no wait
    heroku.admin("POST", "/_admin/rate-limit", {"remaining": 10})
    client.get("/apps/{app}", app="acme-shop")
    remaining = int(wire.exchanges[-1]["remaining"])
    assert remaining < LOW_WATER
    assert waits == []  # the answer tells the client to slow down: the next request waits
    client.get("/apps/{app}", app="config-zoo")
    assert len(waits) == 1
    # until the bucket (1.25 tokens a second) is back at the low-water mark, less the time already gone
    assert (LOW_WATER - remaining) / 1.25 - 1 < waits[0] <= (LOW_WATER - remaining) / 1.25
    assert client.waited_seconds == waits[0]
    assert statuses(heroku) == [200] * 4


@pytest.mark.parametrize("status", ["500", "502", "503", "504"])
def test_server_errors_are_retried_for_get(heroku, status):
    heroku.faults(queue=[{"fault": status, "match": "GET /apps/hello-static", "times": 2}])
    client, wire, waits = client_for(heroku)
    assert client.get("/apps/{app}", app="hello-static")["name"] == "hello-static"
    assert [e["status"] for e in wire.exchanges] == [int(status), int(status), 200]
    assert len(waits) == 2 and all(0 <= w <= 2 for w in waits)  # jittered back-off: up to 1 s, then up to 2 s


def test_server_errors_give_up_after_max_retries(heroku):
    heroku.faults(queue=[{"fault": "503", "match": "GET /apps/hello-static", "times": 5}])
    client, wire, _waits = client_for(heroku, max_retries=2)
    with pytest.raises(HerokuError) as err:
        client.get("/apps/{app}", app="hello-static")
    assert err.value.status == 503 and err.value.error_id == "service_unavailable"
    assert err.value.message == "Injected fault 503"
    assert len(wire.exchanges) == 3


def test_errors_mapped_from_id_and_message(heroku):
    client, _wire, _waits = client_for(heroku)
    with pytest.raises(HerokuError) as err:
        client.get("/apps/{app}", app="no-such-app")
    exc = err.value
    assert (exc.status, exc.error_id, exc.message) == (404, "not_found", "Couldn't find that app.")
    assert exc.details == {"resource": "app"}
    assert exc.to_dict() == {"status": 404, "message": "Couldn't find that app.", "id": "not_found",
                             "details": {"resource": "app"}, "request": "GET /apps/{app}"}
    assert str(exc) == "HTTP 404: Couldn't find that app. (GET /apps/{app})"
    assert client.get_or_none("/apps/{app}", app="no-such-app") is None
    # a malformed Range: Heroku's bad_request
    with pytest.raises(HerokuError) as err:
        client.request("GET", "/apps", headers={"Range": "id ..; max=10; order=desc"})
    assert (err.value.status, err.value.error_id) == (400,
                                                      "bad_request") and "Invalid `Range` header" in err.value.message


def test_not_acceptable_and_unauthorized_mapped(heroku):
    client, wire, _waits = client_for(heroku)
    assert client.get("/account")["email"] == "ada@acme.example"
    assert wire.exchanges[0]["accept"] == "application/vnd.heroku+json; version=3"
    with pytest.raises(HerokuError) as err:
        client.get("/account", headers={"Accept": "application/json"})
    assert (err.value.status, err.value.error_id) == (406, "not_acceptable") and "version=3" in err.value.message
    stranger, _wire, _waits = client_for(heroku, token="not-the-key")
    with pytest.raises(HerokuError) as err:
        stranger.get("/account")
    assert (err.value.status, err.value.error_id, err.value.message) == (401, "unauthorized",
                                                                         "Invalid credentials provided.")
    # neither is retried
    assert statuses(heroku) == [200, 406, 401]


def test_scheduler_errors_mapped_from_json_api(heroku):
    scheduler, _wire, _waits = client_for(heroku, token="not-the-key")
    scheduler.base_url = heroku.url + "/particleboard"
    with pytest.raises(HerokuError) as err:
        scheduler.request("GET", "/apps/{app}/jobs", params=dict(app="00000000-0000-0000-0000-000000000000"))
    assert (err.value.status, err.value.message) == (401, "Unauthorized")


def test_no_token_is_refused_before_any_request(heroku):
    for token in ("", None, " \n"):
        with pytest.raises(HerokuError) as err:
            HerokuClient(token, base_url=heroku.url)
        assert err.value.message == ("No Heroku API token: set the api_token option or the HEROKU_API_KEY "
                                     "environment variable.")
    assert heroku.requests()["total"] == 0


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_refuses_every_method_but_get(heroku, method):
    client, wire, _waits = client_for(heroku)
    with pytest.raises(HerokuError, match="read-only") as err:
        client.request(method, "/apps/{app}", params=dict(app="hello-static"), json={"maintenance": True})
    assert err.value.method == method
    assert wire.exchanges == [] and heroku.requests()["total"] == 0 and client.counts == {}


def test_get_cache_sends_each_read_once(heroku):
    client, wire, _waits = client_for(heroku)
    app = client.get("/apps/{app}", app="acme-shop")
    app["name"] = "changed by the caller"
    again = client.get("/apps/{app}", app="acme-shop")
    assert again["name"] == "acme-shop"  # a copy each time: the cache cannot be changed from outside
    domains = client.list("/apps/{app}/domains", app="acme-shop")
    assert client.list("/apps/{app}/domains", app="acme-shop") == domains
    assert len(wire.exchanges) == 2
    assert heroku.requests()["counts"] == {"GET /apps/{app}": 1, "GET /apps/{app}/domains": 1}
    # another identity, other headers: other reads
    client.get("/apps/{app}", app=app["id"])
    client.list("/apps/{app}/addon-attachments", app="acme-shop", headers={"Accept-Inclusion": "config_vars"})
    client.list("/apps/{app}/addon-attachments", app="acme-shop")
    assert len(wire.exchanges) == 5
    # a second client has its own cache (one per task)
    other, other_wire, _waits = client_for(heroku)
    other.get("/apps/{app}", app="acme-shop")
    assert len(other_wire.exchanges) == 1

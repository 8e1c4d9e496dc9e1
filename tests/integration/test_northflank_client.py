"""The Northflank client against the real emulator: pagination, rate limits, retries, errors."""

from __future__ import annotations

import time

import pytest

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank import (
    NorthflankClient, NorthflankError)


def client(server, **kwargs) -> NorthflankClient:
    kwargs.setdefault("backoff_base", 0.01)
    return NorthflankClient(token=server.token, base_url=server.url, **kwargs)


def routes_logged(server) -> list:
    return [(e["method"], e["path"], e["status"]) for e in server.requests()["requests"]]


@pytest.fixture
def roomy(northflank):
    """The emulator with a budget large enough for bulk set-up."""
    northflank.admin("POST", "/_admin/rate-limit", {"budget": 100000, "window_seconds": 3600})
    yield northflank
    northflank.admin("POST", "/_admin/rate-limit", {"budget": 1000, "window_seconds": 3600})


def test_list_follows_cursor_pagination_over_100_items(roomy):
    nf = client(roomy)
    for i in range(130):
        nf.put("/v1/projects", {"name": f"page-test-{i:03d}", "region": "europe-west"})
    roomy.clear_log()
    projects = nf.list("/v1/projects", "projects")
    names = {p["name"] for p in projects}
    assert {f"page-test-{i:03d}" for i in range(130)} <= names
    pages = [e for e in roomy.requests()["requests"] if e["path"] == "/v1/projects"]
    assert len(pages) == 2  # 100 per page
    assert "per_page=100" in pages[0]["query"] and "cursor=" in pages[1]["query"]
    assert nf.counts["GET /v1/projects"] == 2


def test_waits_for_the_rate_limit_window_then_succeeds(northflank):
    northflank.admin("POST", "/_admin/rate-limit", {"budget": 2, "window_seconds": 2})
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    nf = client(northflank, sleep=sleep)
    try:
        for _attempt in range(4):
            assert nf.get("/v1/regions")["regions"]
    finally:
        northflank.admin("POST", "/_admin/rate-limit", {"budget": 1000, "window_seconds": 3600})
    statuses = [s for _m, p, s in routes_logged(northflank) if p == "/v1/regions"]
    # The client read x-ratelimit-remaining=0 and waited for the reset instead of hitting a 429.
    assert statuses == [200, 200, 200, 200]
    assert waits and 0 < max(waits) <= 3


def test_a_429_is_waited_out_and_retried(northflank):
    northflank.faults(queue=[{"fault": "429", "match": "GET /v1/plans", "times": 1}])
    nf = client(northflank)
    waits = []
    nf.sleep = waits.append
    assert nf.get("/v1/plans")["plans"]
    assert [s for _m, p, s in routes_logged(northflank) if p == "/v1/plans"] == ["fault:429", 200]
    assert len(waits) == 1


def test_a_429_beyond_max_rate_limit_wait_fails_clearly(northflank):
    northflank.admin("POST", "/_admin/rate-limit", {"budget": 1, "window_seconds": 3600})
    try:
        nf = client(northflank, max_rate_limit_wait=5)
        nf.get("/v1/regions")
        with pytest.raises(NorthflankError) as err:
            nf.get("/v1/regions")
    finally:
        northflank.admin("POST", "/_admin/rate-limit", {"budget": 1000, "window_seconds": 3600})
    assert err.value.status == 429
    assert "max_rate_limit_wait" in str(err.value)


@pytest.mark.parametrize("fault", ["500", "502", "reset", "timeout"])
def test_get_retries_server_errors_and_network_failures(northflank, fault):
    northflank.faults(queue=[{"fault": fault, "match": "GET /v1/addon-types", "times": 2}])
    nf = client(northflank, timeout=1)
    assert nf.get("/v1/addon-types")["addonTypes"]
    logged = [s for _m, p, s in routes_logged(northflank) if p == "/v1/addon-types"]
    assert logged == [f"fault:{fault}", f"fault:{fault}", 200]
    assert nf.counts == {"GET /v1/addon-types": 3}


@pytest.mark.parametrize("fault", ["500", "502", "reset", "timeout"])
def test_post_is_never_repeated_blindly(northflank, fault):
    northflank.faults(queue=[{"fault": fault, "match": "POST /v1/projects", "times": 1}])
    nf = client(northflank, timeout=1)
    with pytest.raises(NorthflankError):
        nf.post("/v1/projects", {"name": f"no-repeat-{fault}", "region": "europe-west"})
    posts = [e for e in northflank.requests()["requests"] if e["method"] == "POST"]
    assert len(posts) == 1


def test_retries_are_bounded(northflank):
    northflank.faults(queue=[{"fault": "503", "match": "GET /v1/plans", "times": 10}])
    nf = client(northflank, max_retries=2)
    with pytest.raises(NorthflankError) as err:
        nf.get("/v1/plans")
    assert err.value.status == 503
    assert nf.counts == {"GET /v1/plans": 3}


def test_errors_carry_the_api_status_message_and_route(northflank):
    nf = client(northflank)
    with pytest.raises(NorthflankError) as err:
        nf.get("/v1/projects/{project}", project="does-not-exist")
    assert err.value.status == 404
    assert err.value.message
    assert err.value.to_dict()["request"] == "GET /v1/projects/{project}"
    assert nf.get_or_none("/v1/projects/{project}", project="does-not-exist") is None


@pytest.mark.contract_violations_expected
def test_invalid_body_error_names_the_field(northflank):
    nf = client(northflank)
    with pytest.raises(NorthflankError) as err:
        nf.post("/v1/projects", {"name": "bad-body", "region": "europe-west", "colour": "#fff"})
    assert err.value.status == 400
    assert "colour" in err.value.message


def test_bad_token_is_a_401_with_the_api_message(northflank):
    nf = NorthflankClient(token="wrong", base_url=northflank.url)
    with pytest.raises(NorthflankError) as err:
        nf.get("/v1/projects")
    assert err.value.status == 401

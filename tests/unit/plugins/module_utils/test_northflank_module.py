"""The plain module base class without a server: slow polling, its pacing, and failures that carry
the request counts."""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.module_utils import northflank_module


class _Exit(Exception):
    pass


class _Module(object):
    check_mode = False

    def __init__(self, params):
        self.params = params

    def fail_json(self, **kwargs):
        raise _Exit(kwargs)


class _Client(object):
    counts = {"GET /v1/things/{thing}": 3}
    api_name = "Northflank"


class _Fake(northflank_module.NorthflankModule):
    """A module whose client is never called: what the base class adds around ``_run()``."""
    kind = "thing"

    def __init__(self, params=None):
        self.module = _Module(dict(params or {}))
        self.params = self.module.params
        self.client = _Client()


def test_poll_backs_off_from_first_to_interval_and_reports_the_api_words(monkeypatch):
    sleeps = []
    monkeypatch.setattr(northflank_module.time, "sleep", sleeps.append)
    fake = _Fake()
    states = iter(["a", "b", "c", "d", "e", "done"])
    assert fake.poll(lambda: next(states), done=lambda s: s == "done", timeout=1000, interval=30, first=5) == "done"
    assert sleeps == [5, 10, 20, 30, 30]
    try:
        fake.poll(lambda: "failed", done=lambda s: False, failed=lambda s: "disk full", what="import")
        raise AssertionError("no failure")
    except _Exit as exc:
        assert exc.args[0]["msg"] == "thing import failed: disk full"
        assert exc.args[0]["api_requests"] == {"GET /v1/things/{thing}": 3}


def test_poll_timeout_says_what_was_last_seen(monkeypatch):
    monkeypatch.setattr(northflank_module.time, "sleep", lambda s: None)
    fake = _Fake()
    try:
        fake.poll(lambda: {"status": "allocating"}, done=lambda r: False, what="'db'", timeout=0,
                  describe=lambda r: "status %s" % r["status"])
        raise AssertionError("no failure")
    except _Exit as exc:
        assert exc.args[0]["msg"] == ("timed out after 0s waiting for thing 'db' (last seen: status allocating); a "
                                      "re-run resumes the wait")


def test_pacing_starts_at_poll_interval_and_backs_off_to_six_times_it():
    fake = _Fake(dict(wait_timeout=900, poll_interval=5))
    assert fake.pacing() == {"timeout": 900, "first": 5, "interval": 30}


class _Clock(object):
    """time.time() and time.sleep() of northflank_module, on a clock that moves only when slept."""

    def __init__(self, monkeypatch, now=1000.0):
        self.now, self.sleeps = now, []
        monkeypatch.setattr(northflank_module.time, "time", lambda: self.now)
        monkeypatch.setattr(northflank_module.time, "sleep", self.sleep)

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_slice_ends_before_a_sleep_that_would_outlast_it_with_what_resumes_the_wait(monkeypatch):
    clock = _Clock(monkeypatch)
    fake = _Fake()
    fake.slice_end = clock.now + 5
    try:
        fake.poll(lambda: {"status": "allocating"}, done=lambda r: False, what="'db'", timeout=600, interval=30,
                  first=2, describe=lambda r: "status %s" % r["status"], resume=dict(run_id="r-1"))
        raise AssertionError("the slice did not end")
    except northflank_module.StillWaiting as exc:
        assert clock.sleeps == [2]  # 2 s, then 4 s would end after the slice
        assert exc.progress == dict(waiting_for="thing 'db'", status="status allocating", seconds=2, resume=dict(
            run_id="r-1", waiting_for="thing 'db'", since=1000.0, delay=4))


def test_the_next_slice_waits_first_and_keeps_the_wait_s_start_for_its_timeout(monkeypatch):
    clock = _Clock(monkeypatch, now=1010.0)
    fake = _Fake()
    fake.resume = dict(waiting_for="thing 'db'", since=1000.0, delay=4)
    states = iter(["a", "done"])
    assert fake.poll(lambda: next(states), done=lambda s: s == "done", what="'db'", interval=30, first=2) == "done"
    assert clock.sleeps == [4, 8]
    fake.resume = dict(waiting_for="thing 'db'", since=1000.0 - 600, delay=4)
    try:
        fake.poll(lambda: "a", done=lambda s: False, what="'db'", timeout=600, interval=30, first=2)
        raise AssertionError("no timeout")
    except _Exit as exc:
        assert exc.args[0]["msg"].startswith("timed out after 600s waiting for thing 'db'")


def test_a_rate_limit_wait_longer_than_the_slice_shows_as_waiting(monkeypatch):
    _Clock(monkeypatch)
    fake = _Fake()
    fake.slice_end = 1030.0

    def fetch():
        assert fake.client.slice_anywhere  # while polling, a rate-limit wait may end the slice even after a write
        raise northflank_module.SliceOver("Northflank API: rate limit reached, 40s to wait before GET /v1/things")

    try:
        fake.poll(fetch, done=lambda r: False, what="'db'")
        raise AssertionError("the slice did not end")
    except northflank_module.StillWaiting as exc:
        assert exc.progress["status"] == "Northflank API: rate limit reached, 40s to wait before GET /v1/things"
        assert exc.progress["resume"]["delay"] == 0
    assert not fake.client.slice_anywhere


class _Exited(Exception):
    pass


def test_a_module_still_waiting_exits_with_what_it_did_and_its_progress():
    fake = _Fake(dict(progress_interval=30))
    exits = []
    fake.module.exit_json = lambda **kwargs: exits.append(kwargs)
    fake.client.waited_seconds = 0
    fake.client.request_count = lambda writes_only=False: 1
    fake.partial = dict(diff=dict(before={}, after=dict(name="db")))

    def run():
        raise northflank_module.StillWaiting(dict(waiting_for="thing 'db'", status=None, seconds=3, resume={}))

    fake._run = run
    fake.run()
    assert exits == [dict(changed=True, waiting=True, diff=dict(before={}, after=dict(name="db")),
                          progress=dict(waiting_for="thing 'db'", status=None, seconds=3, resume={}),
                          api_requests={"GET /v1/things/{thing}": 3})]


def test_a_rate_limit_wait_before_the_first_write_ends_the_slice_and_resumes_what_it_resumed(monkeypatch):
    _Clock(monkeypatch, now=1100.0)
    fake = _Fake(dict(progress_interval=30))
    exits = []
    fake.module.exit_json = lambda **kwargs: exits.append(kwargs)
    fake.client.waited_seconds = 30
    fake.resume = dict(run_id="r-1", waiting_for="thing run", since=1000.0, delay=8)

    def run():
        raise northflank_module.SliceOver("Northflank API: the budget is spent, 570s to wait before GET /v1/things")

    fake._run = run
    fake.run()
    assert exits == [dict(changed=False, waiting=True, progress=dict(
        waiting_for="the Northflank rate limit", status="Northflank API: the budget is spent, 570s to wait before "
        "GET /v1/things", seconds=100, resume=fake.resume), api_requests={"GET /v1/things/{thing}": 3},
        waited_seconds=30)]


def test_the_client_ends_a_slice_at_a_rate_limit_wait_before_a_read_never_after_its_own_write(monkeypatch):
    from ansible_collections.herokumigrate.northflank.plugins.module_utils import api
    from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank import NorthflankClient

    slept = []
    monkeypatch.setattr(api.time, "time", lambda: 1000.0 + sum(slept))
    client = NorthflankClient("token", base_url="http://nf.test", sleep=slept.append)
    client.slice_end = 1010.0
    try:
        client._wait(600, "GET", "/v1/things", "rate limit reached")
        raise AssertionError("the slice did not end")
    except api.SliceOver as exc:
        assert str(exc) == "Northflank API: rate limit reached, 590s to wait before GET /v1/things"
    assert slept == [10.0] and client.waited_seconds == 10.0
    client.slice_end = 1020.0
    client.count("POST", "/v1/things")  # after its own write a wait ends no slice (outside a poll)
    client._wait(600, "GET", "/v1/things", "rate limit reached")
    assert slept == [10.0, 600]
    client.slice_end, client.slice_anywhere = 1700.0, True  # in a poll it does; never before a write
    try:
        client._wait(600, "GET", "/v1/things", "rate limit reached")
        raise AssertionError("the slice did not end")
    except api.SliceOver:
        pass
    client.slice_end = 2400.0
    client._wait(900, "POST", "/v1/things", "rate limit reached")
    assert slept[-1] == 900

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

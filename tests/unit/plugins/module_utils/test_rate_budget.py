"""The shared rate-limit ledger (rate_budget.py): its arithmetic on a simulated clock, and its file."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.herokumigrate.northflank.plugins.module_utils import rate_budget
from ansible_collections.herokumigrate.northflank.plugins.module_utils.rate_budget import RateBudget

TOKEN = "nf-secret-token-0123456789"


class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def budget(tmp_path, clock, **kwargs):
    kwargs.setdefault("reserve", 2)
    return RateBudget("Northflank", TOKEN, "https://api.example.test", directory=str(tmp_path), clock=clock, **kwargs)


def test_the_ledger_is_named_by_a_hash_and_never_holds_the_token(tmp_path, clock):
    ledger = budget(tmp_path, clock)
    assert ledger.acquire() == 0
    ledger.record(10, 60, 1000)
    names = os.listdir(tmp_path)
    assert names == [os.path.basename(ledger.path)] and names[0].startswith("northflank-")
    content = (tmp_path / names[0]).read_text()
    assert TOKEN not in names[0] and TOKEN not in content
    # Another token, or another URL, is another budget.
    other = RateBudget("Northflank", TOKEN + "x", "https://api.example.test", directory=str(tmp_path), clock=clock)
    elsewhere = RateBudget("Northflank", TOKEN, "http://127.0.0.1:1", directory=str(tmp_path), clock=clock)
    assert len({ledger.path, other.path, elsewhere.path}) == 3


def test_requests_are_taken_until_the_reserve_then_the_wait_is_the_reset(tmp_path, clock):
    ledger = budget(tmp_path, clock)
    assert ledger.acquire() == 0  # the probe
    ledger.record(5, 60, 1000)
    assert [ledger.acquire() for _request in range(3)] == [0, 0, 0]  # 5 -> 2 left: the reserve
    assert ledger.acquire() == pytest.approx(60)
    clock.now += 20
    assert ledger.acquire() == pytest.approx(40)
    clock.now += 40  # the window is over: nothing known, one probe goes
    assert ledger.acquire() == 0
    assert ledger.state()["probe_until"] > clock.now


def test_two_clients_share_one_count(tmp_path, clock):
    """Two processes' clients: what one takes, the other cannot."""
    first, second = budget(tmp_path, clock), budget(tmp_path, clock)
    assert first.acquire() == 0
    first.record(6, 100, 1000)
    assert first.acquire() == 0 and second.acquire() == 0  # in flight at once: 6 -> 4
    assert second.acquire() == 0 and first.acquire() == 0  # 2 left: the reserve
    assert first.acquire() > 0 and second.acquire() > 0
    # An answer that counted fewer requests than are in flight does not raise the count.
    second.record(5, 99, 1000)
    assert first.state()["remaining"] == 2


def test_while_the_first_answer_is_awaited_others_wait_for_it(tmp_path, clock):
    first, second = budget(tmp_path, clock), budget(tmp_path, clock)
    assert first.acquire() == 0
    wait = second.acquire()
    assert 0 < wait <= rate_budget.PROBE_POLL
    first.record(100, 3600, 1000)
    assert second.acquire() == 0
    # A probe whose process died (no answer for PROBE_TIMEOUT) no longer holds the others back.
    third = budget(tmp_path, clock)
    clock.now += 4000  # the window is over
    assert third.acquire() == 0
    assert second.acquire() > 0
    clock.now += rate_budget.PROBE_TIMEOUT + 1
    assert second.acquire() == 0


def test_a_new_window_or_a_new_limit_starts_the_count_again(tmp_path, clock):
    ledger = budget(tmp_path, clock)
    ledger.acquire()
    ledger.record(3, 10, 1000)
    clock.now += 5
    ledger.record(400, 3600, 1000)  # a window ending much later: a new one
    assert ledger.state()["remaining"] == 400
    ledger.record(998, 3599, 5000)  # the same window under another limit
    assert ledger.state()["remaining"] == 998


def test_a_bucket_that_refills_waits_for_the_refill(tmp_path, clock):
    ledger = RateBudget("Heroku", TOKEN, "https://api.example.test", reserve=20, refill_per_second=1.25,
                        capacity=4500, directory=str(tmp_path), clock=clock)
    assert ledger.acquire() == 0
    ledger.record(21)
    assert ledger.acquire() == 0  # 20 left
    assert ledger.acquire() == pytest.approx(1 / 1.25)  # the 21st token is 0.8 s away
    clock.now += 0.81
    assert ledger.acquire() == 0
    clock.now += 100000
    assert ledger.state().get("reset_at") is None
    ledger.record(4499)
    assert ledger.acquire() == 0 and ledger.state()["remaining"] <= 4500


def test_a_bucket_that_refills_faster_than_the_default_is_believed(tmp_path, clock):
    """The ledger's own refill estimate is the default rate; the API's count, after each answer, wins when higher
    (an account with a raised limit), so that the forks do not wait for tokens the API already has."""
    ledger = RateBudget("Heroku", TOKEN, "https://api.example.test", reserve=20, refill_per_second=1.25,
                        capacity=4500, directory=str(tmp_path), clock=clock)
    assert ledger.acquire() == 0
    ledger.record(21)
    assert ledger.acquire() == 0 and ledger.acquire() > 0  # down to the reserve: wait for the refill
    clock.now += 1
    assert ledger.acquire() == 0
    ledger.record(3000)  # the API refilled far more than 1.25 tokens in that second
    assert ledger.state()["remaining"] == 3000
    assert [ledger.acquire() for _request in range(100)] == [0] * 100


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "", '{"remaining": "many"}'])
def test_a_corrupt_or_empty_ledger_is_recreated(tmp_path, clock, content):
    ledger = budget(tmp_path, clock)
    with open(ledger.path, "w") as handle:
        handle.write(content)
    assert ledger.acquire() == 0
    ledger.record(50, 60, 1000)
    assert json.loads(open(ledger.path).read())["remaining"] == 50


def test_an_unwritable_directory_turns_the_sharing_off(tmp_path, clock):
    ledger = RateBudget("Northflank", TOKEN, "https://api.example.test", directory=str(tmp_path / "missing" / "x"),
                        clock=clock)
    assert ledger.acquire() == 0 and not ledger.enabled
    ledger.record(0, 3600, 1000)
    assert ledger.acquire() == 0


def test_the_directory_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(rate_budget.DIR_ENV, str(tmp_path / "budgets"))
    assert rate_budget.default_directory() == str(tmp_path / "budgets")
    assert oct(os.stat(tmp_path / "budgets").st_mode & 0o777) == "0o700"

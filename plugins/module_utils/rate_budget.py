# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rate-limit budget shared by every process of a run: a small JSON ledger per API, token and URL.

Every module runs as its own process, forked per host, so no process alone knows how much of the API's
budget is left. The ledger is one JSON file per (API, token, base URL), named after a SHA-256 hash of the
three (the token is never written), in ``HEROKUMIGRATE_BUDGET_DIR``, else ``~/.ansible/tmp/herokumigrate-budget``,
else the system's temporary directory. Each read-modify-write holds ``fcntl.flock`` on the file.

Before a request a process calls ``acquire()``: it takes one request from the last known ``remaining`` (so
requests in flight in other processes are counted too) and gets 0, or, when taking one would leave less than
``reserve``, the seconds to wait (until the window resets, or until a refilling bucket has refilled). After the
answer, ``record(remaining, reset_seconds)`` writes what the API's rate-limit headers said. While nothing is
known (first request of a run, or the last window has ended) one process at a time sends a probe request whose
answer fills the ledger; the others wait for it (at most ``PROBE_TIMEOUT`` seconds).

A missing, unreadable or corrupt ledger is recreated; a directory that cannot be written disables the sharing
(``enabled`` is then False and every ``acquire()`` returns 0): the clients then throttle alone, as before.
POSIX only (``fcntl``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time

try:
    import fcntl

    HAS_FCNTL = True
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None
    HAS_FCNTL = False

DIR_ENV = "HEROKUMIGRATE_BUDGET_DIR"
PROBE_TIMEOUT = 30.0  # seconds a probe may stay unanswered before another process sends its own
PROBE_POLL = 0.2      # seconds between looks at the ledger while a probe is in flight
# Seconds of tolerance when telling a new window from the same one seen again (reset headers are whole seconds).
RESET_SLACK = 2.0


def default_directory():
    """Where the ledgers live: ``$HEROKUMIGRATE_BUDGET_DIR``, else ``~/.ansible/tmp/herokumigrate-budget``, else the
    system's temporary directory; None when none can be created."""
    candidates = [os.environ.get(DIR_ENV)] if os.environ.get(DIR_ENV) else []
    candidates += [os.path.join(os.path.expanduser("~"), ".ansible", "tmp", "herokumigrate-budget"),
                   os.path.join(tempfile.gettempdir(), "herokumigrate-budget-%s" % os.getuid())]
    for directory in candidates:
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        except OSError:
            continue
        if os.access(directory, os.W_OK | os.X_OK):
            return directory
    return None


def fingerprint(api, token, base_url):
    """A name for the ledger: a hash of the API, the token and the URL; the token cannot be read back from it."""
    digest = hashlib.sha256(("%s\n%s\n%s" % (api, base_url, token)).encode("utf-8")).hexdigest()
    return "%s-%s" % (api.lower(), digest[:24])


class RateBudget(object):
    """The shared ledger of one API budget.

    ``reserve``: requests left unspent, for the user's other tools and for retries. ``refill_per_second``: for a
    bucket that refills continuously and says nothing of a reset (Heroku: 4500/hour = 1.25/s); 0 for a fixed
    window with a reset header (Northflank)."""

    def __init__(self, api, token, base_url, reserve=5, refill_per_second=0.0, capacity=None, directory=None,
                 clock=None):
        self.reserve = reserve
        self.refill = float(refill_per_second)
        self.capacity = capacity
        self.clock = clock or time.time
        directory = directory or default_directory()
        self.path = os.path.join(directory, fingerprint(api, token, base_url) + ".json") if directory else None
        self.enabled = bool(self.path) and HAS_FCNTL
        self.probing = False  # this process holds the probe

    # -- the file ------------------------------------------------------------------------
    def _update(self, change):
        """Apply ``change(state, now) -> result`` to the ledger under an exclusive lock; returns the result.
        A ledger that cannot be opened disables the budget for this process (the result is then None)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            self.enabled = False
            return None
        try:
            with os.fdopen(fd, "r+") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    handle.seek(0)
                    raw = handle.read()
                    try:
                        state = json.loads(raw) if raw.strip() else {}
                    except ValueError:
                        state = {}  # corrupt: start again
                    if not isinstance(state, dict):
                        state = {}
                    before = dict(state)
                    result = change(state, self.clock())
                    if state != before:
                        handle.seek(0)
                        handle.truncate()
                        handle.write(json.dumps(state, sort_keys=True))
                        handle.flush()
                    return result
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        except OSError:
            self.enabled = False
            return None

    def state(self):
        """The ledger as it is now (for tests and reports)."""
        if not self.enabled:
            return {}
        return self._update(lambda state, now: dict(state)) or {}

    # -- the logic ---------------------------------------------------------------------------
    def _estimate(self, state, now):
        """The requests left now by the ledger, or None when nothing is known (no record, or the window is over)."""
        remaining = state.get("remaining")
        if not isinstance(remaining, (int, float)):
            return None
        reset_at = state.get("reset_at")
        if isinstance(reset_at, (int, float)) and now >= reset_at:
            return None
        if self.refill:
            remaining += max(0.0, now - float(state.get("stamp", now))) * self.refill
            if self.capacity:
                remaining = min(float(self.capacity), remaining)
        return remaining

    def _acquire(self, state, now):
        left = self._estimate(state, now)
        if left is None:
            # Nothing known: one probe at a time fills the ledger.
            if state.get("probe_until", 0) > now and not self.probing:
                return min(PROBE_POLL, state["probe_until"] - now)
            for key in ("remaining", "reset_at", "stamp"):
                state.pop(key, None)
            state["probe_until"] = now + PROBE_TIMEOUT
            self.probing = True
            return 0.0
        if left - 1 < self.reserve:
            reset_at = state.get("reset_at")
            if isinstance(reset_at, (int, float)):
                return max(0.0, reset_at - now)
            if self.refill:
                return (self.reserve + 1 - left) / self.refill
            return 0.0  # neither a reset nor a refill known: nothing to wait for
        state["remaining"] = left - 1
        state["stamp"] = now
        return 0.0

    def acquire(self):
        """Take one request from the budget: 0 when it may be sent now, else the seconds to wait before asking again."""
        if not self.enabled:
            return 0.0
        wait = self._update(self._acquire)
        return 0.0 if wait is None else wait

    def _record(self, remaining, reset_seconds, limit):
        def change(state, now):
            reset_at = now + reset_seconds if reset_seconds is not None else None
            known = self._estimate(state, now)
            old_reset = state.get("reset_at")
            # A window that ends later than the one recorded (by more than the headers' rounding) is a new one.
            new_window = (reset_at is not None and isinstance(old_reset, (int, float))
                          and reset_at > old_reset + RESET_SLACK)
            # Another limit (the API's plan, or an emulator told so) starts the count again.
            fresh = known is None or new_window or (limit is not None and state.get("limit") not in (None, limit))
            if limit is None:
                state.pop("limit", None)
            else:
                state["limit"] = limit
            if self.refill:
                # A bucket that refills: the API's count is the truth, refill included (an account may refill
                # faster than the default). It may not yet count requests in flight elsewhere: the reserve covers them.
                state["remaining"] = remaining
            else:
                # In the same window, requests in flight elsewhere were already taken from ``known``: keep the lower.
                state["remaining"] = remaining if fresh else min(remaining, known)
            state["stamp"] = now
            if reset_at is None:
                state.pop("reset_at", None)
            else:
                state["reset_at"] = reset_at  # the latest answer knows best when its window ends
            if self.probing:
                state.pop("probe_until", None)
                self.probing = False
        return change

    def record(self, remaining, reset_seconds=None, limit=None):
        """What the API's headers said after a request: ``remaining`` requests, the window resetting in
        ``reset_seconds`` (None when the API sends no reset), out of ``limit`` (None when not said)."""
        if not self.enabled or remaining is None:
            return
        self._update(self._record(max(0, remaining), None if reset_seconds is None else max(0.0, reset_seconds),
                                  limit))

    def release(self):
        """A request that got no rate-limit headers (no answer, or an API that sends none): give up the probe."""
        if not self.enabled or not self.probing:
            return

        def change(state, now):
            state.pop("probe_until", None)
        self._update(change)
        self.probing = False

"""The job run module's reading of Northflank's times and of the run that belongs to a key: the emulator writes one
time format only, Northflank may write others."""

from __future__ import annotations

import pytest

from ansible_collections.herokumigrate.northflank.plugins.modules import northflank_job_run as job_run


@pytest.mark.parametrize("stamp, expected", [
    ("1970-01-01T00:00:00Z", 0),
    ("1970-01-01T00:00:01.5Z", 1500),
    ("2026-03-01T10:00:00.123Z", 1772359200123),
    ("2026-03-01T10:00:00.123456Z", 1772359200123),       # microseconds: cut to milliseconds
    ("2026-03-01T11:00:00.123+01:00", 1772359200123),     # an offset
    ("2026-03-01T10:00:00.123", 1772359200123),           # no zone: UTC
    ("", None),
    (None, None),
    ("yesterday", None),
])
def test_millis(stamp, expected):
    assert job_run.millis(stamp) == expected


RUNS = [{"id": "b", "startedAt": "2026-03-01T10:00:02.000Z"}, {"id": "a", "startedAt": "2026-03-01T10:00:01.000Z"},
        {"id": "c", "startedAt": "bad"}]


@pytest.mark.parametrize("marker, expected", [
    ("run-once-k-0", "a"),                  # no earlier run: the first run of the job is the key's
    ("run-once-k-1772359201000", "b"),      # the first run started after the marker's time, not at it
    ("run-once-k-1772359202000", None),     # none yet: the task was interrupted before starting it
])
def test_run_of_a_marker(marker, expected):
    run = job_run.JobRun.run_of(marker, RUNS)
    assert (run or {}).get("id") == expected

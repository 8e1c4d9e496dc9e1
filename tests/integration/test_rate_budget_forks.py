"""The shared rate-limit budget for real: concurrent client processes against a Northflank emulator whose budget is
small. Together they stay within it (the emulator logs no 429), where clients throttling alone do not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from tests.helpers import COLLECTIONS, EmulatorProcess

LIMIT, WINDOW, PER_PROCESS = 20, 4, 15

# One "fork": a client, as every module builds it, sending PER_PROCESS reads. Prints what it waited.
FORK = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, sys.argv[1])
    from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank import client_from_params
    client = client_from_params({"max_rate_limit_wait": 60}, shared_budget=sys.argv[3] == "shared")
    time.sleep(max(0.0, float(sys.argv[4]) - time.time()))  # the forks start together
    for _ in range(int(sys.argv[2])):
        client.get("/v1/regions")
    print(json.dumps({"waited": client.waited_seconds, "waits": client.waits, "sent": client.request_count()}))
""")


@pytest.fixture
def small_budget():
    server = EmulatorProcess("northflank", "--rate-limit", str(LIMIT), "--rate-window", str(WINDOW),
                             "--latency-ms", "50")
    yield server
    server.stop()


def run_forks(server, tmp_path, mode, count=2):
    env = dict(os.environ, **server.env(), HEROKUMIGRATE_BUDGET_DIR=str(tmp_path / "budget"))
    start = str(time.time() + 3)
    procs = [subprocess.Popen([sys.executable, "-c", FORK, str(COLLECTIONS), str(PER_PROCESS), mode, start], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _fork in range(count)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs.append(json.loads(out))
    statuses = [e["status"] for e in server.requests()["requests"] if e["path"] == "/v1/regions"]
    return outputs, statuses


def test_two_forks_together_never_exceed_the_budget(small_budget, tmp_path):
    outputs, statuses = run_forks(small_budget, tmp_path, "shared")
    assert statuses.count(429) == 0, statuses
    assert statuses == [200] * (2 * PER_PROCESS)
    # 30 requests against 20 per window: the forks waited for a reset, and said so.
    assert sum(o["waited"] for o in outputs) > 0
    notes = [w for o in outputs for w in o["waits"]]
    assert notes and all("budget shared by this run is spent" in w and "GET /v1/regions" in w for w in notes)
    # The ledger keys on a hash: the token is nowhere in its name or content.
    (ledger,) = (tmp_path / "budget").iterdir()
    assert small_budget.token not in ledger.name and small_budget.token not in ledger.read_text()


def test_forks_throttling_alone_meet_429s(small_budget, tmp_path):
    """The control: the same load without the shared ledger runs into the limit (so the test above can fail)."""
    _outputs, statuses = run_forks(small_budget, tmp_path, "alone")
    assert statuses.count(429) > 0, statuses

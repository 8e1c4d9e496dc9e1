"""The demo account migrated through fault-injecting proxies (tests/faults/proxy.py) in front of both emulators.

Each seed injects, into the Northflank and Heroku traffic, 5xx answers, 429s with the APIs' rate-limit headers,
connection
resets before and after the server acted, gateway timeouts after it acted and answers slower than the client's timeout
(3 s, set through module_defaults on a copy of playbooks/migrate.yml), at random from the seed; and, always, one fault
after the server acted on one of the non-idempotent POSTs (the domain, the pipeline's template, a release flow), which
no
client may retry blindly.

What the test asserts, per seed:

- the migration under faults either succeeds, or fails and names the failed unit; then one fault-free re-run succeeds
  (what a user does after a transient failure: run it again);
- the Northflank state then equals the state of a fault-free migration, ids, timestamps and status progress aside
  (tests/state_compare.py): nothing missing, nothing extra, no duplicate run;
- every non-idempotent request (POST) reached the emulator exactly as many times as in the fault-free migration: once;
- no write reached Heroku, and no request broke the Northflank API contract.

``make test`` runs 2 seeds on the pipeline unit (it sends every kind of write), ``make soak`` (SOAK=1) 20 on the whole
demo fleet.
"""

from __future__ import annotations

import copy

import pytest

from tests import state_compare
from tests.faults import harness
from tests.faults.proxy import AFTER, FAULTS, FaultPlan

NORTHFLANK_RATE = 0.08
HEROKU_RATE = 0.03
# The forced fault of each seed: one of these POSTs, answered by one of the AFTER faults (9 combinations).
POST_TARGETS = (
    r"^POST /v1/templates$",
    r"^POST /v1/domains$",
    r"^POST /v1/projects/[^/]+/pipelines/[^/]+/release-flows/staging$",
)
SEEDS = (
    list(range(1, 21)) if harness.soak() else [1, 6]
)  # 1: domain POST reset after; 6: template POST answered too late
TIMEOUT = {
    "group/herokumigrate.northflank.northflank": {"timeout": 3},
    "group/herokumigrate.northflank.heroku": {"timeout": 3},
}


def plans(seed: int):
    forced = {"match": POST_TARGETS[seed % len(POST_TARGETS)], "fault": AFTER[(seed // len(POST_TARGETS)) % len(AFTER)]}
    return FaultPlan(seed, NORTHFLANK_RATE, FAULTS, queue=[forced]), FaultPlan(seed, HEROKU_RATE, FAULTS)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_demo_migration_survives_faults(seed, tmp_path_factory):
    expected = harness.reference(tmp_path_factory.mktemp("reference"))
    out = tmp_path_factory.mktemp(f"faults-{seed}")
    nf_plan, heroku_plan = plans(seed)
    stack = harness.Stack(nf_plan, heroku_plan)
    try:
        playbook = harness.with_module_defaults(harness.PLAYBOOKS / "migrate.yml", out / "migrate-timeout.yml", TIMEOUT)
        first = harness.migrate(stack, out, "faulted", playbook=playbook)
        fired = harness.summary(stack)
        (out / "faults.json").write_text(fired)  # for a failure's post-mortem: kind, method and path of each fault
        assert stack.nf_proxy.faults_fired(), "no fault fired: the seed tests nothing"
        assert "Traceback" not in first.output(), first.output()[-5000:]
        runs = [first]
        if first.proc.returncode != 0:
            assert "units that failed" in first.stdout, first.output()[-5000:]
            stack.no_faults()
            rerun = harness.migrate(stack, out, "rerun", playbook=playbook)
            runs.append(rerun)
            assert rerun.proc.returncode == 0, f"the re-run after faults {fired} failed:\n{rerun.output()[-5000:]}"
        log = stack.northflank.requests()
        state = stack.northflank.state()
        assert state_compare.compare(expected["state"], state) == [], f"faults: {fired}"
        assert state_compare.generated_records(state) == state_compare.generated_records(expected["state"])
        assert harness.non_idempotent(log) == expected["posts"], f"faults: {fired}"
        assert not [e for e in log["requests"] if e.get("contract_error")]
        assert stack.heroku.requests()["writes"] == 0
    finally:
        stack.stop()


def test_the_state_comparison_sees_a_missing_resource_and_a_duplicate_run(tmp_path_factory):
    """The comparison the fault tests rely on is not blind: ids and timestamps aside, it still sees a change."""
    expected = harness.reference(tmp_path_factory.mktemp("reference"))["state"]
    assert state_compare.compare(expected, expected) == []
    changed = copy.deepcopy(expected)
    changed["secrets"]["northwind-api"].pop("northwind-api-staging-env")
    runs = changed["templateRuns"]["northwind-api-northwind-api-pipeline"]
    ((run_id, run),) = runs.items()
    runs["template-run-000099"] = dict(copy.deepcopy(run), id="template-run-000099", createdAt="2030-01-01T00:00:00Z")
    found = state_compare.compare(expected, changed)
    assert any("northwind-api-staging-env" in d for d in found) and any("templateRuns" in d for d in found), found
    renumbered = copy.deepcopy(expected)
    runs = renumbered["templateRuns"]["northwind-api-northwind-api-pipeline"]
    runs["template-run-000042"] = dict(runs.pop(run_id), id="template-run-000042", updatedAt="2031-01-01T00:00:00.000Z")
    renumbered["seq"] = 42
    assert state_compare.compare(expected, renumbered) == []

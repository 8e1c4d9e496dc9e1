"""Shared fixtures: real emulator processes, and the rule that no request may break the contract."""

from __future__ import annotations

import pytest

import os
import sys
import tempfile

from tests.helpers import COLLECTIONS, EmulatorProcess, contract_violations, ensure_collection_link
from tests.integration.northflank_emulator_api import Api

# The clients of a test run share a rate-limit ledger directory of their own (plugins/module_utils/rate_budget.py),
# never the user's ~/.ansible/tmp; subprocesses (ansible-playbook, modules) inherit it.
os.environ.setdefault("HEROKUMIGRATE_BUDGET_DIR", tempfile.mkdtemp(prefix="herokumigrate-budget-"))

# Unit tests import the collection as Ansible does: ansible_collections.herokumigrate.northflank.
ensure_collection_link()
sys.path.insert(0, str(COLLECTIONS))


# The files that take longest, started first when the suite runs on several workers (make test: pytest-xdist,
# --dist loadfile), so that no long file starts last and runs alone at the end. Order only: every file runs.
SLOWEST_FIRST = (
    "test_cutover_interruptions.py", "test_cutover.py", "test_targets.py", "test_bad_input.py", "test_wait_progress.py",
    "test_interruptions.py",
    "test_end_to_end.py", "test_mapping_edge_cases.py", "test_cutover_single_dyno.py", "test_heroku_budget.py",
    "test_secret_hygiene.py", "test_faults.py", "test_playbook_contracts.py", "test_heroku_git_mirror.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def pytest_configure(config):
    config.addinivalue_line("markers", "contract_violations_expected: the test sends invalid requests on purpose")


@pytest.fixture(scope="module")
def northflank_server():
    server = EmulatorProcess("northflank")
    yield server
    server.stop()


@pytest.fixture
def northflank(northflank_server, request):
    """A running Northflank emulator with an empty log. After the test, every request that was sent
    must have passed the SDK contract check (the emulator records violations in its log)."""
    northflank_server.clear_log()
    northflank_server.faults()
    yield northflank_server
    if request.node.get_closest_marker("contract_violations_expected"):
        return
    violations = contract_violations(northflank_server)
    assert not violations, "requests that break the Northflank API contract:\n" + "\n".join(violations)


@pytest.fixture
def api(northflank):
    """A clean Northflank emulator (empty state, full rate budget) and a client for it."""
    northflank.admin("PUT", "/_admin/state", {})
    northflank.admin("POST", "/_admin/rate-limit", {"budget": 1000, "window_seconds": 3600})
    return Api(northflank)

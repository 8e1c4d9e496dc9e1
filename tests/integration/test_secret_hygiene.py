"""No config var value and no API token anywhere a run leaves something: plan, migrate and verify of the demo account at
``-vvv --diff``, once with ``ANSIBLE_DEBUG=1`` and once with the result callbacks that write JSON.

ansible-core has no JSON stdout callback (``ansible.posix.json`` is another collection, not installed); its builtins are
default, minimal, oneline, junit and tree. The ``json`` run therefore uses the ``default`` callback with
``result_format=json`` (every result as JSON), ``display_args_to_stdout``, plus ``tree`` (each host's results as JSON
files) and ``junit`` (XML).

Each run has its own working directory, HOME, TMPDIR, Ansible local and remote temp directories, cache directory, log
file
(``ANSIBLE_LOG_PATH``), inventory cache and fact cache (jsonfile, enabled). Scanned: stdout, stderr, every file under
that
working directory (reports, plans, log, caches, temp files, tree and junit output), and every file of the checkout
changed during the run. Searched for: every config var value of the demo account (the fixture's, and the add-on URLs
the Heroku emulator derives) and both API tokens. Values shorter than 12 characters are skipped: they are words and
numbers (``production``, ``enabled``, ``2``) that legitimately show as names, stages and counts.

Under ``ANSIBLE_DEBUG=1``, ansible-core itself prints every module's arguments (``done with _execute_module``) and every
module's raw output (``_low_level_execute_command() done``), no_log or not: the discovery modules' output holds the
config
vars, the resource modules' arguments hold them too. Those two messages are taken out of the debug run's stdout before
the scan (docs/user-guide.md, Secrets, warns about ANSIBLE_DEBUG); everything else must hold no value.
"""

from __future__ import annotations

import json
import os
import re
import secrets as secrets_module
import time
from pathlib import Path

import pytest
import yaml

from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku import HerokuClient
from tests.faults import harness
from tests.helpers import ROOT

MIN_LENGTH = 12
DEBUG_LINE = re.compile(r"^\s*\d+ \d+\.\d+: ", re.M)  # ansible.utils.display.Display.debug
# The two debug messages of ansible-core (plugins/action/__init__.py) that print, whatever no_log says, every module's
# arguments and every module's raw output: ANSIBLE_DEBUG=1 shows secrets by Ansible's design (docs/user-guide.md,
# Secrets).
ANSIBLE_DEBUG_DUMPS = re.compile(
    r"done with _execute_module \(.*?\)$|_low_level_execute_command\(\) done: rc=-?\d+, stdout=.*?, stderr=",
    re.M | re.S,
)
# Made up per test session, so that no file of the checkout holds them.
HEROKU_TOKEN = "hygiene-heroku-" + secrets_module.token_hex(12)
NORTHFLANK_TOKEN = "hygiene-northflank-" + secrets_module.token_hex(12)
VARIANTS = {
    "debug": {"ANSIBLE_DEBUG": "1"},
    "json": {
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "true",
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree,ansible.builtin.junit",
    },
}

# verify.yml runs plan.yml's tasks (check mode) and reads more: `make test` leaves plan.yml to `make soak`.
PLAYBOOK_NAMES = ("plan", "migrate", "verify") if harness.soak() else ("migrate", "verify")


def secrets(heroku) -> dict:
    """``{value: "app VAR"}``: the fixture's config var values, the Heroku emulator's (add-on URLs too), the tokens."""
    fixture = yaml.safe_load(harness.FIXTURE.read_text())
    found = {}
    for app in fixture["apps"]:
        for key, value in (app.get("config_vars") or {}).items():
            found[str(value)] = f"{app['name']} {key}"
    client = HerokuClient(token=heroku.token, base_url=heroku.url)
    for app in client.list("/apps"):
        for key, value in client.get("/apps/{app}/config-vars", app=app["name"]).items():
            found[str(value)] = f"{app['name']} {key}"
    found[HEROKU_TOKEN], found[NORTHFLANK_TOKEN] = "the Heroku API token", "the Northflank API token"
    return {value: where for value, where in found.items() if len(value) >= MIN_LENGTH}


def scan(paths, values: dict, strip=None) -> list:
    """``["app VAR in path", ...]`` for every value found in a file; ``strip`` removes spans (of text files) first."""
    hits = []
    encoded = {value.encode(): where for value, where in values.items()}
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError:
            continue
        if strip is not None:
            data = strip.sub("", data.decode(errors="replace")).encode()
        hits.extend(f"{where} in {path}" for value, where in encoded.items() if value in data)
    return hits


def files_under(root: Path) -> list:
    return [Path(d) / f for d, _dirs, files in os.walk(root) for f in files]


def changed_in_checkout(since: float) -> list:
    out = []
    for d, dirs, files in os.walk(ROOT):
        dirs[:] = [x for x in dirs if x not in (".git", ".venv", "node_modules")]
        for f in files:
            path = Path(d) / f
            try:
                if path.stat().st_mtime >= since:
                    out.append(path)
            except OSError:
                pass
    return out


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_secret_in_anything_a_run_leaves(variant, tmp_path):
    started = time.time() - 1
    work = tmp_path / "work"
    env = dict(harness.isolated_env(work), **VARIANTS[variant])
    env.update(
        ANSIBLE_LOG_PATH=str(work / "ansible.log"),
        ANSIBLE_CALLBACK_TREE_DIR=str(work / "tree"),
        JUNIT_OUTPUT_DIR=str(work / "junit"),
        ANSIBLE_INVENTORY_CACHE="true",
        ANSIBLE_INVENTORY_CACHE_PLUGIN="ansible.builtin.jsonfile",
        ANSIBLE_INVENTORY_CACHE_CONNECTION=str(work / "cache" / "inventory"),
        ANSIBLE_CACHE_PLUGIN="ansible.builtin.jsonfile",
        ANSIBLE_CACHE_PLUGIN_CONNECTION=str(work / "cache" / "facts"),
    )
    stack = harness.Stack(heroku_token=HEROKU_TOKEN, northflank_token=NORTHFLANK_TOKEN)
    try:
        values = secrets(stack.heroku)
        assert len(values) >= 12 and any("DATABASE_URL" in w for w in values.values())
        runs = []
        for name in PLAYBOOK_NAMES:
            args = ("-i", str(harness.INVENTORY), "-e", f"herokumigrate_report_dir={work / name}", "-vvv", "--diff")
            run = harness.Playbook(
                harness.PLAYBOOKS / f"{name}.yml", {**env, **stack.env}, args, tmp_path / "out", name, cwd=work
            )
            run.wait()
            assert run.proc.returncode == 0, f"{name}.yml failed:\n{run.output()[-5000:]}"
            runs.append(run)
        assert stack.northflank.requests()["writes"] > 0  # the migration wrote: the secrets went through the modules
        nf_state = Path(tmp_path / "northflank-state.json")
        nf_state.write_text(json.dumps(stack.northflank.state()))
    finally:
        stack.stop()
    # The scan finds what is there: the Northflank state holds the migrated values.
    assert scan([nf_state], values)
    outputs = [p for run in runs for p in (run.stdout_path, run.stderr_path)]
    scanned = files_under(work) + changed_in_checkout(started)
    assert (work / "migrate" / "report.json").exists() and (work / "ansible.log").stat().st_size > 0
    if variant == "json":
        assert files_under(work / "tree") and files_under(work / "junit")
    if variant == "debug":
        assert all(DEBUG_LINE.search(r.stdout) for r in runs)  # ANSIBLE_DEBUG took effect
    assert scan(scanned, values) == []
    # Under ANSIBLE_DEBUG, ansible-core's own dumps of module arguments and module output are left out (see above).
    assert scan(outputs, values, strip=ANSIBLE_DEBUG_DUMPS if variant == "debug" else None) == []

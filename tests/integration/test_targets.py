"""Run every module's integration target (a playbook under targets/) against the emulators,
at -vvv --diff, and check that no secret value appears anywhere in the output.

By default the targets run with the ansible-playbook of the Python running pytest (.venv, the newest
supported ansible-core). ``HEROKUMIGRATE_ANSIBLE_BIN`` names another bin directory to take
ansible-playbook from instead: ``make integration-oldest`` points it at a venv holding the oldest
ansible-core the collection claims (meta/runtime.yml), and sets ``HEROKUMIGRATE_ANSIBLE_CORE`` to that
version so that the run fails when it is not the one used. The emulators keep running on pytest's
Python either way; the modules run on the Python of the ansible-playbook used (implicit localhost).
``HEROKUMIGRATE_TARGETS`` (names separated by commas) limits the run to some targets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible import release as ansible_release

from tests.helpers import ROOT, COLLECTIONS, ensure_collection_link, run_playbook

TARGETS = Path(__file__).parent / "targets"
SECRETS = yaml.safe_load((TARGETS / "common" / "secrets.yml").read_text())["secret_values"]
# Every secret value carries this marker, so escaped forms (JSON, unicode) are caught as well.
MARKER = "NEVER-PRINT"
NORTHFLANK_TARGETS = sorted(p.name for p in TARGETS.iterdir() if p.name.startswith("northflank_"))
ANSIBLE_BIN = os.environ.get("HEROKUMIGRATE_ANSIBLE_BIN", "")
EXPECTED_CORE = os.environ.get("HEROKUMIGRATE_ANSIBLE_CORE", "")
SELECTED = [name for name in os.environ.get("HEROKUMIGRATE_TARGETS", "").split(",") if name]


def selected_targets():
    unknown = sorted(set(SELECTED) - set(NORTHFLANK_TARGETS))
    if unknown:
        raise ValueError("HEROKUMIGRATE_TARGETS names targets that do not exist: %s" % unknown)
    return [t for t in NORTHFLANK_TARGETS if not SELECTED or t in SELECTED]


def other_ansible_env(env: dict) -> dict:
    """The environment run_playbook gives ansible-playbook, for the one in ANSIBLE_BIN."""
    ensure_collection_link()
    full_env = dict(os.environ)
    full_env.update(env)
    full_env["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)
    full_env["ANSIBLE_CONFIG"] = str(ROOT / "tests" / "ansible.cfg")
    full_env.setdefault("ANSIBLE_FORCE_COLOR", "0")
    return full_env


def run_target(playbook: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    if not ANSIBLE_BIN:
        return run_playbook(playbook, env, *args)
    cmd = [str(Path(ANSIBLE_BIN) / "ansible-playbook"), playbook, *args]
    result = subprocess.run(cmd, cwd=ROOT, env=other_ansible_env(env), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def test_the_expected_ansible_core_runs_the_targets():
    """The targets run with the ansible-core they claim to test: HEROKUMIGRATE_ANSIBLE_CORE when set, else pytest's
    own."""
    bindir = Path(ANSIBLE_BIN) if ANSIBLE_BIN else Path(sys.executable).parent
    expected = EXPECTED_CORE or ansible_release.__version__
    assert not EXPECTED_CORE or ANSIBLE_BIN, "HEROKUMIGRATE_ANSIBLE_CORE without HEROKUMIGRATE_ANSIBLE_BIN"
    out = subprocess.run(
        [str(bindir / "ansible-playbook"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    first = out.splitlines()[0]
    assert "[core %s]" % expected in first, "expected ansible-core %s, got: %s" % (expected, first)


@pytest.mark.parametrize("target", selected_targets())
def test_northflank_target(target, northflank):
    result = run_target(str(TARGETS / target / "main.yml"), northflank.env(), "-vvv", "--diff")
    assert "failed=0" in result.stdout
    output = result.stdout + result.stderr
    assert all(MARKER in value for value in SECRETS.values())
    leaked = [line for line in output.splitlines() if MARKER in line]
    assert not leaked, f"secret values printed by {target}:\n" + "\n".join(leaked[:5])

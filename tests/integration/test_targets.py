"""Run every module's integration target (a playbook under targets/) against the emulators,
at -vvv --diff, and check that no secret value appears anywhere in the output."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import run_playbook

TARGETS = Path(__file__).parent / "targets"
SECRETS = yaml.safe_load((TARGETS / "common" / "secrets.yml").read_text())["secret_values"]
# Every secret value carries this marker, so escaped forms (JSON, unicode) are caught as well.
MARKER = "NEVER-PRINT"
NORTHFLANK_TARGETS = sorted(p.name for p in TARGETS.iterdir() if p.name.startswith("northflank_"))


@pytest.mark.parametrize("target", NORTHFLANK_TARGETS)
def test_northflank_target(target, northflank):
    result = run_playbook(str(TARGETS / target / "main.yml"), northflank.env(), "-vvv", "--diff")
    assert "failed=0" in result.stdout
    output = result.stdout + result.stderr
    assert all(MARKER in value for value in SECRETS.values())
    leaked = [line for line in output.splitlines() if MARKER in line]
    assert not leaked, f"secret values printed by {target}:\n" + "\n".join(leaked[:5])

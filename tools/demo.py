"""`make demo`: the emulators, then the collection's playbooks against them, twice.

The second run must change nothing and send no write request. The Northflank emulator's final
state is left in build/demo/northflank-state.json.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import ROOT, EmulatorProcess, run_playbook  # noqa: E402

OUT = ROOT / "build" / "demo"
PLAYBOOK = "tests/demo/smoke.yml"


def recap(stdout: str) -> dict:
    """``{"changed": N, "failed": N}`` summed over the hosts of a PLAY RECAP."""
    totals = {}
    for key, value in re.findall(r"(\w+)=(\d+)", stdout.split("PLAY RECAP", 1)[-1]):
        totals[key] = totals.get(key, 0) + int(value)
    return totals


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    state = OUT / "northflank-state.json"
    state.unlink(missing_ok=True)
    northflank = EmulatorProcess("northflank", "--state-file", str(state))
    try:
        print(f"Northflank emulator: {northflank.url}")
        first = run_playbook(PLAYBOOK, northflank.env())
        print(first.stdout)
        northflank.clear_log()
        second = run_playbook(PLAYBOOK, northflank.env())
        print(second.stdout)
        writes = northflank.requests()["writes"]
        changed = recap(second.stdout).get("changed", 0)
        print(f"second run: changed={changed}, write requests={writes}")
        if changed or writes:
            print("FAILED: the second run was not a no-op", file=sys.stderr)
            return 1
        print(f"Northflank state: {state.relative_to(ROOT)}")
        return 0
    finally:
        northflank.stop()


if __name__ == "__main__":
    sys.exit(main())

"""`make demo`: the whole migration of the demo Heroku account, against the two local emulators.

1. plan.yml (check mode): the plan, with no write request to Northflank;
2. migrate.yml: the migration;
3. migrate.yml again: nothing changes (changed=0 for every host, no write request);
4. verify.yml: reads back what runs and reports each unit as verified, attention or drift.

It leaves build/demo/report.{md,json,html} (the migration's report: what was created, skipped and
why, what is left to do), build/demo/plan/ (the plan), build/demo/rerun/ (the second run's report)
build/demo/verify/ (the verification) and build/demo/northflank-state.json (the Northflank emulator's final state).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import COLLECTIONS, ROOT, EmulatorProcess, ensure_collection_link  # noqa: E402

OUT = ROOT / "build" / "demo"
FIXTURE = ROOT / "tests" / "emulators" / "fixtures" / "demo.yml"
INVENTORY = ROOT / "tests" / "demo" / "inventory"


def recap(stdout: str) -> dict:
    """``{host: {"ok": N, "changed": N, "failed": N, ...}}`` from a PLAY RECAP."""
    hosts = {}
    for line in stdout.split("PLAY RECAP", 1)[-1].splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line.strip())
        if match:
            hosts[match.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}
    return hosts


def playbook(name: str, env: dict, report_dir: Path):
    """Run one playbook, printing its output as it comes (a long wait shows as ASYNC POLL lines), then its recap."""
    started = time.monotonic()
    lines = []
    with stream_playbook(f"playbooks/{name}.yml", env, "-i", str(INVENTORY), "-e", f"herokumigrate_report_dir={report_dir}") as proc:
        for line in proc.stdout:
            lines.append(line)
            print("  | " + line.rstrip("\n"), flush=True)
    output = "".join(lines)
    if proc.returncode != 0:
        raise AssertionError(f"{name}.yml failed ({proc.returncode}):\n{proc.stderr_text}")
    print(output.split("PLAY RECAP", 1)[-1].strip())
    print(f"  ({name}.yml took {time.monotonic() - started:.0f} s)")
    return recap(output)


class stream_playbook:
    """ansible-playbook as run_playbook runs it (same environment), its stdout read line by line while it runs."""

    def __init__(self, playbook_path: str, env: dict, *args: str):
        ensure_collection_link()
        full_env = {**os.environ, **env, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
                    "ANSIBLE_CONFIG": str(ROOT / "tests" / "ansible.cfg"), "PYTHONUNBUFFERED": "1"}
        full_env.setdefault("ANSIBLE_FORCE_COLOR", "0")
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), playbook_path, *args]
        self.stderr_file = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=self.stderr_file, text=True, bufsize=1)
        self.stdout = self.proc.stdout
        self.returncode = None
        self.stderr_text = ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.stdout.close()
        self.returncode = self.proc.wait()
        self.stderr_file.seek(0)
        self.stderr_text = self.stderr_file.read()
        self.stderr_file.close()
        return False


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    state = OUT / "northflank-state.json"
    heroku = EmulatorProcess("heroku", "--fixture", str(FIXTURE))
    northflank = EmulatorProcess("northflank", "--state-file", str(state))
    env = {**heroku.env(), **northflank.env()}
    problems = []
    try:
        print(f"Heroku emulator: {heroku.url}\nNorthflank emulator: {northflank.url}\n")

        print("== plan (check mode)")
        playbook("plan", env, OUT / "plan")
        if northflank.requests()["writes"]:
            problems.append("the plan sent write requests to Northflank")

        print("\n== migrate")
        northflank.clear_log()
        first = playbook("migrate", env, OUT)
        print(f"  Northflank requests: {northflank.requests()['total']} ({northflank.requests()['writes']} writes)")

        print("\n== migrate again: nothing may change")
        northflank.clear_log()
        second = playbook("migrate", env, OUT / "rerun")
        writes = northflank.requests()["writes"]
        changed = {host: r.get("changed", 0) for host, r in second.items() if r.get("changed")}
        print(f"  changed per host: {changed or 'none'}; Northflank write requests: {writes}")
        if changed or writes:
            problems.append(f"the second run was not a no-op: changed={changed}, writes={writes}")
        if any(r.get("failed") for r in list(first.values()) + list(second.values())):
            problems.append("a host failed")

        print("\n== verify: read back, no write")
        northflank.clear_log()
        playbook("verify", env, OUT / "verify")
        if northflank.requests()["writes"]:
            problems.append("verify.yml sent write requests to Northflank")
    finally:
        heroku.stop()
        northflank.stop()
    print(f"\nReport: {(OUT / 'report.md').relative_to(ROOT)} (.json, .html); plan: build/demo/plan/; "
          f"verification: build/demo/verify/; Northflank state: {state.relative_to(ROOT)}")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

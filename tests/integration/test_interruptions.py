"""The demo migration killed (SIGKILL) at a Northflank write, then run again: the re-run converges to the state of an
uninterrupted migration, with nothing duplicated or lost.

The fault proxy counts the writes that reach the Northflank emulator; at the chosen one (the Nth write, or the first
write
of a route: every non-idempotent POST is one kill point) it kills the playbook, after the server acted and before the
client got its answer, and then listens: no request may reach it after the kill. The kill reaches every process of the
run, Ansible's workers included (they lead sessions of their own: see tests/faults/harness.py and the last test here).

What the test asserts, per kill point: the run was killed there; no request arrived after the kill and no process of the
run
survived it; a re-run succeeds; the state equals the uninterrupted migration's (tests/state_compare.py); every POST
reached
the emulator exactly as many times as in the uninterrupted migration (once).

``make test`` runs 2 kill points on the pipeline unit (right after the template POST and after the domain POST, the
two writes a lost answer would repeat); ``make soak`` (SOAK=1) 20 on the whole demo fleet: after every POST and after
16 of its 26 writes (among them the 6th, in the middle of the loop over the services).
"""

from __future__ import annotations

import os
import time

import pytest

from tests import state_compare
from tests.faults import harness

POSTS = [
    r"POST /v1/templates",
    r"POST /v1/domains",
    r"POST .*/release-flows/staging",
    r"POST .*/release-flows/production",
]
if harness.soak():
    # The whole fleet sends 26 writes: the first three, every other one, and the last three.
    KILL_POINTS = POSTS + [1, 2, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 24, 25, 26]
else:
    KILL_POINTS = [r"POST /v1/templates", r"POST /v1/domains"]  # the two POSTs a lost answer would repeat


@pytest.mark.parametrize("point", KILL_POINTS, ids=[str(p).replace(" ", "_") for p in KILL_POINTS])
def test_a_killed_migration_converges_on_a_rerun(point, tmp_path_factory):
    expected = harness.reference(tmp_path_factory.mktemp("reference"))
    out = tmp_path_factory.mktemp("killed")
    stack = harness.Stack()
    holder: dict = {}
    stack.nf_proxy.on_write = harness.kill_on_write(point, holder, (stack.nf_proxy, stack.heroku_proxy))
    try:
        holder["run"] = run = harness.migrate(stack, out, "killed", start_only=True)
        code = run.wait()
        assert "killed_at" in holder, f"the run ended ({code}) before kill point {point!r}:\n{run.output()[-3000:]}"
        assert code == -9
        assert harness.wait_gone(holder["pids"]) == [], "processes of the killed run survived the kill"
        time.sleep(max(0.0, harness.LATE_WINDOW - (time.monotonic() - holder["killed_at"])))
        assert stack.nf_proxy.late == [], f"requests reached Northflank after the kill at write {holder['write']}"
        assert stack.heroku_proxy.late == [], f"requests reached Heroku after the kill at write {holder['write']}"
        stack.no_faults()
        rerun = harness.migrate(stack, out, "rerun")
        assert rerun.proc.returncode == 0, (
            f"the re-run after a kill at write {holder['write']} failed:\n{rerun.output()[-5000:]}"
        )
        state = stack.northflank.state()
        assert state_compare.compare(expected["state"], state) == [], f"killed at write {holder['write']}"
        assert state_compare.generated_records(state) == state_compare.generated_records(expected["state"])
        assert harness.non_idempotent(stack.northflank.requests()) == expected["posts"], (
            f"killed at write {holder['write']}"
        )
    finally:
        if "run" in holder and holder["run"].proc.poll() is None:
            holder["run"].kill()
            holder["run"].proc.wait(timeout=30)
        stack.stop()


def test_killing_only_the_process_group_leaves_ansible_workers_writing(tmp_path_factory):
    """Why the tests kill the whole process tree: a SIGKILL of the playbook's process group (what the issue did) leaves
    the
    worker that runs the current task alive, in a session of its own (Ansible's WorkerProcess calls os.setsid()), and it
    goes on writing to Northflank. Killed at the 2nd write, inside the loop over the first unit's addons."""
    out = tmp_path_factory.mktemp("group-kill")
    stack = harness.Stack()
    holder: dict = {}

    def on_write(n, entry):
        if n == 2 and "killed_at" not in holder:
            pid = holder["run"].proc.pid
            holder["tree"] = harness.descendants(pid)
            holder["sessions"] = {p: os.getsid(p) for p in holder["tree"] if harness.alive(p)}
            os.killpg(pid, 9)
            holder["killed_at"] = time.monotonic()
            stack.nf_proxy.killed()

    stack.nf_proxy.on_write = on_write
    try:
        holder["run"] = run = harness.migrate(stack, out, "group-killed", start_only=True)
        run.wait()
        assert "killed_at" in holder, run.output()[-3000:]
        deadline = holder["killed_at"] + harness.LATE_WINDOW
        while not stack.nf_proxy.late and time.monotonic() < deadline:
            time.sleep(0.2)
        survivors = [p for p in holder["tree"] if harness.alive(p)]
        assert survivors, "no process survived the process-group kill"
        assert any(sid != run.proc.pid for sid in holder["sessions"].values()), holder["sessions"]
        assert stack.nf_proxy.late, "no request reached Northflank after the process-group kill"
    finally:
        for pid in holder.get("tree", []):
            if harness.alive(pid):
                harness.kill_tree(pid)
        harness.wait_gone(holder.get("tree", []))
        stack.stop()


def test_sigterm_to_the_controller_stops_its_workers_too(tmp_path_factory):
    """What the user guide recommends instead of SIGKILL: a SIGTERM to ansible-playbook alone (not its group) is passed
    on to the workers, which end their process groups; nothing writes after it. Sent at the same write as above."""
    out = tmp_path_factory.mktemp("sigterm")
    stack = harness.Stack()
    holder: dict = {}

    def on_write(n, entry):
        if n == 2 and "killed_at" not in holder:
            pid = holder["run"].proc.pid
            holder["tree"] = harness.descendants(pid)
            os.kill(pid, 15)
            holder["killed_at"] = time.monotonic()
            stack.nf_proxy.killed()

    stack.nf_proxy.on_write = on_write
    try:
        holder["run"] = run = harness.migrate(stack, out, "terminated", start_only=True)
        code = run.wait(timeout=120)
        assert "killed_at" in holder, run.output()[-3000:]
        assert code != 0
        assert harness.wait_gone(holder["tree"]) == [], "processes of the run survived SIGTERM"
        time.sleep(max(0.0, harness.LATE_WINDOW - (time.monotonic() - holder["killed_at"])))
        # A read already on its way when the signal landed may still arrive (seen once in the soak, under load); a
        # write may not.
        late_writes = [r for r in stack.nf_proxy.late if r.get("method") != "GET"]
        assert late_writes == [], "writes reached Northflank after SIGTERM"
    finally:
        for pid in holder.get("tree", []):
            if harness.alive(pid):
                harness.kill_tree(pid)
        if "run" in holder and holder["run"].proc.poll() is None:
            holder["run"].kill()
        stack.stop()

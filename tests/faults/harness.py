"""What the fault, interruption and secret-hygiene tests share: both emulators behind fault proxies, ansible-playbook
run in
a session of its own (so that it can be killed whole), a killer that reaches Ansible's workers too, and the state and
request counts of a fault-free migration of the demo account, to compare against.

Why ``kill_tree`` and not ``os.killpg``: Ansible's ``WorkerProcess`` calls ``os.setsid()`` when it starts
(``ansible/executor/process/worker.py``, ``_detach``), so every worker, and the module it runs, leads a session and a
process group of its own. A SIGKILL of the playbook's process group kills the controller only; a worker in the middle of
a
loop goes on with the loop's next items, writing to the API, until its task ends (``test_interruptions`` shows it). The
main process propagates SIGINT and SIGTERM to its workers; SIGKILL cannot be propagated. So the tests stop the
controller, collect its descendants through ``/proc`` and kill every one of them.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Optional

import yaml

from tests.faults.proxy import FaultPlan, FaultProxy
from tests.helpers import COLLECTIONS, ROOT, EmulatorProcess, ensure_collection_link

FIXTURE = ROOT / "tests" / "emulators" / "fixtures" / "demo.yml"
INVENTORY = ROOT / "tests" / "demo" / "inventory"
PLAYBOOKS = ROOT / "playbooks"
PLAYBOOK_TIMEOUT = 900  # seconds; a demo migration takes 30-90 s on a busy machine
# How long after a kill the tests keep listening for a request from a surviving worker.
LATE_WINDOW = 8.0
# Requests that must reach Northflank once per migration at most: POSTs create (a domain, a template and its run) or
# start
# something (imports, runs) and are never repeated by the clients.
NON_IDEMPOTENT = "POST"


def soak() -> bool:
    return os.environ.get("SOAK", "") not in ("", "0")


# `make test` migrates the pipeline unit only (it sends every kind of write: PUTs of a project, addons, services and
# secret groups, and each non-idempotent POST: a domain, a template, two release flows), to keep its cost to a few
# minutes; `make soak` (SOAK=1) migrates the whole demo fleet.
LIMIT = None if soak() else "northwind-api,localhost"


# -- processes ----------------------------------------------------------------------------------------------
def _children() -> dict:
    kids: dict = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def descendants(pid: int) -> list:
    kids, out, todo = _children(), [], [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def kill_tree(pid: int) -> list:
    """SIGKILL ``pid`` and every descendant, whatever session they lead. Stops them first (a stopped process cannot
    fork),
    so that none escapes between the look-up and the kill. Returns the PIDs killed."""
    stopped: list = []
    for _round in range(50):
        new = [p for p in [pid] + descendants(pid) if p not in stopped]
        if not new:
            break
        for p in new:
            _signal(p, signal.SIGSTOP)
            stopped.append(p)
    for p in stopped:
        _signal(p, signal.SIGKILL)
    return stopped


def wait_gone(pids, timeout: float = 10.0) -> list:
    """PIDs still alive after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if alive(p)]
    return left


class Playbook:
    """``ansible-playbook`` in a new session, output to files (a killed run's output is still readable)."""

    def __init__(self, playbook, env: dict, args, out_dir: Path, name: str, cwd: Optional[Path] = None):
        ensure_collection_link()
        out_dir.mkdir(parents=True, exist_ok=True)
        self.stdout_path, self.stderr_path = out_dir / f"{name}.stdout", out_dir / f"{name}.stderr"
        full_env = dict(os.environ)
        full_env.update(env)
        full_env["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)
        full_env["ANSIBLE_CONFIG"] = str(ROOT / "tests" / "ansible.cfg")
        full_env.setdefault("ANSIBLE_FORCE_COLOR", "0")
        full_env.pop("ANSIBLE_KEEP_REMOTE_FILES", None)
        self.cmd = [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook), *args]
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=cwd or ROOT,
                env=full_env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.killed: list = []

    def wait(self, timeout: float = PLAYBOOK_TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(self.proc.pid)
            self.proc.wait(timeout=30)
            raise AssertionError(f"{' '.join(self.cmd)} did not end within {timeout} s:\n{self.output()[-3000:]}")

    def kill(self) -> list:
        self.killed = kill_tree(self.proc.pid)
        return self.killed

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def output(self) -> str:
        return self.stdout + self.stderr


def isolated_env(home: Path) -> dict:
    """HOME, Ansible's temp and cache directories, Python's TMPDIR: all under ``home``."""
    dirs = {name: home / name for name in ("home", "tmp", "ansible-local", "ansible-remote", "cache")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(dirs["home"]),
        "TMPDIR": str(dirs["tmp"]),
        "ANSIBLE_LOCAL_TEMP": str(dirs["ansible-local"]),
        "ANSIBLE_REMOTE_TEMP": str(dirs["ansible-remote"]),
        "XDG_CACHE_HOME": str(dirs["cache"]),
        "ANSIBLE_HOME": str(dirs["home"] / ".ansible"),
        # The async jobs' results (the role polls its long waits): named outright, since the module side and
        # async_status would otherwise expand "~" differently once HOME is not the user's own.
        "ANSIBLE_ASYNC_DIR": str(dirs["home"] / ".ansible_async"),
    }


def with_module_defaults(playbook: Path, dest: Path, defaults: dict) -> Path:
    """A copy of ``playbook`` whose plays set ``module_defaults`` (e.g. a short client timeout for the slow-answer
    fault).
    Written next to nothing else: the plays call roles by their collection names only."""
    plays = yaml.safe_load(playbook.read_text())
    for play in plays:
        if "hosts" in play:
            play["module_defaults"] = dict(play.get("module_defaults") or {}, **defaults)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(yaml.safe_dump(plays, sort_keys=False))
    return dest


# -- the two emulators behind proxies -----------------------------------------------------------------------
class Stack:
    """Heroku and Northflank emulators, each behind a fault proxy; ``env`` points the collection at the proxies."""

    def __init__(
        self,
        northflank_plan: Optional[FaultPlan] = None,
        heroku_plan: Optional[FaultPlan] = None,
        heroku_token: str = "demo-token",
        northflank_token: str = "demo-token",
        slow_seconds: float = 4.0,
    ):
        self.heroku = EmulatorProcess("heroku", "--fixture", str(FIXTURE), token=heroku_token)
        self.northflank = EmulatorProcess("northflank", token=northflank_token)
        self.nf_proxy = FaultProxy(self.northflank.url, "northflank", northflank_plan, slow_seconds).start()
        self.heroku_proxy = FaultProxy(self.heroku.url, "heroku", heroku_plan, slow_seconds).start()

    @property
    def env(self) -> dict:
        return {
            "NORTHFLANK_API_BASE_URL": self.nf_proxy.url,
            "NORTHFLANK_API_TOKEN": self.northflank.token,
            "HEROKU_API_URL": self.heroku_proxy.url,
            "HEROKU_API_KEY": self.heroku.token,
            "HEROKU_SCHEDULER_API_URL": self.heroku_proxy.url + "/particleboard",
        }

    def no_faults(self) -> None:
        self.nf_proxy.reset_plan()
        self.heroku_proxy.reset_plan()

    def stop(self) -> None:
        for proxy in (self.nf_proxy, self.heroku_proxy):
            proxy.stop()
        for emulator in (self.heroku, self.northflank):
            emulator.stop()


def migrate(
    stack: Stack,
    out_dir: Path,
    name: str,
    playbook: Path = PLAYBOOKS / "migrate.yml",
    env: Optional[dict] = None,
    start_only: bool = False,
):
    args = (
        "-i",
        str(INVENTORY),
        "-e",
        f"herokumigrate_report_dir={out_dir / name}",
        *(("--limit", LIMIT) if LIMIT else ()),
    )
    run = Playbook(playbook, {**isolated_env(out_dir / "env"), **stack.env, **(env or {})}, args, out_dir, name)
    if start_only:
        return run
    run.wait()
    return run


def matches(point, n: int, entry: dict) -> bool:
    """Whether the ``n``-th write ``entry`` is the kill point ``point``: a write number or a ``METHOD path`` regex."""
    if isinstance(point, int):
        return n == point
    return re.search(point + "$", f"{entry['method']} {entry['path']}") is not None


def kill_on_write(point, holder: dict, proxies) -> Callable:
    """A proxy ``on_write`` callback that SIGKILLs ``holder["run"]`` (and its workers) right after the write ``point``
    reached Northflank, once, and notes in ``holder`` the survivors to wait for, when, and which write it was."""

    def on_write(n, entry):
        if "killed_at" not in holder and matches(point, n, entry):
            holder["pids"] = holder["run"].kill()
            holder["killed_at"] = time.monotonic()
            holder["write"] = f"{n}: {entry['method']} {entry['path']}"
            for proxy in proxies:
                proxy.killed()

    return on_write


def non_idempotent(log: dict) -> Counter:
    """``{"POST /v1/templates northwind-api-northwind-api-pipeline": n}``: the non-idempotent requests that reached the
    emulator, by path and the name in their body."""
    counts: Counter = Counter()
    for e in log["requests"]:
        if e["method"] == NON_IDEMPOTENT and not str(e.get("status", "")).startswith("fault"):
            body = e.get("body") if isinstance(e.get("body"), dict) else {}
            counts[f"{e['method']} {e['path']} {body.get('name') or ''}".strip()] += 1
    return counts


_REFERENCE: dict = {}


def reference(tmp_root: Path) -> dict:
    """The fault-free migration of the demo account (``LIMIT``), once per test session: ``state``, ``posts``
    (non_idempotent counts)
    and ``writes`` (the order of the Northflank writes as ``METHOD path``)."""
    if not _REFERENCE:
        stack = Stack()
        try:
            run = migrate(stack, tmp_root, "reference")
            assert run.proc.returncode == 0, f"the fault-free migration failed:\n{run.output()[-5000:]}"
            log = stack.northflank.requests()
            _REFERENCE.update(
                state=stack.northflank.state(),
                posts=non_idempotent(log),
                writes=[f"{e['method']} {e['path']}" for e in log["requests"] if e["method"] != "GET"],
            )
        finally:
            stack.stop()
    return _REFERENCE


def summary(stack: Stack) -> str:
    """The faults that fired, for assertion messages (never a body)."""
    fired = [
        f"{e['fault']}: {e['method']} {e['path']}"
        for p in (stack.nf_proxy, stack.heroku_proxy)
        for e in p.faults_fired()
    ]
    return json.dumps(fired, indent=1)

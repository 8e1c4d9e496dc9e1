"""Test helpers: start an emulator as a real subprocess and talk to its admin endpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / "build" / "collections"


def ensure_collection_link() -> Path:
    """build/collections/ansible_collections/herokumigrate/northflank -> this checkout."""
    link = COLLECTIONS / "ansible_collections" / "herokumigrate" / "northflank"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT)
    return link


class EmulatorProcess:
    """``python -m tests.emulators KIND --port 0 ARGS...`` in the background."""

    def __init__(self, kind: str, *args: str, token: str = "demo-token"):
        self.kind = kind
        self.token = token
        cmd = [sys.executable, "-m", "tests.emulators", kind, "--port", "0", "--token", token, *args]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError(f"{kind} emulator did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line.split("listening on ", 1)[1]

    # -- admin ----------------------------------------------------------------------------
    def admin(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def requests(self) -> dict:
        """``{"requests": [...], "counts": {...}, "total": N, "writes": N}``"""
        return self.admin("GET", "/_admin/requests")

    def clear_log(self) -> None:
        self.admin("DELETE", "/_admin/requests")

    def faults(self, **knobs) -> None:
        self.admin("POST", "/_admin/faults", knobs)

    def state(self) -> dict:
        return self.admin("GET", "/_admin/state")

    def env(self) -> dict:
        """Environment variables that point our modules (and the SDK) at this emulator."""
        if self.kind == "northflank":
            return {"NORTHFLANK_API_BASE_URL": self.url, "NORTHFLANK_API_TOKEN": self.token}
        # The emulator serves Heroku Scheduler's API (another host on Heroku) under /particleboard.
        return {
            "HEROKU_API_URL": self.url,
            "HEROKU_API_KEY": self.token,
            "HEROKU_SCHEDULER_API_URL": self.url + "/particleboard",
        }

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


def contract_violations(server: "EmulatorProcess") -> list:
    """The requests a Northflank emulator refused as breaking the API contract, as ``METHOD path: why`` lines."""
    return [
        f"{e['method']} {e['path']}: {e['contract_error']}"
        for e in server.requests()["requests"]
        if e.get("contract_error")
    ]


def run_playbook(playbook: str, env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ansible-playbook with the collection on its path; returns the completed process."""
    ensure_collection_link()
    full_env = dict(os.environ)
    full_env.update(env)
    full_env["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)
    full_env["ANSIBLE_CONFIG"] = str(ROOT / "tests" / "ansible.cfg")
    full_env.setdefault("ANSIBLE_FORCE_COLOR", "0")
    bindir = Path(sys.executable).parent
    cmd = [str(bindir / "ansible-playbook"), playbook, *args]
    result = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def demo_account() -> dict:
    """The demo Heroku account (tests/emulators/fixtures/demo.yml), a fresh copy to change for a test."""
    return yaml.safe_load((ROOT / "tests" / "emulators" / "fixtures" / "demo.yml").read_text())


def demo_app(name: str) -> dict:
    """An app of the demo Heroku account."""
    return next(a for a in demo_account()["apps"] if a["name"] == name)


def write_one_app_world(work: Path, app: dict, **variables) -> None:
    """``work/heroku.yml``: the demo account holding only ``app``; ``work/inventory.yml``: one host for it, with the
    demo's repository, fast polls, a report under ``work/report`` and ``variables``."""
    account = dict({k: v for k, v in demo_account().items() if k not in ("apps", "pipelines")}, apps=[app])
    (work / "heroku.yml").write_text(yaml.safe_dump(account))
    host_vars = {
        "herokumigrate_repository_default": {
            "url": "https://github.com/northwind/{app}",
            "type": "github",
            "account_login": "northwind",
            "branch": "main",
        },
        "herokumigrate_poll_interval": 1,
        "herokumigrate_report_dir": str(work / "report"),
        **variables,
    }
    hosts = {app["name"]: {"heroku_unit": {"kind": "app", "name": app["name"]}}}
    (work / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts, "vars": host_vars}}))

"""`make demo`: the whole migration of the demo Heroku account, against the two local emulators.

1. plan.yml (check mode): the plan, with no write request to Northflank;
2. migrate.yml: the migration;
3. migrate.yml again: nothing changes (changed=0 for every host, no write request);
4. verify.yml: reads back what runs and reports each unit as verified, attention or drift;
5. cutover.yml on the multi-dyno app northwind-shop, whose Heroku Postgres is a real database on a throwaway PostgreSQL
   cluster (when PostgreSQL is installed; otherwise one line says the step is skipped): Heroku frozen, data imported and
   verified, the switch left to do by hand; then, the switch declared done, the release phase runs once; then
   rollback.yml
   gives Heroku back its maintenance mode and formation.

It leaves build/demo/report.{md,json,html} (the migration's report: what was created, skipped and
why, what is left to do), build/demo/plan/ (the plan), build/demo/rerun/ (the second run's report)
build/demo/verify/ (the verification), build/demo/cutover/ (the cut-over's report and state file, build/demo/rollback/
the
rollback's) and build/demo/northflank-state.json (the Northflank emulator's final state).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
import yaml  # noqa: E402

from tests.helpers import COLLECTIONS, ROOT, EmulatorProcess, ensure_collection_link  # noqa: E402
from tests.integration.postgres import PostgresServer, pg_bin  # noqa: E402

SHOP = "northwind-shop"
SHOP_SEED = """
CREATE TABLE products (id bigserial PRIMARY KEY, sku text UNIQUE NOT NULL, name text NOT NULL, price numeric(10, 2));
CREATE TABLE orders (id bigserial PRIMARY KEY, product_id bigint REFERENCES products (id), quantity int, placed_at
timestamptz);
INSERT INTO products (sku, name, price) SELECT 'SKU-' || g, 'Product ' || g, g * 0.99 FROM generate_series(1, 500) AS g;
INSERT INTO orders (product_id, quantity, placed_at)
  SELECT 1 + g % 500, 1 + g % 7, '2024-10-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 20000) AS
g;
"""

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


def playbook(name: str, env: dict, report_dir: Path, *args: str):
    """Run one playbook, printing its output as it comes (a long wait shows as ASYNC POLL lines), then its recap. Extra
    arguments (the cut-over's) leave a failure to the caller, who reads the report."""
    started = time.monotonic()
    lines = []
    with stream_playbook(
        f"playbooks/{name}.yml", env, "-i", str(INVENTORY), "-e", f"herokumigrate_report_dir={report_dir}", *args
    ) as proc:
        for line in proc.stdout:
            lines.append(line)
            print("  | " + line.rstrip("\n"), flush=True)
    output = "".join(lines)
    if proc.returncode != 0 and not args:
        raise AssertionError(f"{name}.yml failed ({proc.returncode}):\n{proc.stderr_text}")
    print(output.split("PLAY RECAP", 1)[-1].strip())
    print(f"  ({name}.yml took {time.monotonic() - started:.0f} s)")
    return recap(output)


class stream_playbook:
    """ansible-playbook as run_playbook runs it (same environment), its stdout read line by line while it runs."""

    def __init__(self, playbook_path: str, env: dict, *args: str):
        ensure_collection_link()
        full_env = {
            **os.environ,
            **env,
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_CONFIG": str(ROOT / "tests" / "ansible.cfg"),
            "PYTHONUNBUFFERED": "1",
        }
        full_env.setdefault("ANSIBLE_FORCE_COLOR", "0")
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), playbook_path, *args]
        self.stderr_file = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=self.stderr_file, text=True, bufsize=1
        )
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


def start_postgres():
    """A throwaway cluster holding northwind-shop's "Heroku Postgres" and the Northflank addons' databases; None without
    PostgreSQL."""
    bin_dir = pg_bin()
    if bin_dir is None:
        return None, None
    server = PostgresServer(bin_dir).start()
    server.psql("CREATE ROLE shop LOGIN PASSWORD 'demo-shop-password'; CREATE DATABASE shop OWNER shop;")
    source = server.url("shop", "demo-shop-password", "shop")
    server.psql(SHOP_SEED, url=source)
    return server, source


def fixture_with(source: str) -> Path:
    """The demo account, northwind-shop's Heroku Postgres pointing at ``source``."""
    demo = yaml.safe_load(FIXTURE.read_text())
    for app in demo["apps"]:
        if app["name"] == SHOP:
            app["addons"] = [
                dict(a, value=source) if a["plan"].startswith("heroku-postgresql") else a for a in app["addons"]
            ]
    path = OUT / "heroku-fixture.yml"
    path.write_text(yaml.safe_dump(demo, sort_keys=False))
    return path


def steps_of(report_dir: Path) -> str:
    unit = next(u for u in json.loads((report_dir / "report.json").read_text())["units"] if u["unit"] == SHOP)
    lines = [f"  {SHOP}: {unit['status']}"] + [
        f"    {s['step']}: {s['status']}: {s['detail'][:110]}" for s in unit.get("cutover", [])
    ]
    return "\n".join(lines)


def cutover(heroku, northflank, env, problems):
    """Step 5: cut northwind-shop over (its first build is started, as a push would), then roll it back."""
    nf = requests.Session()
    nf.headers["Authorization"] = f"Bearer {northflank.token}"
    base = f"{northflank.url}/v1/projects/{SHOP}/services"
    nf.post(f"{base}/{SHOP}-builder/build", json={}, timeout=10)
    for _round in range(6):  # the emulator moves builds and rollouts one step per read
        for name in ("builder", "web", "worker"):
            nf.get(f"{base}/{SHOP}-{name}", timeout=10)
            nf.get(f"{base}/{SHOP}-{name}/build", timeout=10)
    cut = OUT / "cutover"
    limit = (
        "--limit",
        SHOP,
        "-e",
        "herokumigrate_heroku_writes=true",
        "-e",
        f"herokumigrate_cutover_state_file={OUT}/state/{SHOP}.json",
    )
    print(
        "\n== cut over northwind-shop: freeze Heroku, import and verify the data, switch the app to the addons, "
        "restart it, run the release phase once"
    )
    playbook("cutover", env, cut, *limit)
    print(steps_of(cut))
    status = next(u for u in json.loads((cut / "report.json").read_text())["units"] if u["unit"] == SHOP)["status"]
    if status != "cut over":
        problems.append(f"northwind-shop was not cut over: {status}")
    print("\n== cut over again: nothing may change")
    northflank.clear_log()
    playbook("cutover", env, OUT / "cutover-rerun", *limit)
    if northflank.requests()["writes"]:
        problems.append("the second cut-over sent write requests to Northflank")
    print("\n== roll back: the Heroku connection strings back, the services restarted, Heroku as it was found")
    playbook("rollback", env, OUT / "rollback", *limit)
    print(steps_of(OUT / "rollback"))
    status = next(
        u for u in json.loads((OUT / "rollback" / "report.json").read_text())["units"] if u["unit"] == SHOP
    )["status"]
    if status != "rolled back":
        problems.append(f"northwind-shop was not rolled back: {status}")


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    state = OUT / "northflank-state.json"
    pg, source = start_postgres()
    if pg is None:
        heroku = EmulatorProcess("heroku", "--fixture", str(FIXTURE))
        northflank = EmulatorProcess("northflank", "--state-file", str(state))
    else:
        heroku = EmulatorProcess("heroku", "--fixture", str(fixture_with(source)))
        northflank = EmulatorProcess(
            "northflank",
            "--state-file",
            str(state),
            "--data-dir",
            str(OUT / "data"),
            "--pg-target-url",
            pg.url(),
            "--pg-bin",
            pg.bin_dir,
        )
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

        if pg is None:
            print(
                "\n== cut-over: skipped: PostgreSQL is not installed (tools/system-deps.sh), so there is no database "
                "to move"
            )
        else:
            cutover(heroku, northflank, env, problems)
    finally:
        heroku.stop()
        northflank.stop()
        if pg is not None:
            pg.stop()
    print(
        f"\nReport: {(OUT / 'report.md').relative_to(ROOT)} (.json, .html); plan: build/demo/plan/; "
        f"verification: build/demo/verify/; Northflank state: {state.relative_to(ROOT)}"
    )
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: what a migration costs at fleet scale, measured against the emulators.

For each size N of BENCH_SIZES (default 10,50,200), a generated account of N units (tools/fleet.py) is run through the
inventory (`ansible-inventory --list`), plan.yml, migrate.yml and migrate.yml again (the no-op re-run), with the
user guide's fleet settings (docs/user-guide.md, "Fleets": forks and pipelining) and 50 ms injected latency on both
emulators.

The emulators enforce the real default rate limits on a compressed clock, so that a fleet's rate-limited hours fit in
minutes: with BENCH_TIME_COMPRESSION=k (default 60), an API hour lasts 3600/k seconds. Northflank grants 1000 requests
per window of 3600/k seconds (`--rate-limit 1000 --rate-window 3600/k`); Heroku a bucket of 4500 refilled at 4500 per
3600/k seconds. At k=60 the 200-unit migration needs more than one window's budget, so the forks must share the
budget and wait for the window's reset (docs/user-guide.md, "Fleets"); the units per hour reported below are those of
the real, uncompressed limits. Each phase starts on fresh windows, as a run started an hour after the last one
would.

Per phase: wall time, CPU and peak memory of the processes (resource.getrusage of the children), Heroku requests,
Northflank reads and writes, 429s met. Per size: the units per hour the real default limits allow (Northflank
1000/hour, Heroku 4500/hour, divided by the requests per unit of a first run). The budgets (exit 1 when one misses,
printed either way):

- Heroku: at most 10 requests per app for the inventory and one run;
- the demo's web + worker app (northwind-shop) migrated with at most 25 Northflank requests;
- a no-op re-run: at most one Northflank read per managed resource, and no write;
- no 429 in the largest run under the scaled real limits;
- the 200-unit no-op re-run under 2 minutes;
- cost growing linearly: the largest run costs at most (its size / the smallest size) times the smallest, per phase.

One table on stdout, everything in build/bench/bench.json (and bench.md, the table).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml  # noqa: E402

import fleet  # noqa: E402
from tests.helpers import COLLECTIONS, ROOT, EmulatorProcess, ensure_collection_link  # noqa: E402

OUT = ROOT / "build" / "bench"
DEMO_FIXTURE = ROOT / "tests" / "emulators" / "fixtures" / "demo.yml"
DEMO_INVENTORY = ROOT / "tests" / "demo" / "inventory"
HOURLY = {"heroku": 4500, "northflank": 1000}
LATENCY_MS = 50
# The user guide's fleet settings (docs/user-guide.md, "Fleets").
FORKS = 10
PIPELINING = True
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10,50,200").split(",") if s.strip()]
COMPRESSION = float(os.environ.get("BENCH_TIME_COMPRESSION", "60"))
PHASES = ("inventory", "plan", "migrate", "re-run")
# Budgets
HEROKU_PER_APP = 10
DEMO_APP, DEMO_APP_BUDGET = "northwind-shop", 25
RERUN_SECONDS_AT_200 = 120
READS = ("GET", "HEAD")

# Runs one command and prints its children's resource use: the phase's CPU and peak memory, alone.
MEASURE = """
import json, resource, subprocess, sys, time
started = time.monotonic()
with open(sys.argv[1], "w") as out:
    rc = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT).returncode
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps(dict(rc=rc, seconds=time.monotonic() - started, cpu=use.ru_utime + use.ru_stime,
                      maxrss_kb=use.ru_maxrss)))
"""


def ansible_env(extra: dict) -> dict:
    ensure_collection_link()
    env = dict(os.environ, **extra)
    env.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_CONFIG=str(ROOT / "tests" / "ansible.cfg"),
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_FORKS=str(FORKS), ANSIBLE_PIPELINING=str(PIPELINING))
    return env


def measure(cmd: list, env: dict, log: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(log), *cmd], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"measuring {cmd} failed: {proc.stderr}")
    return json.loads(proc.stdout)


def is_token_check(entry: dict) -> bool:
    """The preflight's one Northflank token check of a run (roles/herokumigrate/tasks/preflight.yml): a request per run,
    not per unit or resource, shown apart in the budgets."""
    return entry["method"] == "GET" and entry["path"] == "/v1/projects" and entry.get("query") == "per_page=1"


def traffic(servers: dict) -> dict:
    out = {}
    for kind, server in servers.items():
        log = server.requests()["requests"]
        out[kind] = dict(total=len(log), reads=sum(1 for e in log if e["method"] in READS),
                         writes=sum(1 for e in log if e["method"] not in READS),
                         rate_limited=sum(1 for e in log if e.get("status") in (429, "fault:429")),
                         run_checks=sum(1 for e in log if is_token_check(e)))
        server.clear_log()
    return out


def write_inventory(directory: Path) -> Path:
    """The fleet's inventory: the heroku plugin over the whole account, with the demo's group_vars."""
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(DEMO_INVENTORY, directory)
    return directory


def run_phases(servers: dict, env: dict, inventory: Path, work: Path, phases=PHASES, limit=None) -> dict:
    results = {}
    for phase in phases:
        # Each phase starts on fresh rate-limit windows, as a run started an hour after the last one would (the
        # emulators' counts and the controller's ledger both start again); within the phase, the limits hold.
        servers["northflank"].admin("POST", "/_admin/rate-limit", {})
        servers["heroku"].admin("POST", "/_admin/rate-limit", {"remaining": HOURLY["heroku"]})
        env = dict(env, HEROKUMIGRATE_BUDGET_DIR=str(work / "budget" / phase))
        for server in servers.values():
            server.clear_log()
        if phase == "inventory":
            cmd = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory), "--list"]
        else:
            playbook = "plan" if phase == "plan" else "migrate"
            cmd = [str(Path(sys.executable).parent / "ansible-playbook"), f"playbooks/{playbook}.yml",
                   "-i", str(inventory), "-e", f"herokumigrate_report_dir={work / phase}"]
            if limit:
                cmd += ["--limit", limit]
        result = measure(cmd, env, work / f"{phase}.log")
        result["requests"] = traffic(servers)
        report = work / phase / "report.json"
        if report.exists():
            units = json.loads(report.read_text())["units"]
            result["units"] = len(units)
            statuses = [u["status"] for u in units]
            result["statuses"] = {s: statuses.count(s) for s in sorted(set(statuses))}
            result["resources"] = sum(1 for u in units for r in u.get("resources", []) if r["kind"] != "git_mirrors")
        results[phase] = result
    return results


def scaled_limits() -> dict:
    """The real hourly limits, an hour lasting 3600 / COMPRESSION seconds."""
    window = 3600.0 / COMPRESSION
    return dict(window=window, northflank=HOURLY["northflank"], heroku_size=HOURLY["heroku"],
                heroku_per_hour=HOURLY["heroku"] * COMPRESSION)


def bench_size(units: int) -> dict:
    work = OUT / f"fleet-{units}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    account = fleet.account(units)
    fixture = work / "account.yml"
    fixture.write_text(yaml.safe_dump(account, sort_keys=False))
    limits = scaled_limits()
    latency = ["--latency-ms", str(LATENCY_MS)]
    servers = {
        "heroku": EmulatorProcess("heroku", "--fixture", str(fixture), *latency,
                                  "--rate-limit", str(limits["heroku_size"]),
                                  "--rate-refill", str(limits["heroku_per_hour"])),
        "northflank": EmulatorProcess("northflank", *latency, "--rate-limit", str(limits["northflank"]),
                                      "--rate-window", str(limits["window"])),
    }
    try:
        env = ansible_env({**servers["heroku"].env(), **servers["northflank"].env()})
        started = time.monotonic()
        phases = run_phases(servers, env, write_inventory(work / "inventory"), work)
        total = time.monotonic() - started
    finally:
        for server in servers.values():
            server.stop()
    apps = len(account["apps"])
    first, again = phases["migrate"]["requests"], phases["re-run"]["requests"]
    per_unit = dict(
        heroku_per_app={p: round((phases["inventory"]["requests"]["heroku"]["total"]
                                  + (phases[p]["requests"]["heroku"]["total"] if p != "inventory" else 0)) / apps, 2)
                        for p in PHASES},
        northflank_first=dict(reads=round(first["northflank"]["reads"] / units, 2),
                              writes=round(first["northflank"]["writes"] / units, 2)),
        northflank_rerun=dict(reads=round(again["northflank"]["reads"] / units, 2),
                              writes=round(again["northflank"]["writes"] / units, 2)))
    nf_first = (first["northflank"]["total"] + phases["plan"]["requests"]["northflank"]["total"]) / units
    heroku_first = (phases["inventory"]["requests"]["heroku"]["total"] + first["heroku"]["total"]) / units
    return dict(units=units, apps=apps, limits=limits, seconds=round(total, 1), phases=phases, per_unit=per_unit,
                units_per_hour=dict(northflank=round(HOURLY["northflank"] / max(nf_first, 1e-9), 1),
                                    heroku=round(HOURLY["heroku"] / max(heroku_first, 1e-9), 1)))


def bench_demo_app() -> dict:
    """The demo's web + worker app alone, migrated on a fresh Northflank: its Northflank requests."""
    work = OUT / "demo-app"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    servers = {"heroku": EmulatorProcess("heroku", "--fixture", str(DEMO_FIXTURE)),
               "northflank": EmulatorProcess("northflank")}
    try:
        env = ansible_env({**servers["heroku"].env(), **servers["northflank"].env()})
        phases = run_phases(servers, env, DEMO_INVENTORY, work, phases=("migrate",), limit=DEMO_APP)
    finally:
        for server in servers.values():
            server.stop()
    return dict(app=DEMO_APP, rc=phases["migrate"]["rc"], statuses=phases["migrate"].get("statuses"),
                northflank=phases["migrate"]["requests"]["northflank"])


def budgets(sizes: list, demo: dict) -> list:
    """``(budget, held, measured)`` rows; held is None when not measured."""
    rows = []
    worst = max((s["per_unit"]["heroku_per_app"][p], s["units"], p)
                for s in sizes for p in ("plan", "migrate", "re-run"))
    rows.append((f"Heroku at most {HEROKU_PER_APP} requests per app (inventory + one run)", worst[0] <= HEROKU_PER_APP,
                 f"{worst[0]} per app ({worst[1]} units, inventory + {worst[2]})"))
    checks = demo["northflank"]["run_checks"]
    total = demo["northflank"]["total"] - checks
    rows.append((f"demo web + worker app ({DEMO_APP}) migrated with at most {DEMO_APP_BUDGET} Northflank requests",
                 total <= DEMO_APP_BUDGET and demo["rc"] == 0,
                 f"{total} requests, and the run's {checks} token check (rc {demo['rc']})"))
    for s in sizes:
        rerun, resources = s["phases"]["re-run"], s["phases"]["migrate"].get("resources", 0)
        nf = rerun["requests"]["northflank"]
        reads = nf["reads"] - nf["run_checks"]
        rows.append((f"{s['units']} units: no-op re-run at most one read per managed resource and no write",
                     reads <= resources and nf["writes"] == 0,
                     f"{reads} reads for {resources} resources (and the run's {nf['run_checks']} token check), "
                     f"{nf['writes']} writes"))
    largest = max(sizes, key=lambda s: s["units"])
    met = sum(p["requests"][k]["rate_limited"] for p in largest["phases"].values() for k in ("heroku", "northflank"))
    rows.append((f"no 429 in the {largest['units']}-unit run under the scaled real limits", met == 0, f"{met} 429s"))
    at_200 = next((s for s in sizes if s["units"] == 200), None)
    rows.append((f"200-unit no-op re-run under {RERUN_SECONDS_AT_200} s",
                 None if at_200 is None else at_200["phases"]["re-run"]["seconds"] <= RERUN_SECONDS_AT_200,
                 "not measured" if at_200 is None else f"{at_200['phases']['re-run']['seconds']:.0f} s"))
    smallest = min(sizes, key=lambda s: s["units"])
    if largest is smallest:
        rows.append(("cost grows linearly", None, "one size only"))
    else:
        factor = largest["units"] / smallest["units"]
        for phase in PHASES:
            big, small = largest["phases"][phase], smallest["phases"][phase]
            wall = big["seconds"] / max(small["seconds"], 1e-9)
            cpu = big["cpu"] / max(small["cpu"], 1e-9)
            rows.append((f"{phase}: {largest['units']} units cost at most {factor:g}x {smallest['units']} units "
                         "(wall time and CPU)", wall <= factor and cpu <= factor, f"{wall:.1f}x wall, {cpu:.1f}x CPU"))
    return rows


def table(sizes: list) -> list:
    lines = ["| units | phase | rc | wall s | CPU s | peak MB | Heroku req | Heroku/app* | NF reads | NF writes "
             "| NF/unit | 429s |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in sizes:
        for phase in PHASES:
            p = s["phases"][phase]
            r = p["requests"]
            nf = r["northflank"]
            lines.append(f"| {s['units']} | {phase} | {p['rc']} | {p['seconds']:.1f} | {p['cpu']:.1f} | "
                         f"{p['maxrss_kb'] / 1024:.0f} | {r['heroku']['total']} | "
                         f"{s['per_unit']['heroku_per_app'][phase]} | "
                         f"{nf['reads']} | {nf['writes']} | {nf['total'] / s['units']:.1f} | "
                         f"{r['heroku']['rate_limited'] + nf['rate_limited']} |")
    lines.append("")
    allowed = "; ".join(f"{s['units']} units: Northflank {s['units_per_hour']['northflank']}, "
                        f"Heroku {s['units_per_hour']['heroku']}" for s in sizes)
    lines.append("\\* Heroku requests per app of the inventory plus the phase. Units per hour allowed by the real "
                 "default limits (plan + first migrate): " + allowed)
    return lines


def machine() -> dict:
    load = os.getloadavg()
    return dict(cpus=os.cpu_count(), python=platform.python_version(),
                system=f"{platform.system()} {platform.machine()}", load_at_end=[round(x, 2) for x in load],
                forks=FORKS, pipelining=PIPELINING, latency_ms=LATENCY_MS,
                time_compression=COMPRESSION)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    demo = bench_demo_app()
    sizes = []
    for units in SIZES:
        print(f"fleet of {units} units...", file=sys.stderr, flush=True)
        sizes.append(bench_size(units))
    rows = budgets(sizes, demo)
    about = dict(machine(), load_at_start=load_at_start)
    lines = table(sizes)
    lines += ["", "| budget | result | measured |", "|---|---|---|"]
    lines += [f"| {name} | {'held' if held else ('not measured' if held is None else 'MISSED')} | {measured} |"
              for name, held, measured in rows]
    lines += ["", f"Machine: {about['cpus']} CPUs, {about['system']}, Python {about['python']}, load average "
              f"{about['load_at_start'][0]} at start, {about['load_at_end'][0]} at end; forks {FORKS}, "
              f"pipelining {PIPELINING}, latency {LATENCY_MS} ms; the real rate limits with an hour lasting "
              f"{3600 / COMPRESSION:g} s (time compression {COMPRESSION:g})."]
    print("\n".join(lines))
    (OUT / "bench.md").write_text("\n".join(lines) + "\n")
    (OUT / "bench.json").write_text(json.dumps(dict(machine=about, demo_app=demo, sizes=sizes,
                                                    budgets=[dict(budget=n, held=h, measured=m) for n, h, m in rows]),
                                               indent=2))
    return 1 if any(held is False for _n, held, _m in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

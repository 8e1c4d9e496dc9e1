"""`make bench`: what a migration costs, measured against the emulators.

Runs plan.yml, migrate.yml and migrate.yml again over a fixture account (default: the demo account;
BENCH_FIXTURE=tests/emulators/fixtures/account.yml for the larger one) and reports, per run, the
wall time and the requests sent to each API, with the share of the hourly budgets (Heroku 4500,
Northflank 1000) they use. Goals (checked, exit 1 when missed): the plan and the re-run write
nothing to Northflank; a re-run sends at most as many Northflank requests as the first run; each
unit stays within BUDGET_PER_UNIT Northflank requests. Results go to build/bench/bench.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import ROOT, EmulatorProcess, run_playbook  # noqa: E402

OUT = ROOT / "build" / "bench"
FIXTURE = Path(os.environ.get("BENCH_FIXTURE", ROOT / "tests" / "emulators" / "fixtures" / "demo.yml"))
INVENTORY = ROOT / "tests" / "demo" / "inventory"
HOURLY = {"heroku": 4500, "northflank": 1000}
BUDGET_PER_UNIT = 60


def run(name, env, servers):
    for server in servers.values():
        server.clear_log()
    started = time.monotonic()
    result = run_playbook(f"playbooks/{name}.yml", env, "-i", str(INVENTORY), "-e", f"herokumigrate_report_dir={OUT / name}", check=False)
    seconds = time.monotonic() - started
    logs = {kind: server.requests() for kind, server in servers.items()}
    report = json.loads((OUT / name / "report.json").read_text()) if (OUT / name / "report.json").exists() else {"units": []}
    return dict(playbook=name, rc=result.returncode, seconds=round(seconds, 1), units=len(report["units"]),
                statuses=sorted({u["status"] for u in report["units"]}),
                requests={k: {"total": v["total"], "writes": v["writes"], "share_of_hourly_budget": round(v["total"] / HOURLY[k], 3)}
                          for k, v in logs.items()},
                northflank_routes=dict(sorted(logs["northflank"]["counts"].items(), key=lambda kv: -kv[1])[:10]))


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    servers = {"heroku": EmulatorProcess("heroku", "--fixture", str(FIXTURE)), "northflank": EmulatorProcess("northflank")}
    env = {**servers["heroku"].env(), **servers["northflank"].env()}
    try:
        runs = [run(name, env, servers) for name in ("plan", "migrate", "migrate")]
    finally:
        for server in servers.values():
            server.stop()
    runs[2]["playbook"] = "migrate (re-run)"
    plan, first, second = runs
    migrated = max(1, first["units"])
    goals = {
        "plan writes nothing": plan["requests"]["northflank"]["writes"] == 0,
        "re-run writes nothing": second["requests"]["northflank"]["writes"] == 0,
        "re-run reads no more than the first run": second["requests"]["northflank"]["total"] <= first["requests"]["northflank"]["total"],
        f"at most {BUDGET_PER_UNIT} Northflank requests per unit": first["requests"]["northflank"]["total"] / migrated <= BUDGET_PER_UNIT,
    }
    print(f"fixture: {FIXTURE.relative_to(ROOT)}")
    print(f"{'run':<18}{'rc':>3}{'s':>7}{'units':>6}{'heroku':>8}{'nf':>6}{'nf writes':>10}{'nf/hour budget':>15}")
    for r in runs:
        h, n = r["requests"]["heroku"], r["requests"]["northflank"]
        print(f"{r['playbook']:<18}{r['rc']:>3}{r['seconds']:>7}{r['units']:>6}{h['total']:>8}{n['total']:>6}{n['writes']:>10}"
              f"{n['share_of_hourly_budget']:>14.1%}")
    print(f"Northflank requests per unit (first run): {first['requests']['northflank']['total'] / migrated:.1f}")
    for goal, met in goals.items():
        print(f"  {'ok  ' if met else 'MISS'} {goal}")
    (OUT / "bench.json").write_text(json.dumps(dict(fixture=str(FIXTURE.relative_to(ROOT)), runs=runs, goals=goals), indent=2))
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

"""A generated Heroku account of N migration units, for `make bench` at fleet scale.

The mix is what a real fleet looks like: 40% single-dyno apps, 35% multi-dyno apps (web + worker, Postgres and Redis,
scheduler jobs, a custom domain on every other one, a release phase on every third one) and 25% pipelines (staging ->
production, Postgres on each app). Everything is derived from the unit's index, so the same N always gives the same
account.

    python tools/fleet.py 200 > build/bench/fleet-200.yml
"""

from __future__ import annotations

import sys

import yaml

# Out of every 20 units, interleaved so that a small fleet has all three: 8 single, 7 multi, 5 pipelines.
MIX = dict(s="single", m="multi", p="pipeline")
PATTERN = "smpsmsmpsmspsmpsmsmp"[:20]
SIZES = ("basic", "standard-1X", "standard-2X")


def _app(name: str, i: int, **extra) -> dict:
    app = dict(name=name, team="fleet", region="eu" if i % 4 == 3 else "us", buildpacks=["heroku/nodejs"],
               config_vars={"NODE_ENV": "production", "FLEET_SECRET": "fleet-secret-%04d-%s" % (i, name)})
    app.update(extra)
    return app


def unit(i: int) -> tuple[list, list]:
    """``(apps, pipelines)`` of unit ``i`` (1-based)."""
    kind = MIX[PATTERN[(i - 1) % len(PATTERN)]]
    size = SIZES[i % len(SIZES)]
    if kind == "single":
        return [_app("fleet-web-%04d" % i, i, process_types={"web": "npm start"},
                     formation={"web": {"quantity": 1 + i % 2, "size": size}})], []
    if kind == "multi":
        types = {"web": "npm start", "worker": "node worker.js"}
        if i % 3 == 0:
            types["release"] = "node migrate.js"
        app = _app("fleet-shop-%04d" % i, i, process_types=types,
                   formation={"web": {"quantity": 2, "size": size}, "worker": {"quantity": 1, "size": "standard-1X"}},
                   addons=[{"plan": "heroku-postgresql:essential-0"}, {"plan": "heroku-redis:mini"},
                           {"plan": "scheduler:standard"}],
                   scheduler_jobs=[
                       {"command": "node jobs/sync.js", "schedule": "every 10 minutes", "size": "Standard-1X"},
                       {"command": "node jobs/report.js", "schedule": "daily at 02:30", "size": "Standard-1X"}])
        if i % 2 == 0:
            app["domains"] = ["shop%04d.fleet.example" % i]
        return [app], []
    pipeline = "fleet-api-%04d" % i
    apps = [_app("%s-%s" % (pipeline, stage), i, process_types={"web": "npm start"},
                 formation={"web": {"quantity": 1, "size": size}}, addons=[{"plan": "heroku-postgresql:essential-0"}],
                 pipeline={"name": pipeline, "stage": stage}) for stage in ("staging", "production")]
    return apps, [{"name": pipeline, "team": "fleet"}]


def account(units: int) -> dict:
    apps, pipelines = [], []
    for i in range(1, units + 1):
        more_apps, more_pipelines = unit(i)
        apps += more_apps
        pipelines += more_pipelines
    return dict(account=dict(email="ops@fleet.example", name="Fleet Ops", created_at="2020-01-06T09:00:00Z"),
                teams=[dict(name="fleet", created_at="2020-01-06T09:05:00Z")], pipelines=pipelines, apps=apps)


def main(argv: list) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print(__doc__, file=sys.stderr)
        return 2
    yaml.safe_dump(account(int(argv[1])), sys.stdout, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

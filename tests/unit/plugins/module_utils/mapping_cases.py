"""Inputs shared by the mapping tests (test_rules, test_plan, test_records): the settings the role passes and
Heroku apps and pipelines in the shape heroku_app_info / heroku_pipeline_info return."""

from __future__ import annotations

SETTINGS = {
    "plans": {
        "basic": "nf-compute-20",
        "standard-1x": "nf-compute-20",
        "standard-2x": "nf-compute-50",
        "dyno-1c-0.5gb": "nf-compute-100-1",
    },
    "regions": {"us": "us-east1", "eu": "europe-west", "oregon": "us-west"},
    "builders": {"heroku-24": "HEROKU_24", "heroku-22": "HEROKU_22", "cnb": "HEROKU_24"},
    "addon_types": {"heroku-postgresql": "postgresql", "heroku-redis": "redis"},
    "addon_settings": {
        "postgresql": {"version": "16-latest", "plan": "nf-compute-50", "storage": 10240, "replicas": 1}
    },
    "repository_default": {"url": "https://github.com/acme/{app}", "branch": "main", "account_login": "acme"},
    "web_port": 8080,
    "build_plan": "nf-compute-400-16",
}


def app_info(
    name,
    formation,
    stack="heroku-24",
    region="us",
    pipeline=None,
    process_types=None,
    addons=(),
    jobs=(),
    domains=(),
    internal_routing=False,
):
    config = {"SECRET_KEY": "value-" + name, "DATABASE_URL": "postgres://db/" + name, "DYNO": "web.1"}
    return {
        "app": {
            "name": name,
            "id": "id-" + name,
            "region": region,
            "stack": stack,
            "git_url": "https://git.heroku.com/%s.git" % name,
            "internal_routing": internal_routing,
        },
        "formation": [{"type": t, "quantity": q, "size": s, "command": "run " + t} for t, q, s in formation],
        "process_types": process_types or {},
        "config_vars": config,
        "config_var_classes": {"SECRET_KEY": "user", "DATABASE_URL": "addon", "DYNO": "heroku"},
        "addons": list(addons),
        "buildpacks": ["heroku/ruby"],
        "features": {},
        "custom_domains": list(domains),
        "pipeline": pipeline,
        "scheduler": {"available": True, "jobs": list(jobs)},
        "migration": {
            "scenario": "pipeline" if pipeline else ("single_dyno" if len(formation) == 1 else "multi_dyno"),
            "warnings": [],
        },
    }


POSTGRES = {
    "name": "postgresql-1",
    "service": "heroku-postgresql",
    "plan": "heroku-postgresql:essential-0",
    "owning_app": "shop",
    "owned_by_other_app": False,
    "config_vars": ["DATABASE_URL"],
}


def pipeline_info():
    apps = [
        app_info(n, [("web", 1, "basic"), ("worker", 1, "basic")], pipeline={"name": "api", "stage": st})
        for n, st in (("api-prod", "production"), ("api-staging", "staging"), ("api-review", "review"))
    ]
    return {"pipeline": {"name": "api"}, "apps": apps, "migration": {"scenario": "pipeline"}}


def pipeline_of(name, *apps):
    """A pipeline of ``(app name, stage, formation, release command or None)``."""
    infos = [
        app_info(n, formation, pipeline={"name": name, "stage": stage}, process_types={"release": rel} if rel else None)
        for n, stage, formation, rel in apps
    ]
    return {"pipeline": {"name": name}, "apps": infos, "migration": {"scenario": "pipeline"}}

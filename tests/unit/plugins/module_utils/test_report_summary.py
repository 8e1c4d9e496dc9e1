"""The Heroku side of a unit in its record (what each Heroku thing became on Northflank) and the summary published with
set_stats: names, sizes, plans and commands only, never a config var value."""

from __future__ import annotations

import json

from ansible_collections.herokumigrate.northflank.plugins.module_utils.plan import plan_unit
from ansible_collections.herokumigrate.northflank.plugins.module_utils.records import report_summary, unit_record
from mapping_cases import POSTGRES, SETTINGS, app_info

PAPERTRAIL = {"name": "papertrail-1", "service": "papertrail", "plan": "papertrail:choklad", "owning_app": "shop",
              "owned_by_other_app": False, "config_vars": ["PAPERTRAIL_API_TOKEN"]}
JOB = {"command": "rake cleanup", "schedule": "0 * * * *", "dyno_size": "standard-1x"}


def shop_plan():
    info = app_info(
        "shop",
        [("web", 2, "standard-2x"), ("worker", 1, "standard-1x")],
        process_types={"release": "rake db:migrate"},
        addons=[POSTGRES, PAPERTRAIL],
        jobs=[JOB],
        domains=["www.shop.example"],
    )
    return plan_unit("shop", "app", info, SETTINGS)[0]


def test_the_record_maps_each_heroku_thing_to_the_northflank_resource_it_became():
    record = unit_record(shop_plan(), {}, "migrate")
    (app,) = record["heroku"]
    assert app["app"] == "shop" and app["stage"] is None
    assert app["dynos"] == [
        {"type": "web", "size": "standard-2x", "quantity": 2, "northflank": "shop-web"},
        {"type": "worker", "size": "standard-1x", "quantity": 1, "northflank": "shop-worker"},
        {"type": "release", "size": None, "quantity": None, "northflank": "shop-release"},
    ]
    assert app["addons"] == [
        {
            "name": "postgresql-1",
            "service": "heroku-postgresql",
            "plan": "heroku-postgresql:essential-0",
            "northflank": "postgresql-1",
        },
        {"name": "papertrail-1", "service": "papertrail", "plan": "papertrail:choklad", "northflank": None},
    ]
    assert app["scheduler"] == [{"command": "rake cleanup", "schedule": "0 * * * *", "northflank": "shop-scheduler-1"}]
    assert app["domains"] == [{"hostname": "www.shop.example", "northflank": "shop.example"}]
    # every name on the right is a resource of the plan
    plan = shop_plan()
    names = {r["name"] for kind in ("services", "addons", "jobs") for r in plan[kind]} | {
        d["domain"] for d in plan["domains"]
    }
    assert {x["northflank"] for part in ("dynos", "addons", "scheduler", "domains") for x in app[part]} - {
        None
    } <= names


def test_a_pipeline_record_names_each_app_with_its_stage():
    staging = app_info("shop-staging", [("web", 1, "basic")], pipeline={"id": "p", "name": "shop", "stage": "staging"})
    production = app_info(
        "shop-prod", [("web", 2, "standard-1x")], pipeline={"id": "p", "name": "shop", "stage": "production"}
    )
    info = {
        "pipeline": {"name": "shop"},
        "apps": [production, staging],
        "migration": {"scenario": "pipeline", "warnings": []},
    }
    plan = plan_unit("shop", "pipeline", info, SETTINGS)[0]
    assert [(a["app"], a["stage"], a["dynos"][0]["northflank"]) for a in plan["heroku"]] == [
        ("shop-staging", "staging", "shop-staging-web"),
        ("shop-prod", "production", "shop-prod-web"),
    ]


def test_the_summary_has_status_counts_and_what_is_left_to_do_and_no_value():
    record = unit_record(
        shop_plan(),
        {
            "services": {
                "results": [
                    {"item": {"name": "shop-web"}, "changed": True, "diff": {"before": {}}},
                    {"item": {"name": "shop-worker"}, "changed": False},
                ]
            }
        },
        "migrate",
    )
    summary = report_summary(record)
    assert summary["unit"] == "shop" and summary["status"] == "migrated" and summary["resources"] == 2
    assert summary["actions"] == {"created": 1, "unchanged": 1} and summary["changed"] == 1
    assert any("release phase" in t for t in summary["todo"]) and any(
        "mirror the Heroku Git" in t for t in summary["todo"]
    )
    text = json.dumps(summary) + json.dumps(record["heroku"])
    assert "value-shop" not in text and "postgres://db/shop" not in text

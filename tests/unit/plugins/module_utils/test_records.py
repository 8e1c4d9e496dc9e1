"""A unit's records (plugins/module_utils/records.py): the report and the verification, names and states only."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.herokumigrate.northflank.plugins.filter.migration import migration_plan
from ansible_collections.herokumigrate.northflank.plugins.module_utils.plan import plan_unit
from ansible_collections.herokumigrate.northflank.plugins.module_utils.records import (
    migration_record,
    unit_record,
    verify_record,
)
from mapping_cases import SETTINGS, app_info, pipeline_info


def test_the_record_lists_every_renaming_with_its_reason():
    info = app_info("shop", [("web", 1, "basic"), ("web_worker", 1, "basic"), ("web-worker", 1, "basic")])
    plan = plan_unit("shop", "app", info, dict(SETTINGS, project="shop-0a1b2c"))[0]
    record = unit_record(plan, {}, "plan")
    assert record["renamed"] == plan["renamed"]
    assert [(r["kind"], r["heroku"]) for r in record["renamed"]] == [
        ("project", "shop"),
        ("service", "shop-web-worker"),
        ("service", "shop-web_worker"),
    ]
    assert all(r["reason"] and r["northflank"] != r["heroku"] for r in record["renamed"])


def test_unit_record_names_what_each_task_did_without_values():
    plan = plan_unit("hello", "app", app_info("hello", [("web", 1, "basic")]), SETTINGS)[0]
    results = {
        "project": {"changed": True, "diff": {"before": {}, "after": {"name": "hello"}}},
        "services": {
            "results": [
                {
                    "changed": True,
                    "diff": {"before": {"instances": 1}},
                    "changed_paths": ["deployment.instances"],
                    "item": {"name": "hello"},
                }
            ]
        },
        "domains": {
            "results": [
                {
                    "changed": False,
                    "item": {"domain": "hello.example"},
                    "dns_records": [{"type": "TXT", "name": "nfverify.hello.example", "value": "t"}],
                    "pending": [{"name": "www", "reason": "publish the CNAME record"}],
                }
            ]
        },
    }
    record = unit_record(plan, results, "migrate")
    assert record["status"] == "migrated" and record["changed"] == 2
    assert [(r["kind"], r["name"], r["action"]) for r in record["resources"]] == [
        ("project", "hello", "created"),
        ("services", "hello", "updated"),
        ("domains", "hello.example", "unchanged"),
    ]
    assert record["dns_records"][0]["type"] == "TXT"
    assert "www.hello.example: publish the CNAME record" in record["todo"]
    assert unit_record(plan, results, "plan")["resources"][0]["action"] == "would create"
    failed = unit_record(plan, {"project": {"failed": True, "msg": "HTTP 400"}}, "migrate")
    assert failed["status"] == "failed" and failed["resources"][0]["message"] == "HTTP 400"


def test_the_record_shows_each_mirror_and_an_empty_repository_as_a_to_do():
    settings = dict(SETTINGS, git_mirror=True)
    plan = plan_unit("api", "pipeline", pipeline_info(), settings)[0]
    staging, prod = plan["git_mirrors"]
    results = {
        "git_mirrors": {
            "results": [
                {"changed": True, "status": "mirrored", "changed_refs": ["refs/heads/main"], "item": staging},
                {
                    "changed": False,
                    "status": "empty",
                    "changed_refs": [],
                    "item": dict(prod, target_url="https://x:tok3n@github.com/acme/api-prod"),
                },
            ]
        }
    }
    record = unit_record(plan, results, "migrate")
    assert [(r["kind"], r["name"], r["action"], r["changed_paths"]) for r in record["resources"]] == [
        ("git_mirrors", "api-staging", "mirrored", ["refs/heads/main"]),
        ("git_mirrors", "api-prod", "empty", []),
    ]
    assert record["changed"] == 1
    assert record["todo"] == [
        "api-prod: the Heroku Git repository is empty (the app was not deployed with git push): push its source to "
        "https://x:********@github.com/acme/api-prod, branch main, yourself"
    ]
    again = {
        "git_mirrors": {
            "results": [
                {"changed": False, "status": "up_to_date", "item": staging},
                {"changed": True, "status": "would_mirror", "changed_refs": ["refs/heads/main"], "item": prod},
            ]
        }
    }
    assert [r["action"] for r in unit_record(plan, again, "plan")["resources"]] == ["up to date", "would mirror"]


def test_verify_record_tells_verified_attention_and_drift_with_reasons():
    plan = plan_unit("hello", "app", app_info("hello", [("web", 1, "basic")]), SETTINGS)[0]
    converged = {
        "project": {"changed": False},
        "services": {"results": [{"changed": False, "item": {"name": "hello"}}]},
    }
    record = unit_record(plan, converged, "verify")
    assert record["status"] == "planned" and record["mode"] == "verify"
    running = {
        "services": {
            "results": [
                {
                    "item": {"name": "hello", "type": "combined"},
                    "services": [{"status": {"build": {"status": "SUCCESS"}, "deployment": {"status": "COMPLETED"}}}],
                }
            ]
        },
        "addons": {"results": [{"item": {"name": "hello-postgresql"}, "addon": {"status": "running"}}]},
        "domains": {
            "results": [
                {
                    "item": {"domain": "hello.example"},
                    "domain": {"name": "hello.example", "status": "verified"},
                    "subdomains": [{"name": "www", "fullName": "www.hello.example", "verified": True}],
                }
            ]
        },
    }
    verified = verify_record(record, running)
    assert (verified["status"], verified["reasons"]) == ("verified", [])
    assert [(c["kind"], c["name"], c["state"], c["ok"]) for c in verified["runtime"]] == [
        ("services", "hello", "build SUCCESS", True),
        ("services", "hello", "deployment COMPLETED", True),
        ("addons", "hello-postgresql", "running", True),
        ("domains", "hello.example", "verified", True),
        ("domains", "www.hello.example", "verified", True),
    ]
    waiting = {
        "services": {
            "results": [
                {
                    "item": {"name": "hello", "type": "combined"},
                    "services": [{"status": {"deployment": {"status": "IN_PROGRESS"}}}],
                }
            ]
        },
        "addons": {"results": [{"item": {"name": "hello-redis"}, "addon": {"status": "allocating"}}]},
        "domains": {
            "results": [{"item": {"domain": "hello.example"}, "domain": {"name": "hello.example", "status": "pending"}}]
        },
    }
    attention = verify_record(record, waiting)
    assert attention["status"] == "attention"
    assert attention["reasons"] == [
        "service hello has no build yet: push to its branch or start a build",
        "service hello: deployment is IN_PROGRESS, not COMPLETED",
        "addon hello-redis is allocating, not running",
        "domain hello.example is not verified: publish its TXT record",
    ]
    scaled = {
        "services": {
            "results": [
                {
                    "changed": True,
                    "diff": {"before": {"instances": 3}},
                    "changed_paths": ["deployment.instances"],
                    "item": {"name": "hello"},
                }
            ]
        }
    }
    drift = verify_record(unit_record(plan, scaled, "verify"), waiting)
    assert drift["status"] == "drift" and drift["reasons"][0] == "services hello: would update (deployment.instances)"
    missing = verify_record(record, {"services": {"results": [{"item": {"name": "hello"}, "services": []}]}})
    assert missing["reasons"] == ["service hello does not exist"] and missing["status"] == "drift"
    unsupported = dict(record, status="unsupported")
    assert verify_record(unsupported, running) is unsupported


# -- migration_record: the one record of a unit, whatever happened to it; the plan filter's scenario check --
UNIT = {"kind": "app", "name": "hello"}


@pytest.fixture
def info():
    return app_info("hello", [("web", 1, "basic")])


def test_a_migrated_unit_is_the_record_of_its_plan_and_results(info):
    plan = plan_unit("hello", "app", info, SETTINGS)[0]
    results = {
        "project": {"changed": True, "diff": {"before": {}, "after": {"name": "hello"}}},
        "pipeline": {"results": []},
    }
    record = migration_record(UNIT, "hello", "migrate", info=info, plan=plan, results=results)
    assert (record["status"], record["scenario"], record["changed"]) == ("migrated", "single_dyno", 1)
    assert [(r["kind"], r["action"]) for r in record["resources"]] == [("project", "created")]
    assert migration_record(UNIT, "hello", "plan", info=info, plan=plan, results=results)["status"] == "planned"


def test_a_verified_unit_gets_its_runtime_state(info):
    plan = plan_unit("hello", "app", info, SETTINGS)[0]
    runtime = {"services": {"results": [{"item": {"name": "hello", "type": "combined"}, "services": []}]}}
    record = migration_record(
        UNIT, "hello", "verify", info=info, plan=plan, results={"project": {"changed": False}}, runtime=runtime
    )
    assert record["status"] == "drift" and record["reasons"] == ["service hello does not exist"]


def test_an_unsupported_unit_keeps_the_rules_reason_or_fails_under_strict():
    info = {"migration": {"scenario": "unsupported", "reason": "container-registry app"}}
    record = migration_record(UNIT, "hello", "migrate", info=info)
    assert (record["status"], record["scenario"], record["skipped"]) == (
        "unsupported",
        "unsupported",
        [{"what": "app hello", "why": "container-registry app"}],
    )
    strict = migration_record(UNIT, "hello", "migrate", info=info, strict=True)
    assert (
        strict["status"] == "failed"
        and strict["skipped"][0]["why"] == "hello cannot be migrated: container-registry app"
    )
    assert migration_record(UNIT, "hello", "verify", info=info)["status"] == "unsupported"


def test_a_failed_unit_names_the_failure_of_each_failed_item(info):
    failure = {
        "msg": "One or more items failed",
        "results": [{"failed": False}, {"failed": True, "msg": "HTTP 409: conflict"}],
    }
    record = migration_record(UNIT, "hello-app", "migrate", info=info, plan={"ignored": True}, failure=failure)
    assert (record["status"], record["unit"], record["scenario"]) == ("failed", "hello-app", "single_dyno")
    assert record["skipped"] == [{"what": "hello-app", "why": "HTTP 409: conflict"}] and record["resources"] == []
    # Discovery itself failed: nothing is known of the unit but its host.
    early = migration_record(UNIT, "hello", "plan", failure={"msg": "HTTP 404: app not found"})
    assert (early["status"], early["scenario"], early["skipped"][0]["why"]) == (
        "failed",
        "unknown",
        "HTTP 404: app not found",
    )


def test_the_plan_filter_refuses_a_unit_of_another_scenario(info):
    assert migration_plan(info, "hello", "app", SETTINGS, "single_dyno")["plan"]["scenario"] == "single_dyno"
    with pytest.raises(
        AnsibleFilterError,
        match="hello is a single_dyno unit, not multi_dyno: use the herokumigrate.northflank.single_dyno role",
    ):
        migration_plan(info, "hello", "app", SETTINGS, "multi_dyno")

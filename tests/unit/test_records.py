# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_record: the one record of a unit, whatever happened to it (migrated, planned, verified, unsupported, failed),
and the scenario check of the migration_plan filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.herokumigrate.northflank.plugins.filter.migration import migration_plan
from ansible_collections.herokumigrate.northflank.plugins.module_utils.plan import plan_unit
from ansible_collections.herokumigrate.northflank.plugins.module_utils.records import migration_record
from tests.unit.test_mapping import SETTINGS, app_info

UNIT = {"kind": "app", "name": "hello"}


@pytest.fixture
def info():
    return app_info("hello", [("web", 1, "basic")])


def test_a_migrated_unit_is_the_record_of_its_plan_and_results(info):
    plan = plan_unit("hello", "app", info, SETTINGS)[0]
    results = {"project": {"changed": True, "diff": {"before": {}, "after": {"name": "hello"}}}, "pipeline": {"results": []}}
    record = migration_record(UNIT, "hello", "migrate", info=info, plan=plan, results=results)
    assert (record["status"], record["scenario"], record["changed"]) == ("migrated", "single_dyno", 1)
    assert [(r["kind"], r["action"]) for r in record["resources"]] == [("project", "created")]
    assert migration_record(UNIT, "hello", "plan", info=info, plan=plan, results=results)["status"] == "planned"


def test_a_verified_unit_gets_its_runtime_state(info):
    plan = plan_unit("hello", "app", info, SETTINGS)[0]
    runtime = {"services": {"results": [{"item": {"name": "hello", "type": "combined"}, "services": []}]}}
    record = migration_record(UNIT, "hello", "verify", info=info, plan=plan, results={"project": {"changed": False}}, runtime=runtime)
    assert record["status"] == "drift" and record["reasons"] == ["service hello does not exist"]


def test_an_unsupported_unit_keeps_the_rules_reason_or_fails_under_strict():
    info = {"migration": {"scenario": "unsupported", "reason": "container-registry app"}}
    record = migration_record(UNIT, "hello", "migrate", info=info)
    assert (record["status"], record["scenario"], record["skipped"]) == (
        "unsupported", "unsupported", [{"what": "app hello", "why": "container-registry app"}])
    strict = migration_record(UNIT, "hello", "migrate", info=info, strict=True)
    assert strict["status"] == "failed" and strict["skipped"][0]["why"] == "hello cannot be migrated: container-registry app"
    assert migration_record(UNIT, "hello", "verify", info=info)["status"] == "unsupported"


def test_a_failed_unit_names_the_failure_of_each_failed_item(info):
    failure = {"msg": "One or more items failed", "results": [{"failed": False}, {"failed": True, "msg": "HTTP 409: conflict"}]}
    record = migration_record(UNIT, "hello-app", "migrate", info=info, plan={"ignored": True}, failure=failure)
    assert (record["status"], record["unit"], record["scenario"]) == ("failed", "hello-app", "single_dyno")
    assert record["skipped"] == [{"what": "hello-app", "why": "HTTP 409: conflict"}] and record["resources"] == []
    # Discovery itself failed: nothing is known of the unit but its host.
    early = migration_record(UNIT, "hello", "plan", failure={"msg": "HTTP 404: app not found"})
    assert (early["status"], early["scenario"], early["skipped"][0]["why"]) == ("failed", "unknown", "HTTP 404: app not found")


def test_the_plan_filter_refuses_a_unit_of_another_scenario(info):
    assert migration_plan(info, "hello", "app", SETTINGS, "single_dyno")["plan"]["scenario"] == "single_dyno"
    with pytest.raises(AnsibleFilterError, match="hello is a single_dyno unit, not multi_dyno: use the herokumigrate.northflank.single_dyno role"):
        migration_plan(info, "hello", "app", SETTINGS, "multi_dyno")

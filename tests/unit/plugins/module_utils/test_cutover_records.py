# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cut-over's record helpers (plugins/module_utils/records.py): which add-ons move, what blocks a cut-over, the
freeze,
the state kept for rollback, and the honest record of a switch that is not automated."""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.module_utils import records

INFO = {
    "app": {"name": "shop"},
    "config_vars": {"DATABASE_URL": "postgres://u:secret@h/db", "REDIS_URL": "redis://:x@h:1"},
    "formation": [{"type": "web", "quantity": 2}, {"type": "worker", "quantity": 1}],
    "addons": [
        {"name": "postgresql-a-1", "config_vars": ["DATABASE_URL"]},
        {"name": "redis-b-2", "config_vars": ["REDIS_URL"]},
    ],
}
PLAN = {
    "addons": [
        {
            "project": "shop",
            "name": "shop-postgresql",
            "type": "postgresql",
            "heroku_addon": "postgresql-a-1",
            "heroku_plan": "essential-0",
        },
        {"project": "shop", "name": "shop-redis", "type": "redis", "heroku_addon": "redis-b-2", "heroku_plan": "mini"},
    ]
}


def test_postgres_is_imported_and_redis_left_with_its_command():
    pg, redis = records.cutover_sources(INFO, "app", PLAN)
    assert (pg["import"], pg["config_var"], pg["addon"]) == (True, "DATABASE_URL", "shop-postgresql")
    assert redis["import"] is False and "redis-cli" in redis["manual"] and "REDIS_URL" in redis["manual"]
    assert "secret" not in repr([pg, redis])
    assert records.cutover_source_urls(INFO, "app", [pg, redis]) == {"postgresql-a-1": "postgres://u:secret@h/db"}


def test_blockers_name_drift_and_what_does_not_run():
    record = {
        "status": "attention",
        "resources": [{"kind": "services", "name": "web", "action": "would update"}],
        "runtime": [
            {"kind": "services", "name": "b", "state": "build BUILDING", "ok": False},
            {"kind": "domains", "name": "x.com", "state": "pending", "ok": False},
        ],
    }
    assert records.cutover_blockers(record) == ["services web: would update", "services b is build BUILDING"]
    assert records.cutover_blockers({"status": "attention", "resources": [], "runtime": record["runtime"][1:]}) == []


def test_the_freeze_scales_every_writer_and_the_state_found_first_is_kept():
    assert records.cutover_freeze_formation({"web": 2, "worker": 1, "clock": 1}) == {"worker": 0, "clock": 0}
    assert records.cutover_freeze_formation({"web": 2, "worker": 1, "clock": 1}, ["clock"]) == {"clock": 0}
    first = {"results": [{"item": "shop", "before": {"maintenance": False, "formation": {"web": 2, "worker": 1}}}]}
    state = records.cutover_state({}, "shop", first, now="t0")
    again = records.cutover_state(
        state,
        "shop",
        {"results": [{"item": "shop", "before": {"maintenance": True, "formation": {"web": 2, "worker": 0}}}]},
    )
    assert again["heroku"]["shop"]["before"] == {"maintenance": False, "formation": {"web": 2, "worker": 1}}
    assert records.rollback_items(again) == [
        {"app": "shop", "before": {"maintenance": False, "formation": {"web": 2, "worker": 1}}}
    ]
    frozen = dict(INFO, formation=[{"type": "web", "quantity": 2}, {"type": "worker", "quantity": 0}])
    assert records.with_recorded_formation(frozen, "app", again)["formation"][1]["quantity"] == 1


def test_the_switch_is_never_reported_done_when_it_was_not():
    sources = records.cutover_sources(INFO, "app", PLAN)
    record = records.cutover_record(
        {"unit": "shop", "todo": [], "dns_records": []},
        "cutover",
        state={"data": {"shop-postgresql": {"imported": True, "verified": True, "verified_at": "t"}}},
        sources=sources,
        results={"preflight_done": True, "switch_reached": True},
        settings={"release_jobs": ["shop-release"]},
    )
    assert record["status"] == "data moved, not switched"
    assert [s["status"] for s in record["cutover"] if s["step"] == "switch"] == ["manual"]
    assert any(t.startswith("switch: not automated in this version") for t in record["todo"])
    assert [s["status"] for s in record["cutover"] if s["step"] == "release"] == ["waits for the switch"]
    done = records.cutover_record(
        {"unit": "shop"},
        "cutover",
        state={"release": {"shop-release": {"ran_at": "t"}}},
        sources=[],
        results={"switch_reached": True},
        settings={"switched_by_hand": True, "release_jobs": ["shop-release"]},
    )
    assert done["status"] == "cut over"
    failed = records.cutover_record(
        {"unit": "shop"}, "cutover", failure={"msg": "table public.orders: content differs"}
    )
    assert failed["status"] == "failed" and "public.orders" in failed["skipped"][0]["why"]


def test_target_url_prefers_the_external_connection_string():
    assert records.cutover_target_url({"POSTGRES_URI": "int", "EXTERNAL_POSTGRES_URI": "ext"}) == "ext"
    assert records.cutover_target_url({"POSTGRES_URI": "int"}) == "int"

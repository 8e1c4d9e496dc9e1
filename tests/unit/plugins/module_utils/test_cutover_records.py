# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cut-over's record helpers (plugins/module_utils/records.py): which add-ons move, what blocks a cut-over, the
freeze,
the state kept for rollback, the switch and its undoing (names only), and the attempts of a unit."""

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


SWITCH = [
    {
        "app": "shop",
        "project": "shop",
        "holder": "group",
        "group": "shop-env",
        "links": [{"addon": "shop-postgresql", "keys": [{"name": "POSTGRES_URI", "aliases": ["DATABASE_URL"]}]}],
        "remove": ["DATABASE_URL"],
        "restart": ["shop-web", "shop-worker"],
        "jobs": [],
        "restore_ref": "shop-env-restore",
    },
    {"app": "other", "project": "shop", "holder": "group", "group": "other-env", "links": [], "remove": []},
]


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
    assert [s["status"] for s in record["cutover"] if s["step"] == "release"] == ["waits for the switch"]
    done = records.cutover_record(
        {"unit": "shop"},
        "cutover",
        state={"release": {"shop-release": {"ran_at": "t"}}, "switch": {"switched_at": "t", "groups": []}},
        sources=[],
        results={"switch_reached": True},
        settings={"switched": True, "release_jobs": ["shop-release"]},
    )
    assert done["status"] == "cut over"
    failed = records.cutover_record(
        {"unit": "shop"}, "cutover", failure={"msg": "table public.orders: content differs"}
    )
    assert failed["status"] == "failed" and "public.orders" in failed["skipped"][0]["why"]


def test_the_switch_is_recorded_by_name_and_reported_link_by_link():
    state = records.cutover_switch_state({"attempt": 1}, SWITCH, "written", now="t1")
    assert state["switch"]["groups"] == [
        {
            "app": "shop",
            "group": "shop-env",
            "holder": "group",
            "service": None,
            "jobs": [],
            "links": [{"addon": "shop-postgresql", "key": "POSTGRES_URI", "aliases": ["DATABASE_URL"]}],
            "removed": ["DATABASE_URL"],
        }
    ]
    assert "switched_at" not in state["switch"]
    state = records.cutover_switch_state(state, SWITCH, "restarted", now="t2")
    again = records.cutover_switch_state(state, SWITCH, "restarted", now="t3")
    assert again["switch"]["switched_at"] == "t2" and again["switch"]["restarted"] == ["shop-web", "shop-worker"]
    record = records.cutover_record(
        {"unit": "shop"},
        "cutover",
        state=state,
        results={
            "switch_reached": True,
            "switch_groups": {"results": [{"item": SWITCH[0], "changed": True}]},
            "switch_restarts": {"results": [{"item": SWITCH[0], "changed": True}]},
        },
        settings={"switched": True},
    )
    switch = [s for s in record["cutover"] if s["step"] == "switch"]
    assert [s["status"] for s in switch] == ["switched"]
    assert "DATABASE_URL -> addon shop-postgresql (POSTGRES_URI)" in switch[0]["detail"]
    assert [s["status"] for s in record["cutover"] if s["step"] == "restart"] == ["restarted"]
    assert record["changed"] == 2 and record["status"] == "cut over"
    rerun = records.cutover_record(
        {"unit": "shop"}, "cutover", state=state, results={"switch_reached": True}, settings={"switched": True}
    )
    assert [s["status"] for s in rerun["cutover"] if s["step"] == "switch"] == ["already switched"]
    assert rerun["changed"] == 0


def test_a_rollback_undoes_the_switch_once_and_the_next_cutover_is_a_new_attempt():
    state = records.cutover_switch_state({"unit": "shop", "attempt": 1, "attempt_id": "cutover-1-1"}, SWITCH,
                                         "written", now="t1")
    assert records.rollback_switch_items(state, SWITCH) == [SWITCH[0]]
    undone = records.rollback_state(state, "switch", now="t2")
    assert records.rollback_switch_items(undone, SWITCH) == []
    assert records.rollback_state(undone, "switch", now="t3")["switch"]["undone_at"] == "t2"
    done = records.rollback_state(undone, "done", now="t4")
    assert records.rollback_state(done, "done", now="t5")["rolled_back_at"] == "t4"
    record = records.cutover_record(
        {"unit": "shop"},
        "rollback",
        state=state,
        results={
            "switch_groups": {"results": [{"item": SWITCH[0], "changed": True}]},
            "switch_restarts": {"results": [{"item": SWITCH[0], "changed": True}]},
        },
    )
    assert [s["status"] for s in record["cutover"] if s["step"] in ("switch", "restart")] == ["undone", "restarted"]
    assert record["status"] == "rolled back" and record["changed"] == 2
    second = records.cutover_record({"unit": "shop"}, "rollback", state=done)
    assert [s["status"] for s in second["cutover"] if s["step"] == "switch"] == ["already undone"]
    assert second["changed"] == 0
    nothing = records.cutover_record({"unit": "shop"}, "rollback", state={})
    assert [s["status"] for s in nothing["cutover"] if s["step"] == "switch"] == ["nothing to undo"]
    # the next cut-over: a new attempt, its own import names and release key, the last one in the history
    found = {"results": [{"item": "shop", "before": {"maintenance": False, "formation": {"web": 1}}}]}
    second_attempt = records.cutover_state(done, "shop", found, now="2026-12-01T10:00:00.5+00:00")
    assert second_attempt["attempt"] == 2 and second_attempt["attempt_id"] == "cutover-2-20261201100000"
    assert "switch" not in second_attempt and "rolled_back_at" not in second_attempt
    assert second_attempt["history"][0]["attempt_id"] == "cutover-1-1"
    assert records.cutover_import_name("postgresql-a-1", second_attempt) == "postgresql-a-1-2"
    assert records.cutover_import_name("postgresql-a-1", state) == "postgresql-a-1"


def test_target_url_prefers_the_external_connection_string():
    assert records.cutover_target_url({"POSTGRES_URI": "int", "EXTERNAL_POSTGRES_URI": "ext"}) == "ext"
    assert records.cutover_target_url({"POSTGRES_URI": "int"}) == "int"

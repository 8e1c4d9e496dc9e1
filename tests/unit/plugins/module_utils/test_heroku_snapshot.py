# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory's snapshot and the add-ons embedded in attachments (module_utils/heroku_discovery.py), without
Heroku; tests/integration/test_heroku_discovery.py compares both with reading everything from the emulator."""

from __future__ import annotations

import calendar
import time

from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_discovery import (
    addons_from_attachments,
    unit_snapshot,
    usable_snapshot,
)

READ_AT = calendar.timegm((2026, 11, 30, 20, 0, 0, 0, 0, 0))
WEB = [dict(type="web", quantity=1, size="basic", command="npm start")]


def summary(name, pipeline=None):
    return dict(app=dict(id="id-" + name, name=name, region="us"), formation=WEB, pipeline=pipeline)


def test_unit_snapshot_of_an_app_and_of_a_pipeline():
    app = unit_snapshot(READ_AT, [summary("web")])
    assert app == dict(read_at="2026-11-30T20:00:00Z", from_cache=False, pipeline=None,
                       apps=[dict(app=dict(id="id-web", name="web", region="us"), formation=WEB, pipeline=None)])
    stage = dict(id="p1", name="shop", stage="staging")
    pipe = unit_snapshot(READ_AT, [summary("shop-staging", stage)], dict(id="p1", name="shop",
                                                                         generation=dict(name="cedar")))
    assert pipe["pipeline"] == dict(id="p1", name="shop", generation="cedar")
    assert usable_snapshot(pipe, "pipeline", "shop", 1800, now=READ_AT + 5) == (pipe, None)
    assert usable_snapshot(pipe, "pipeline", "p1", 1800, now=READ_AT + 5) == (pipe, None)
    assert usable_snapshot(app, "app", "web", 1800, now=READ_AT + 5) == (app["apps"][0], None)


def test_stale_cached_or_foreign_snapshots_are_not_used():
    app = unit_snapshot(READ_AT, [summary("web")])
    assert usable_snapshot(app, "app", "web", 1800, now=READ_AT + 1801) == (
        None, "snapshot 1801 s old (snapshot_max_age 1800 s)")
    assert usable_snapshot(dict(app, from_cache=True), "app", "web", 1800, now=READ_AT)[1] == (
        "snapshot from the inventory cache")
    assert usable_snapshot(app, "app", "other", 1800, now=READ_AT)[1] == "snapshot of another unit"
    assert usable_snapshot(app, "app", "web", 0, now=READ_AT)[1] == "snapshot_max_age is 0"
    assert usable_snapshot({}, "app", "web", 1800)[1] == "no snapshot"
    assert usable_snapshot(dict(app, read_at=None), "app", "web", 1800)[1] == "snapshot malformed"
    # a pipeline whose snapshot holds an app of another pipeline is not this pipeline's
    mixed = unit_snapshot(READ_AT, [summary("a", dict(id="p1", name="shop", stage="staging")),
                                    summary("b", dict(id="p2", name="other", stage="production"))],
                          dict(id="p1", name="shop"))
    assert usable_snapshot(mixed, "pipeline", "shop", 1800, now=READ_AT)[1] == "snapshot of another unit"
    assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(READ_AT)) == app["read_at"]


def attachment(addon_id, name, plan, owner="web"):
    addon = dict(id=addon_id, name=name, app=dict(id="id-" + owner, name=owner))
    if plan:
        addon["plan"] = dict(id="plan-" + plan, name=plan)
    return dict(id="att-" + addon_id + owner, name="DATABASE", addon=addon, config_vars=["DATABASE_URL"])


def test_addons_from_attachments():
    attachments = [attachment("a1", "postgresql-1", "heroku-postgresql:essential-0"),
                   attachment("a1", "postgresql-1", "heroku-postgresql:essential-0"),
                   attachment("a2", "redis-1", "heroku-redis:mini", owner="core")]
    assert addons_from_attachments(attachments) == [
        dict(id="a1", name="postgresql-1", app=dict(id="id-web", name="web"),
             plan=dict(id="plan-heroku-postgresql:essential-0", name="heroku-postgresql:essential-0"),
             addon_service=dict(name="heroku-postgresql")),
        dict(id="a2", name="redis-1", app=dict(id="id-core", name="core"),
             plan=dict(id="plan-heroku-redis:mini", name="heroku-redis:mini"), addon_service=dict(name="heroku-redis")),
    ]
    assert addons_from_attachments([]) == []
    # the inclusion header not honoured, or a plan name without its service: read the add-on list instead
    assert addons_from_attachments([attachment("a1", "postgresql-1", None)]) is None
    assert addons_from_attachments([attachment("a1", "postgresql-1", "essential-0")]) is None

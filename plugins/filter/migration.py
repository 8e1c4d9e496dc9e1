# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the roles use: the mapping rules (migration_plan), the one record of a unit whatever happened to it
(migration_record), and its parts (unit_record, verify_record); report_summary, a record in short for set_stats.

A record holds, besides what the modules did, ``heroku``: per Heroku app, its ``dynos`` (type, size, quantity),
``addons``
(name, service, plan), ``scheduler`` jobs (command, schedule) and ``domains`` (hostname), each with ``northflank``, the
name
of the Northflank service, addon, job or domain it became (none when it became nothing: see the record's skipped), and
``stage``, its pipeline stage. Names only, never a config var value."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.herokumigrate.northflank.plugins.module_utils.plan import plan_unit
from ansible_collections.herokumigrate.northflank.plugins.module_utils.records import (
    cutover_apps,
    cutover_blockers,
    cutover_freeze_formation,
    cutover_import_name,
    cutover_record,
    cutover_source_urls,
    cutover_sources,
    cutover_state,
    cutover_switch_state,
    cutover_target_url,
    rollback_items,
    rollback_state,
    rollback_switch_items,
    with_recorded_formation,
    migration_record,
    report_summary,
    unit_record,
    verify_record,
)
from ansible_collections.herokumigrate.northflank.plugins.module_utils.rules import MappingError


def migration_plan(info, unit, kind, settings, scenario=None):
    """``{"plan": ..., "secrets": ...}`` for one unit; a mapping error becomes a clear task failure.

    ``scenario``, when given, is the scenario the caller expects (the single_dyno, multi_dyno and pipeline roles): a
    unit whose
    discovered scenario differs fails here, before anything is written."""
    found = ((info or {}).get("migration") or {}).get("scenario")
    if scenario and found != scenario:
        raise AnsibleFilterError(
            "%s is a %s unit, not %s: use the herokumigrate.northflank.%s role, or playbooks/migrate.yml, "
            "which reads each unit's scenario" % (unit, found, scenario, found)
        )
    try:
        plan, secrets = plan_unit(unit, kind, info, settings)
    except MappingError as exc:
        raise AnsibleFilterError(str(exc))
    return dict(plan=plan, secrets=secrets)


class FilterModule(object):
    def filters(self):
        return {
            "migration_plan": migration_plan,
            "migration_record": migration_record,
            "unit_record": unit_record,
            "verify_record": verify_record,
            "report_summary": report_summary,
            "cutover_apps": cutover_apps,
            "cutover_sources": cutover_sources,
            "cutover_source_urls": cutover_source_urls,
            "cutover_blockers": cutover_blockers,
            "cutover_freeze_formation": cutover_freeze_formation,
            "cutover_state": cutover_state,
            "cutover_record": cutover_record,
            "cutover_target_url": cutover_target_url,
            "rollback_items": rollback_items,
            "cutover_import_name": cutover_import_name,
            "cutover_switch_state": cutover_switch_state,
            "rollback_state": rollback_state,
            "rollback_switch_items": rollback_switch_items,
            "with_recorded_formation": with_recorded_formation,
        }

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the roles use: the mapping rules (migration_plan), the per-unit result record (unit_record) and its verification (verify_record)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.herokumigrate.northflank.plugins.module_utils.plan import plan_unit
from ansible_collections.herokumigrate.northflank.plugins.module_utils.records import unit_record, verify_record
from ansible_collections.herokumigrate.northflank.plugins.module_utils.rules import MappingError


def migration_plan(info, unit, kind, settings):
    """``{"plan": ..., "secrets": ...}`` for one unit; a mapping error becomes a clear task failure."""
    try:
        plan, secrets = plan_unit(unit, kind, info, settings)
    except MappingError as exc:
        raise AnsibleFilterError(str(exc))
    return dict(plan=plan, secrets=secrets)


class FilterModule(object):
    def filters(self):
        return {"migration_plan": migration_plan, "unit_record": unit_record, "verify_record": verify_record}

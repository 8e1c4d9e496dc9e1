# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Heroku -> Northflank mapping rules, in one place, as pure functions.

Input: the normalised structure of heroku_app_info / heroku_pipeline_info plus the unit's
settings (the versioned tables of the roles' defaults and the user's overrides). Output: the
options of the northflank_* modules, resource by resource. No I/O here: unit-tested directly.
"""

from __future__ import annotations

import hashlib
import re


class MappingError(ValueError):
    """Input the rules cannot map; the message names the unit, the value and the fix."""


# Northflank's name rules (ENDPOINTS.md §0.1): the longest name per kind.
MAX_NAME = {"project": 39, "service": 54, "job": 52, "addon": 39, "secret_group": 100, "pipeline": 39}
_NAME_CHARS = re.compile(r"[^a-z0-9-]+")


def northflank_name(base, kind, renamed=None):
    """A valid Northflank name for ``base``: lower-case, safe characters, and if too long, cut and
    given a short hash of the full name so that two long names stay distinct and re-runs agree."""
    clean = _NAME_CHARS.sub("-", base.lower()).strip("-")
    clean = re.sub("-{2,}", "-", clean)
    if not clean or not clean[0].isalpha():
        clean = "a-" + clean
    limit = MAX_NAME[kind]
    if len(clean) < 3:
        clean = (clean + "-app")[:limit]
    if len(clean) > limit:
        digest = hashlib.sha1(base.encode("utf-8")).hexdigest()[:6]
        clean = clean[:limit - 7].rstrip("-") + "-" + digest
    if renamed is not None and clean != base:
        renamed.append(dict(kind=kind, heroku=base, northflank=clean))
    return clean


def lookup(table, key, what, unit, option):
    """``table[key]`` or a clear error naming the unit and the override that fixes it."""
    if key in table:
        return table[key]
    known = ", ".join(sorted(str(k) for k in table))
    raise MappingError("%s: no Northflank %s for Heroku %r (known: %s); set %s for this unit" % (unit, what, key, known, option))


def builder_for(stack, table, unit):
    """The buildpack builder for a Heroku stack; a retired or unknown stack is an error unless overridden."""
    return lookup(table, stack, "buildpack builder", unit, "herokumigrate_builder")


def plan_for(size, table, unit):
    return lookup(table, (size or "").lower(), "compute plan", unit, "herokumigrate_plans (or herokumigrate_plan)")


def region_for(region, table, unit):
    return lookup(table, region, "region", unit, "herokumigrate_region")


def keeps_variable(name, cls, rule):
    """Whether a config var is copied, by the documented rule (docs/mapping.md):

    - variables Heroku sets itself (``heroku`` class: PORT, DYNO, HEROKU_*...) are dropped unless
      listed in ``rule["keep"]``;
    - add-on variables are kept by default, so the app keeps reaching its Heroku add-ons until
      their data moves; ``rule["addon_vars"] == "drop"`` leaves them out;
    - names in ``rule["drop"]`` are dropped."""
    if name in (rule.get("drop") or []):
        return False
    if cls == "heroku":
        return name in (rule.get("keep") or [])
    return not (cls == "addon" and rule.get("addon_vars") == "drop")


def runtime_variables(info, rule, port=None):
    """The variables to set on Northflank: the kept config vars, ``rule["set"]`` on top, and ``PORT``
    set to the web port, since Northflank does not promise to inject it."""
    classes = info.get("config_var_classes") or {}
    out = dict((k, v) for k, v in (info.get("config_vars") or {}).items() if keeps_variable(k, classes.get(k, "user"), rule))
    out.update(rule.get("set") or {})
    if port:
        out["PORT"] = str(port)
    return out


def dropped_variables(info, rule):
    """Names of the config vars left out (for the report: names only, never values)."""
    return sorted(k for k, cls in (info.get("config_var_classes") or {}).items() if not keeps_variable(k, cls, rule))

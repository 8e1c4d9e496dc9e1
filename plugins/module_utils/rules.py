# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Heroku -> Northflank mapping rules, in one place, as pure functions: how a unit is classified
(its scenario, or why it is refused), how Heroku names become Northflank names, the tables (plans,
regions, builders), which config vars are copied, and how domains split. docs/mapping.md states them.

No I/O here: unit-tested directly. plan.py composes a unit's resources from these rules;
records.py turns what the modules did into the report's records.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.herokumigrate.northflank.plugins.module_utils import public_suffix_list


# Variables Heroku sets itself, by name (docs/mapping.md, "Config vars"): the dyno's runtime (Heroku Dev Center
# "Dyno Startup Behavior", "Dynos and the Dyno Manager"), the dyno metadata of the runtime-dyno-metadata and
# runtime-dyno-build-metadata labs features ("Dyno Metadata") and what review apps get ("Review Apps"). Any other
# name is the user's, HEROKU_API_KEY or HEROKU_OAUTH_SECRET included. WEB_CONCURRENCY is not among them either:
# buildpacks only default it, so a config var of that name is the user's choice.
HEROKU_MANAGED_NAMES = frozenset(
    (
        "PORT",
        "DYNO",
        "DYNO_RAM",
        "STACK",
        "HEROKU_APP_ID",
        "HEROKU_APP_NAME",
        "HEROKU_APP_DEFAULT_DOMAIN_NAME",
        "HEROKU_DYNO_ID",
        "HEROKU_RELEASE_CREATED_AT",
        "HEROKU_RELEASE_VERSION",
        "HEROKU_SLUG_COMMIT",
        "HEROKU_SLUG_DESCRIPTION",
        "HEROKU_BUILD_COMMIT",
        "HEROKU_BUILD_DESCRIPTION",
        "HEROKU_BRANCH",
        "HEROKU_PR_NUMBER",
        "HEROKU_PARENT_APP_NAME",
    )
)
# Pipeline stages that are migrated (docs/mapping.md); apps coupled in the others (review apps, test) are ephemeral.
STAGES = ("development", "staging", "production")


class MappingError(ValueError):
    """Input the rules cannot map; the message names the unit, the value and the fix."""


# Northflank's name rules (its API reference: the name pattern and length of each resource): the longest name per kind.
MAX_NAME = {"project": 39, "service": 54, "job": 52, "addon": 39, "secret_group": 100, "pipeline": 39}
_NAME_CHARS = re.compile(r"[^a-z0-9-]+")


HASH_LEN = 6


def _hash(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:HASH_LEN]


def _fit(clean, limit, suffix):
    """``clean`` cut so that ``-suffix`` fits in ``limit`` characters."""
    return clean[: limit - len(suffix) - 1].rstrip("-") + "-" + suffix


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
        clean = _fit(clean, limit, _hash(base))
    if renamed is not None and clean != base:
        renamed.append(dict(kind=kind, heroku=base, northflank=clean, reason=name_reason(base, clean, kind)))
    return clean


def name_reason(base, name, kind):
    """Why a Heroku name was changed, in the report's words."""
    if len(base) > MAX_NAME[kind]:
        return "longer than %d characters: cut, with a hash of the Heroku name" % MAX_NAME[kind]
    return "Northflank names are lower-case letters, digits and single hyphens"


def unique_names(wanted, kind, unit=None):
    """Northflank names of ``kind`` for ``wanted`` (``{key: Heroku name}``, the key being what identifies the
    Heroku thing: its kind and name, an ID...), one per key and never the same twice (docs/mapping.md, "Names").

    Each Heroku name is derived (``northflank_name``); names that two or more keys would share all get
    ``-<hash of the key>`` appended, so the result depends only on the set of keys, never on their order,
    and is the same on every run. Returns ``(names, renamed)``: ``{key: name}`` and the report's entries
    for the names that differ from the Heroku name (``kind``, ``heroku``, ``northflank``, ``reason``)."""
    derived = dict((key, northflank_name(base, kind)) for key, base in wanted.items())
    holders = {}
    for key, name in derived.items():
        holders.setdefault(name, []).append(key)
    names, renamed = {}, []
    for key in sorted(wanted):
        base, name = wanted[key], derived[key]
        shared = sorted(k for k in holders[name] if k != key)
        reason = None
        if shared:
            name = _fit(name, MAX_NAME[kind], _hash(key))
            reason = "%s would also be the Northflank name of %s: a hash of the Heroku name added" % (
                derived[key],
                ", ".join(wanted[k] for k in shared),
            )
        elif name != base:
            reason = name_reason(base, name, kind)
        names[key] = name
        if reason:
            renamed.append(dict(kind=kind, heroku=base, northflank=name, reason=reason))
    clash = sorted(set(n for n in names.values() if list(names.values()).count(n) > 1))
    if clash:
        # Only a Heroku name that already ends in another's hash can get here; never let one overwrite the other.
        raise MappingError(
            "%s: Heroku names that still share the Northflank %s name %s after disambiguation (%s); rename one "
            "on Heroku or set herokumigrate_project"
            % (
                unit or "the account",
                kind,
                ", ".join(clash),
                ", ".join(sorted(wanted[k] for k in names if names[k] in clash)),
            )
        )
    return names, renamed


def unit_key(kind, name):
    """What identifies a migration unit (a Heroku app and a pipeline may share a name)."""
    return "%s:%s" % (kind, name)


def unit_project_names(units):
    """The Northflank project of each unit (``units``: ``(kind, name)`` pairs, every unit of the account, before
    any filter, so that ``--limit`` and the inventory's filters never change a name): ``{(kind, name): project}``."""
    wanted = dict((unit_key(kind, name), name) for kind, name in units)
    names, _renamed = unique_names(wanted, "project")
    return dict(((kind, name), names[unit_key(kind, name)]) for kind, name in units)


def project_rename(kind, name, project):
    """The report's entry for a unit whose project is not named after it, or None."""
    if project == name:
        return None
    if project == _fit(northflank_name(name, "project"), MAX_NAME["project"], _hash(unit_key(kind, name))):
        reason = "another Heroku unit of the account would get the same project name: a hash of the Heroku name added"
    elif project == northflank_name(name, "project"):
        reason = name_reason(name, project, "project")
    else:
        reason = "set by herokumigrate_project"
    return dict(kind="project", heroku=name, northflank=project, reason=reason)


def lookup(table, key, what, unit, option):
    """``table[key]`` or a clear error naming the unit and the override that fixes it."""
    if key in table:
        return table[key]
    known = ", ".join(sorted(str(k) for k in table))
    raise MappingError(
        "%s: no Northflank %s for Heroku %r (known: %s); set %s for this unit" % (unit, what, key, known, option)
    )


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
    out = dict(
        (k, v) for k, v in (info.get("config_vars") or {}).items() if keeps_variable(k, classes.get(k, "user"), rule)
    )
    out.update(rule.get("set") or {})
    if port:
        out["PORT"] = str(port)
    return out


def dropped_variables(info, rule):
    """Names of the config vars left out (for the report: names only, never values)."""
    return sorted(k for k, cls in (info.get("config_var_classes") or {}).items() if not keeps_variable(k, cls, rule))


# -- the unit's parts ------------------------------------------------------------------------
WEB = "web"
WEB_PORT_NAME = "web"


def addon_type_for(service, settings):
    """The Northflank addon type of a Heroku add-on service, or None (kept as config vars only)."""
    return (settings.get("addon_types") or {}).get(service)


def repository_for(app, settings, unit):
    """The Git repository Northflank builds the app from: per app, or a default with ``{app}`` in its URL."""
    repos = settings.get("repositories") or {}
    repo = repos.get(app) or {}
    default = settings.get("repository_default") or {}
    url = repo.get("url") or (default.get("url") or "").replace("{app}", app)
    if not url:
        raise MappingError(
            "%s: no Git repository for Heroku app %s: Northflank builds from Git. Mirror the Heroku Git "
            "repository to your Git service and set herokumigrate_repositories['%s'].url "
            "(or herokumigrate_repository_default.url with {app})" % (unit, app, app)
        )
    return dict(
        project_url=url,
        project_type=repo.get("type") or default.get("type") or "github",
        account_login=repo.get("account_login") or default.get("account_login"),
        branch=repo.get("branch") or default.get("branch") or "main",
    )


def git_mirror_for(info, settings, unit):
    """Where the app's Heroku Git repository is mirrored (heroku_git_mirror's options): from its
    ``git_url`` (or ``git_source_url`` with ``{app}``, for another Heroku Git host) to the
    repository's ``push_url`` (else its ``url``), Heroku's ``main`` or ``master`` (``git_source_branches``,
    first found wins) becoming the branch Northflank builds."""
    app = info["app"]["name"]
    repo = repository_for(app, settings, unit)
    entry = (settings.get("repositories") or {}).get(app) or {}
    default = settings.get("repository_default") or {}
    target = entry.get("push_url") or (default.get("push_url") or "").replace("{app}", app) or repo["project_url"]
    source = (settings.get("git_source_url") or "").replace("{app}", app) or info["app"]["git_url"]
    branches = settings.get("git_source_branches") or ["main", "master"]
    return dict(
        app=app,
        source_url=source,
        target_url=target,
        branch=repo["branch"],
        branches=["%s:%s" % (b, repo["branch"]) for b in branches],
    )


_SUFFIX_RULES = {}


def _suffix_rules():
    if not _SUFFIX_RULES:
        for rule in (public_suffix_list.ICANN + " " + public_suffix_list.PRIVATE).split():
            _SUFFIX_RULES[rule.lstrip("!")] = "exception" if rule.startswith("!") else "rule"
    return _SUFFIX_RULES


def public_suffix(hostname):
    """The public suffix of ``hostname`` by the Public Suffix List's algorithm (https://publicsuffix.org/list/):
    the matching rule with the most labels wins, an exception rule (``!``) drops its leftmost label, a wildcard
    (``*.``) matches one label, and a name no rule matches has its last label as suffix."""
    rules = _suffix_rules()
    labels = hostname.lower().rstrip(".").split(".")
    best = 1
    for i in range(len(labels)):
        candidate = ".".join(labels[i:])
        wildcard = ".".join(["*"] + labels[i + 1 :])
        if rules.get(candidate) == "exception":
            return ".".join(labels[i + 1 :])
        if candidate in rules or (i + 1 < len(labels) and rules.get(wildcard) == "rule"):
            best = max(best, len(labels) - i)
    return ".".join(labels[-best:])


def registered_domain(hostname):
    """The domain a host name is registered under (its public suffix and one label more), or None when
    the host name is itself a public suffix (nothing can be registered there)."""
    labels = hostname.lower().rstrip(".").split(".")
    suffix = public_suffix(hostname).split(".")
    if len(labels) <= len(suffix):
        return None
    return ".".join(labels[-len(suffix) - 1 :])


def domain_parts(hostname, apexes, unit=None):
    """``("shop.acme.co.uk" -> ("acme.co.uk", "shop"))``: the registered domain and the subdomain (``@`` for the
    domain itself). A user-given apex (herokumigrate_domain_apexes) wins, the longest first; else the Public
    Suffix List decides. A host name that is a public suffix itself is an error: Northflank would be asked to
    register the suffix."""
    hostname = hostname.lower().rstrip(".")
    for apex in sorted(apexes or [], key=len, reverse=True):
        if hostname == apex:
            return apex, "@"
        if hostname.endswith("." + apex):
            return apex, hostname[: -len(apex) - 1]
    domain = registered_domain(hostname)
    if domain is None:
        raise MappingError(
            "%s: custom domain %s is a public suffix (Public Suffix List): it cannot be registered; remove it "
            "or set herokumigrate_domains: false, or herokumigrate_domain_apexes" % (unit or "unit", hostname)
        )
    return domain, "@" if hostname == domain else hostname[: -len(domain) - 1]


# -- classification: the scenario of a unit, decided here and only here ----------------------
def cron_from_heroku_schedule(every, at):
    """Heroku Scheduler's ``every`` (10, 60, 1440 minutes) and ``at`` (minutes) as a UTC cron line."""
    every, at = int(every), int(at or 0)
    if every == 10:
        return "*/10 * * * *"
    if every == 60:
        return "%d * * * *" % (at % 60)
    if every == 1440:
        return "%d %d * * *" % (at % 60, at // 60)
    raise ValueError("unknown Heroku Scheduler interval: every %s minutes" % every)


def classify_config_vars(config_vars, attachments):
    """``{name: "user" | "addon" | "heroku"}``: who owns each variable.

    Add-on variables are the config var names the app's attachments set (docs/heroku-discovery.md)."""
    addon_vars = set()
    for attachment in attachments:
        addon_vars.update(attachment.get("config_vars") or [])
    out = {}
    for key in config_vars:
        if key in addon_vars:
            out[key] = "addon"
        elif key in HEROKU_MANAGED_NAMES:
            out[key] = "heroku"
        else:
            out[key] = "user"
    return out


def process_types_of(info):
    """The long-running process types of an app: its formation, without the release phase."""
    return [f["type"] for f in info["formation"] if f["type"] != "release"]


def classify_app(info):
    """The ``migration`` block: the scenario, or ``unsupported`` with the reason."""
    app = info["app"]
    types = process_types_of(info)
    warnings = []
    if app["stack"] == "container" or app["build_stack"] == "container":
        return dict(
            scenario="unsupported",
            reason="container-registry app: Heroku builds no source for it to rebuild",
            process_types=types,
            warnings=warnings,
        )
    if not types:
        return dict(
            scenario="unsupported",
            reason="no dyno formation: nothing runs on Heroku to migrate",
            process_types=types,
            warnings=warnings,
        )
    if app["space"]:
        warnings.append(
            "runs in Private Space %s: check network access (VPN, peering, stable outbound IPs)" % app["space"]
        )
    if (info.get("scheduler") or {}).get("available") is False:
        warnings.append("scheduler jobs unknown: " + info["scheduler"].get("reason", ""))
    scenario = "pipeline" if info["pipeline"] else ("single_dyno" if len(types) == 1 else "multi_dyno")
    return dict(scenario=scenario, reason=None, process_types=types, warnings=warnings)


def classify_pipeline(info):
    """The ``migration`` block of a pipeline. Only apps of the migrated stages (development, staging,
    production) count; review and test apps are ephemeral, reported in ``warnings`` and left out."""
    apps = [a for a in info["apps"] if (a.get("pipeline") or {}).get("stage") in STAGES]
    warnings = [
        "%s (stage %s) is not migrated: review and test apps are ephemeral"
        % (a["app"]["name"], (a.get("pipeline") or {}).get("stage"))
        for a in info["apps"]
        if a not in apps
    ]
    regions = sorted(set(a["app"]["region"] for a in apps if a["app"]["region"]))
    if not apps:
        return dict(
            scenario="unsupported",
            reason="pipeline has no apps in a development, staging or production stage",
            region=None,
            warnings=warnings,
        )
    if len(regions) > 1:
        return dict(
            scenario="unsupported",
            reason="pipeline spans several regions (%s): a Northflank project has one region" % ", ".join(regions),
            region=None,
            warnings=warnings,
        )
    refused = [
        "%s: %s" % (a["app"]["name"], a["migration"]["reason"])
        for a in apps
        if a["migration"]["scenario"] == "unsupported"
    ]
    if refused:
        return dict(
            scenario="unsupported",
            reason="apps that cannot be migrated: " + "; ".join(refused),
            region=regions[0] if regions else None,
            warnings=warnings,
        )
    return dict(scenario="pipeline", reason=None, region=regions[0] if regions else None, warnings=warnings)


# -- the cut-over's switch: which copied variables become links to which Northflank addons ----------------------
# The key of each Northflank addon type that holds what a Heroku add-on's connection-string config var held (the API's
# addon keys: GET /v1/addon-types). The types listed are switched by the cut-over: PostgreSQL once its data is imported
# and verified (the cut-over stops before the switch otherwise), Redis at once (its data is not moved: usually a cache;
# docs/cutover.md). MySQL and MongoDB data is moved by hand, so their config vars stay on Heroku's until the user links
# them (the report says how).
SWITCH_KEYS = {"postgresql": "POSTGRES_URI", "redis": "REDIS_MASTER_URL"}


def switch_links(info, addons):
    """What the switch does for one Heroku app (``info``) given the unit's planned Northflank addons (``addons``, the
    plan's addon items, ``heroku_addon`` naming the add-on each replaces): ``(links, removed)``. ``links`` are
    northflank_secret_group ``addon_links`` (each addon's connection-string key under the app's config var names of the
    add-on as aliases); ``removed`` the config var names those aliases take over, which the runtime variables drop. An
    add-on attached to the app but planned with another app of the unit is linked too. Names only, never a value."""
    by_heroku = dict((a.get("heroku_addon"), a) for a in addons or [])
    links, removed = {}, []
    for attachment in info.get("addons") or []:
        target = by_heroku.get(attachment.get("name"))
        key = SWITCH_KEYS.get((target or {}).get("type"))
        names = [n for n in attachment.get("config_vars") or [] if n not in removed]
        if not key or not names:
            continue
        link = links.setdefault(target["name"], dict(addon=target["name"], keys=[dict(name=key, aliases=[])]))
        link["keys"][0]["aliases"] = sorted(link["keys"][0]["aliases"] + names)
        removed.extend(names)
    return [links[k] for k in sorted(links)], sorted(removed)


def is_switched(state):
    """Whether a unit's cut-over state file (its content, ``{}`` without one) says the switch was made and not undone by
    a rollback: the plan then keeps the addon links and leaves the variables they replace out (migrate.yml, verify.yml
    and the cut-over's pre-flight keep the switch). A switch written but not yet restarted counts as made."""
    switch = (state or {}).get("switch") or {}
    return bool(switch.get("written_at") or switch.get("switched_at")) and not switch.get("undone_at")

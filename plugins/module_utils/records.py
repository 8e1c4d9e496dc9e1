# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The records of a unit, built here and only here: what the modules did (the report), what runs (the
verification). Names and states only, never a value. No I/O here: unit-tested directly.
"""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_git import redact_url


RESOURCE_KINDS = ("git_mirrors", "project", "addons", "services", "jobs", "secret_groups", "domains", "pipeline", "release_flows")
# heroku_git_mirror's status -> the report's words
GIT_ACTIONS = {"mirrored": "mirrored", "would_mirror": "would mirror", "up_to_date": "up to date", "empty": "empty"}
UNCHANGED = ("unchanged", "skipped", "up to date", "empty")
PLAN_MODES = ("plan", "verify")  # check mode: what would be done, nothing done


def _action(result, mode):
    if result.get("failed"):
        return "failed"
    if result.get("skipped"):
        return "skipped"
    if not result.get("changed"):
        return "unchanged"
    created = (result.get("diff") or {}).get("before") in ({}, None)
    verb = ("create" if created else "update")
    return "would " + verb if mode in PLAN_MODES else verb + "d"


def _git_mirror(result, spec, todo):
    """The report line of one heroku_git_mirror result; an empty Heroku repository leaves a to-do."""
    if result.get("failed") or result.get("skipped"):
        action = "failed" if result.get("failed") else "skipped"
    else:
        action = GIT_ACTIONS.get(result.get("status"), "unchanged")
    if action == "empty":
        todo.append("%s: the Heroku Git repository is empty (the app was not deployed with git push): push its source to %s, "
                    "branch %s, yourself" % (spec.get("app"), redact_url(spec.get("target_url")), spec.get("branch")))
    return dict(kind="git_mirrors", name=spec.get("app"), action=action, changed_paths=result.get("changed_refs") or [],
                message=result.get("msg") if result.get("failed") else None)


def _hostname(subdomain, domain):
    """``www`` of ``acme.com`` is ``www.acme.com``; ``@`` is the domain itself."""
    if not domain:
        return subdomain
    return domain if subdomain in (None, "@") else "%s.%s" % (subdomain, domain)


def unit_record(plan, results, mode):
    """One unit's record for the report: what each resource task did (names only), skipped, to-do."""
    resources, dns, todo = [], [], list(plan["todo"])
    for kind in RESOURCE_KINDS:
        result = results.get(kind)
        if not result:
            continue
        items = result.get("results") if "results" in result else [result]
        for item in items:
            spec = item.get("item") or plan.get(kind) or {}
            if kind == "git_mirrors":
                resources.append(_git_mirror(item, spec, todo))
                continue
            name = spec.get("name") or spec.get("domain") or spec.get("stage")
            resources.append(dict(kind=kind, name=name, action=_action(item, mode), changed_paths=item.get("changed_paths") or [],
                                  message=item.get("msg") if item.get("failed") else None))
            dns.extend(item.get("dns_records") or [])
            domain = (item.get("item") or {}).get("domain")
            todo.extend("%s: %s" % (_hostname(p.get("name"), domain), p.get("reason")) for p in item.get("pending") or [])
    failed = any(r["action"] == "failed" for r in resources)
    return dict(unit=plan["unit"], scenario=plan["scenario"], kind=plan["kind"], mode=mode,
                status="failed" if failed else ("planned" if mode in PLAN_MODES else "migrated"),
                project=plan["project"]["name"], region=plan["project"]["region"], resources=resources,
                changed=sum(1 for r in resources if r["action"] not in UNCHANGED),
                skipped=plan["skipped"], todo=todo, warnings=plan["warnings"], renamed=plan["renamed"], dns_records=dns,
                tables_version=plan.get("tables_version"), heroku=plan.get("heroku") or [])


# -- verification of a migrated unit -------------------------------------------------------------------
SERVICE_OK = dict(deployment="COMPLETED", build="SUCCESS")
ADDON_OK = "running"


def _items(result):
    """The items of a registered (loop) result."""
    if not result:
        return []
    return result.get("results") if "results" in result else [result]


def _runtime_service(item):
    spec, found = item.get("item") or {}, item.get("services") or []
    name = spec.get("name")
    if not found:
        return [dict(kind="services", name=name, state="missing", ok=False, reason="service %s does not exist" % name)]
    status = found[0].get("status") or {}
    checks = []
    for part in ("build", "deployment"):
        state = (status.get(part) or {}).get("status")
        if state is None and part == "build" and spec.get("type") in ("build", "combined"):
            state = "no build yet"  # the services that build
        if state is None:
            continue
        ok = state == SERVICE_OK[part]
        label, reason = "%s %s" % (part, state), None if ok else "service %s: %s is %s, not %s" % (name, part, state, SERVICE_OK[part])
        if state == "no build yet":
            label, reason = "no build", "service %s has no build yet: push to its branch or start a build" % name
        checks.append(dict(kind="services", name=name, state=label, ok=ok, reason=reason))
    return checks


def _runtime_addon(item):
    name, addon = (item.get("item") or {}).get("name"), item.get("addon")
    if not addon:
        return [dict(kind="addons", name=name, state="missing", ok=False, reason="addon %s does not exist" % name)]
    state = addon.get("status")
    ok = state == ADDON_OK
    return [dict(kind="addons", name=name, state=state, ok=ok, reason=None if ok else "addon %s is %s, not %s" % (name, state, ADDON_OK))]


def _runtime_domain(item):
    domain = item.get("domain") or {}
    name = domain.get("name") or (item.get("item") or {}).get("domain")
    checks = [dict(kind="domains", name=name, state=domain.get("status"), ok=domain.get("status") == "verified",
                   reason=None if domain.get("status") == "verified" else "domain %s is not verified: publish its TXT record" % name)]
    for sub in item.get("subdomains") or []:
        full = sub.get("fullName") or _hostname(sub.get("name"), name)
        verified = bool(sub.get("verified"))
        checks.append(dict(kind="domains", name=full, state="verified" if verified else "not verified", ok=verified,
                           reason=None if verified else "subdomain %s is not verified: publish its %s record" % (full, sub.get("recordType") or "CNAME")))
    return checks


def verify_record(record, runtime):
    """A unit's record (from unit_record in mode ``verify``, i.e. check mode) completed with the runtime state of what was created.

    ``runtime`` holds the registered results of ``northflank_service_info`` (``services``) and ``northflank_addon_info``
    (``addons``) looped over the plan's items, and of the domain task (``domains``). The status becomes ``drift`` when anything
    would be created or changed, ``attention`` when nothing would change but something is not running or verified yet,
    ``verified`` otherwise; ``failed`` and ``unsupported`` records are returned as they are. ``reasons`` lists why.
    """
    if record.get("status") in ("failed", "unsupported"):
        return record
    checks = []
    for item in _items(runtime.get("services")):
        checks.extend(_runtime_service(item))
    for item in _items(runtime.get("addons")):
        checks.extend(_runtime_addon(item))
    for item in _items(runtime.get("domains")):
        checks.extend(_runtime_domain(item))
    drift = ["%s %s: %s%s" % (r["kind"], r["name"], r["action"], " (%s)" % ", ".join(r["changed_paths"]) if r["changed_paths"] else "")
             for r in record["resources"] if r["action"] not in UNCHANGED]
    drift += [c["reason"] for c in checks if c["state"] == "missing"]  # check mode would create it too
    attention = [c["reason"] for c in checks if not c["ok"] and c["state"] != "missing"]
    status = "drift" if drift else ("attention" if attention else "verified")
    return dict(record, mode="verify", status=status, reasons=drift + attention,
                runtime=[dict(kind=c["kind"], name=c["name"], state=c["state"], ok=c["ok"]) for c in checks])


# -- the record of a unit, whatever happened to it -----------------------------------------------------
def _empty_record(unit, kind, scenario, status, mode, what, why):
    return dict(unit=unit, kind=kind or "unknown", scenario=scenario or "unknown", mode=mode, status=status, project=None,
                region=None, resources=[], changed=0, skipped=[dict(what=what, why=why)], todo=[], warnings=[], renamed=[],
                dns_records=[])


def failure_record(unit, kind, mode, why, scenario=None):
    """The record of a unit that failed: the API's or the mapping's words, never a value."""
    return _empty_record(unit, kind, scenario, "failed", mode, unit, why)


def unsupported_record(unit, kind, mode, reason):
    """The record of a unit the rules refuse (``migration.scenario`` ``unsupported``), with the rules' reason."""
    return _empty_record(unit, kind, "unsupported", "unsupported", mode, "%s %s" % (kind, unit), reason)


def failure_message(result):
    """Why a task failed, from its registered result: a loop names each failed item's message, not "One or more items failed"."""
    failed = [r for r in (result.get("results") or []) if isinstance(r, dict) and r.get("failed")]
    messages = [str(r.get("msg")) for r in failed if r.get("msg")]
    return "; ".join(messages) if messages else str(result.get("msg") or "failed")


def migration_record(unit, host, mode, info=None, plan=None, results=None, runtime=None, failure=None, strict=False):
    """The one record of one unit, whatever happened to it, for the report.

    ``unit`` is ``{kind, name}``; ``info`` what discovery read (its ``migration`` block decides: the scenario is read here,
    never decided); ``plan`` the plan's resources, ``results`` the registered results of the tasks that applied it and
    ``runtime`` those that read it back (mode ``verify``); ``failure`` the failed task's result when the unit failed.
    A unit the rules refuse is ``unsupported``, or ``failed`` under ``strict``.
    """
    migration = (info or {}).get("migration") or {}
    scenario, kind, name = migration.get("scenario"), unit.get("kind"), unit.get("name")
    # A record is named by its inventory host (``unit``), unique even where an app has the name of a pipeline, and
    # keeps the Heroku name (``heroku_name``).
    if failure:
        record = failure_record(host, kind, mode, failure_message(failure), scenario)
    elif scenario == "unsupported" and strict:
        record = failure_record(host, kind, mode, "%s cannot be migrated: %s" % (name, migration.get("reason")), scenario)
    elif scenario == "unsupported":
        record = unsupported_record(name, kind, mode, migration.get("reason"))
    elif not plan:
        record = failure_record(host, kind, mode, "%s was not planned: its discovery returned no migration block" % name,
                                scenario)
    else:
        record = unit_record(plan, results or {}, mode)
        if mode == "verify":
            record = verify_record(record, runtime or {})
    return dict(record, unit=host, heroku_name=name)


def report_summary(record):
    """A unit's record in short, for ``set_stats`` (AWX job artifacts, workflow nodes): status, counts and what is left to
    do. Names and reasons only, as in the record: never a value."""
    actions = {}
    for resource in record.get("resources") or []:
        actions[resource["action"]] = actions.get(resource["action"], 0) + 1
    dns = ["publish DNS %s %s -> %s" % (d.get("type"), d.get("name"), d.get("value")) for d in record.get("dns_records") or []]
    reasons = list(record.get("reasons") or [])
    if record.get("status") in ("failed", "unsupported"):
        reasons += [s.get("why") for s in record.get("skipped") or []]
    return dict(unit=record.get("unit"), scenario=record.get("scenario"), status=record.get("status"), project=record.get("project"),
                resources=len(record.get("resources") or []), changed=record.get("changed", 0), actions=actions,
                skipped=len(record.get("skipped") or []), warnings=len(record.get("warnings") or []),
                todo=list(record.get("todo") or []) + dns, reasons=reasons)

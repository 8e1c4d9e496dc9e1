# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The records of a unit, built here and only here: what the modules did (the report), what runs (the
verification). Names and states only, never a value. No I/O here: unit-tested directly.
"""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_git import redact_url


RESOURCE_KINDS = (
    "git_mirrors",
    "project",
    "addons",
    "services",
    "jobs",
    "secret_groups",
    "domains",
    "pipeline",
    "release_flows",
)
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
    verb = "create" if created else "update"
    return "would " + verb if mode in PLAN_MODES else verb + "d"


def _git_mirror(result, spec, todo):
    """The report line of one heroku_git_mirror result; an empty Heroku repository leaves a to-do."""
    if result.get("failed") or result.get("skipped"):
        action = "failed" if result.get("failed") else "skipped"
    else:
        action = GIT_ACTIONS.get(result.get("status"), "unchanged")
    if action == "empty":
        todo.append(
            "%s: the Heroku Git repository is empty (the app was not deployed with git push): push its source to %s, "
            "branch %s, yourself" % (spec.get("app"), redact_url(spec.get("target_url")), spec.get("branch"))
        )
    return dict(
        kind="git_mirrors",
        name=spec.get("app"),
        action=action,
        changed_paths=result.get("changed_refs") or [],
        message=result.get("msg") if result.get("failed") else None,
    )


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
            resources.append(
                dict(
                    kind=kind,
                    name=name,
                    action=_action(item, mode),
                    changed_paths=item.get("changed_paths") or [],
                    message=item.get("msg") if item.get("failed") else None,
                )
            )
            dns.extend(item.get("dns_records") or [])
            domain = (item.get("item") or {}).get("domain")
            todo.extend(
                "%s: %s" % (_hostname(p.get("name"), domain), p.get("reason")) for p in item.get("pending") or []
            )
    failed = any(r["action"] == "failed" for r in resources)
    return dict(
        unit=plan["unit"],
        scenario=plan["scenario"],
        kind=plan["kind"],
        mode=mode,
        status="failed" if failed else ("planned" if mode in PLAN_MODES else "migrated"),
        project=plan["project"]["name"],
        region=plan["project"]["region"],
        resources=resources,
        changed=sum(1 for r in resources if r["action"] not in UNCHANGED),
        skipped=plan["skipped"],
        todo=todo,
        warnings=plan["warnings"],
        renamed=plan["renamed"],
        dns_records=dns,
        tables_version=plan.get("tables_version"),
        heroku=plan.get("heroku") or [],
    )


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
        label, reason = (
            "%s %s" % (part, state),
            None if ok else "service %s: %s is %s, not %s" % (name, part, state, SERVICE_OK[part]),
        )
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
    return [
        dict(
            kind="addons",
            name=name,
            state=state,
            ok=ok,
            reason=None if ok else "addon %s is %s, not %s" % (name, state, ADDON_OK),
        )
    ]


def _runtime_domain(item):
    domain = item.get("domain") or {}
    name = domain.get("name") or (item.get("item") or {}).get("domain")
    checks = [
        dict(
            kind="domains",
            name=name,
            state=domain.get("status"),
            ok=domain.get("status") == "verified",
            reason=None
            if domain.get("status") == "verified"
            else "domain %s is not verified: publish its TXT record" % name,
        )
    ]
    for sub in item.get("subdomains") or []:
        full = sub.get("fullName") or _hostname(sub.get("name"), name)
        verified = bool(sub.get("verified"))
        checks.append(
            dict(
                kind="domains",
                name=full,
                state="verified" if verified else "not verified",
                ok=verified,
                reason=None
                if verified
                else "subdomain %s is not verified: publish its %s record" % (full, sub.get("recordType") or "CNAME"),
            )
        )
    return checks


def verify_record(record, runtime):
    """A unit's record (from unit_record in mode ``verify``, i.e. check mode) completed with the runtime state of what
    was created.

    ``runtime`` holds the registered results of ``northflank_service_info`` (``services``) and ``northflank_addon_info``
    (``addons``) looped over the plan's items, and of the domain task (``domains``). The status becomes ``drift`` when
    anything
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
    drift = [
        "%s %s: %s%s"
        % (r["kind"], r["name"], r["action"], " (%s)" % ", ".join(r["changed_paths"]) if r["changed_paths"] else "")
        for r in record["resources"]
        if r["action"] not in UNCHANGED
    ]
    drift += [c["reason"] for c in checks if c["state"] == "missing"]  # check mode would create it too
    attention = [c["reason"] for c in checks if not c["ok"] and c["state"] != "missing"]
    status = "drift" if drift else ("attention" if attention else "verified")
    return dict(
        record,
        mode="verify",
        status=status,
        reasons=drift + attention,
        runtime=[dict(kind=c["kind"], name=c["name"], state=c["state"], ok=c["ok"]) for c in checks],
    )


# -- the record of a unit, whatever happened to it -----------------------------------------------------
def _empty_record(unit, kind, scenario, status, mode, what, why):
    return dict(
        unit=unit,
        kind=kind or "unknown",
        scenario=scenario or "unknown",
        mode=mode,
        status=status,
        project=None,
        region=None,
        resources=[],
        changed=0,
        skipped=[dict(what=what, why=why)],
        todo=[],
        warnings=[],
        renamed=[],
        dns_records=[],
    )


def failure_record(unit, kind, mode, why, scenario=None):
    """The record of a unit that failed: the API's or the mapping's words, never a value."""
    return _empty_record(unit, kind, scenario, "failed", mode, unit, why)


def unsupported_record(unit, kind, mode, reason):
    """The record of a unit the rules refuse (``migration.scenario`` ``unsupported``), with the rules' reason."""
    return _empty_record(unit, kind, "unsupported", "unsupported", mode, "%s %s" % (kind, unit), reason)


def failure_message(result):
    """Why a task failed, from its registered result: a loop names each failed item's message, not "One or more items
    failed"."""
    failed = [r for r in (result.get("results") or []) if isinstance(r, dict) and r.get("failed")]
    messages = [str(r.get("msg")) for r in failed if r.get("msg")]
    return "; ".join(messages) if messages else str(result.get("msg") or "failed")


def migration_record(unit, host, mode, info=None, plan=None, results=None, runtime=None, failure=None, strict=False):
    """The one record of one unit, whatever happened to it, for the report.

    ``unit`` is ``{kind, name}``; ``info`` what discovery read (its ``migration`` block decides: the scenario is read
    here,
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
        record = failure_record(
            host, kind, mode, "%s cannot be migrated: %s" % (name, migration.get("reason")), scenario
        )
    elif scenario == "unsupported":
        record = unsupported_record(name, kind, mode, migration.get("reason"))
    elif not plan:
        record = failure_record(
            host, kind, mode, "%s was not planned: its discovery returned no migration block" % name, scenario
        )
    else:
        record = unit_record(plan, results or {}, mode)
        if mode == "verify":
            record = verify_record(record, runtime or {})
    return dict(record, unit=host, heroku_name=name)


def report_summary(record):
    """A unit's record in short, for ``set_stats`` (AWX job artifacts, workflow nodes): status, counts and what is left
    to
    do. Names and reasons only, as in the record: never a value."""
    actions = {}
    for resource in record.get("resources") or []:
        actions[resource["action"]] = actions.get(resource["action"], 0) + 1
    dns = [
        "publish DNS %s %s -> %s" % (d.get("type"), d.get("name"), d.get("value"))
        for d in record.get("dns_records") or []
    ]
    reasons = list(record.get("reasons") or [])
    if record.get("status") in ("failed", "unsupported"):
        reasons += [s.get("why") for s in record.get("skipped") or []]
    return dict(
        unit=record.get("unit"),
        scenario=record.get("scenario"),
        status=record.get("status"),
        project=record.get("project"),
        resources=len(record.get("resources") or []),
        changed=record.get("changed", 0),
        actions=actions,
        skipped=len(record.get("skipped") or []),
        warnings=len(record.get("warnings") or []),
        todo=list(record.get("todo") or []) + dns,
        reasons=reasons,
    )


# -- the cut-over and the rollback (playbooks/cutover.yml, rollback.yml) -------------------------------
CUTOVER_OK = ("verified", "attention")
TTL_ADVICE = (
    "a day before the switch, lower the TTL of the DNS records to change to 60-300 s; publish the records below at the "
    "switch, then run migrate.yml with herokumigrate_verify_domains: true"
)


def _heroku_apps(info, kind):
    """The Heroku apps of a unit's discovery: the app, or every app of a pipeline."""
    info = info or {}
    return [info] if kind == "app" else list(info.get("apps") or [])


def cutover_apps(info, kind):
    """The names of the Heroku apps a cut-over freezes."""
    return [a["app"]["name"] for a in _heroku_apps(info, kind) if (a.get("app") or {}).get("name")]


def _url_var(names):
    names = list(names or [])
    urls = [n for n in names if n.endswith("_URL")]
    return (urls or names or [None])[0]


def cutover_sources(info, kind, plan):
    """One line per data add-on the plan moves (names only): the Heroku add-on, its app, the config var holding its
    connection
    string, the Northflank addon; ``import`` when the collection imports it (PostgreSQL), otherwise ``manual`` says
    how."""
    by_name = {}
    for app in _heroku_apps(info, kind):
        for addon in app.get("addons") or []:
            by_name.setdefault(addon["name"], (app["app"]["name"], addon))
    out = []
    for spec in (plan or {}).get("addons") or []:
        app, addon = by_name.get(spec.get("heroku_addon"), (None, {}))
        var = _url_var(addon.get("config_vars"))
        item = dict(
            app=app,
            heroku_addon=spec.get("heroku_addon"),
            heroku_plan=spec.get("heroku_plan"),
            config_var=var,
            project=spec["project"],
            addon=spec["name"],
            type=spec["type"],
            import_=spec["type"] == "postgresql" and bool(var),
        )
        if not item["import_"]:
            item["manual"] = _manual_data(item)
        out.append(dict((k.rstrip("_"), v) for k, v in item.items()))
    return out


def _manual_data(item):
    if item["type"] == "redis":
        return (
            "%s (%s) of %s: not moved (usually a cache); if it holds state, drain its queues before the freeze, or "
            "copy it with "
            'redis-cli --rdb dump.rdb -u "$(heroku config:get %s -a %s)" and restore the file into Northflank addon %s'
            % (item["heroku_addon"], item["heroku_plan"], item["app"], item["config_var"], item["app"], item["addon"])
        )
    if item["type"] == "mysql":
        return (
            '%s (%s) of %s: move it by hand: mysqldump --single-transaction from "$(heroku config:get %s -a %s)" | '
            'mysql into '
            "Northflank addon %s"
            % (item["heroku_addon"], item["heroku_plan"], item["app"], item["config_var"], item["app"], item["addon"])
        )
    if item["type"] == "mongodb":
        return (
            '%s (%s) of %s: move it by hand: mongodump --uri "$(heroku config:get %s -a %s)" --archive | mongorestore '
            '--archive '
            "into Northflank addon %s"
            % (item["heroku_addon"], item["heroku_plan"], item["app"], item["config_var"], item["app"], item["addon"])
        )
    return "%s (%s) of %s: no connection string found: move its data into Northflank addon %s by hand" % (
        item["heroku_addon"],
        item["heroku_plan"],
        item["app"],
        item["addon"],
    )


def cutover_source_urls(info, kind, sources):
    """``{heroku add-on name: connection string}`` for the add-ons imported. Secret: used only in no_log tasks."""
    values = dict((a["app"]["name"], a.get("config_vars") or {}) for a in _heroku_apps(info, kind))
    return dict((s["heroku_addon"], values.get(s["app"], {}).get(s["config_var"])) for s in sources if s.get("import"))


def cutover_blockers(record):
    """Why a unit (its verify record) may not be cut over; empty when it is converged and everything runs."""
    status = record.get("status")
    if status in ("failed", "unsupported"):
        return [s.get("why") for s in record.get("skipped") or []] or [status]
    reasons = [
        "%s %s: %s" % (r["kind"], r["name"], r["action"])
        for r in record.get("resources") or []
        if r["action"] not in UNCHANGED
    ]
    reasons += [
        "%s %s is %s" % (c["kind"], c["name"], c["state"])
        for c in record.get("runtime") or []
        if not c["ok"] and c["kind"] in ("services", "addons")
    ]
    if status not in CUTOVER_OK and not reasons:
        reasons.append("verification says %s" % status)
    return reasons


def cutover_freeze_formation(formation, types=None):
    """The formation of a frozen app: the process types that write (``types``; empty: every type but web) at 0."""
    names = [t for t in (formation or {}) if (t in types if types else t != "web")]
    return dict((t, 0) for t in names)


def cutover_state(state, unit, found=None, now=None):
    """The state file's content after the Heroku state was read: the state found before the first freeze is kept (a
    re-run
    finds the app frozen); ``found`` is the registered loop of heroku_app_state reads. No secret: names, booleans,
    numbers."""
    state = dict(state or {})
    if state.get("rolled_back_at"):
        state = new_attempt(state)
    state.setdefault("unit", unit)
    state.setdefault("attempt", 1)
    if not state.get("attempt_id"):
        state["attempt_id"] = attempt_id(state["attempt"], now)
    heroku = dict(state.get("heroku") or {})
    for item in _items(found):
        app = item.get("item")
        if app and item.get("before") and not (heroku.get(app) or {}).get("before"):
            heroku[app] = dict(before=item["before"], recorded_at=now)
    state["heroku"] = heroku
    return state


def attempt_id(attempt, now):
    """The ID of a cut-over attempt (``cutover-<attempt>-<UTC time>``): the key of its release-phase run
    (northflank_job_run), so that the release phase runs once per attempt, and again in the next attempt."""
    stamp = "".join(c for c in (now or "")[:19] if c.isdigit()) or "0"
    return "cutover-%d-%s" % (int(attempt or 1), stamp)


def new_attempt(state):
    """The state of the next cut-over attempt of a unit rolled back: what the last attempt did is kept in ``history``
    (names and times); the Heroku state is read again before the next freeze, the data imported again under names of
    the new attempt (cutover_import_name), the switch made again and the release phase run again (a new key)."""
    last = dict((k, state.get(k)) for k in ("attempt", "attempt_id", "rolled_back_at") if state.get(k) is not None)
    last["released"] = sorted(state.get("release") or {})
    last["switched"] = bool((state.get("switch") or {}).get("switched_at"))
    return dict(unit=state.get("unit"), attempt=int(state.get("attempt") or 1) + 1,
                history=list(state.get("history") or []) + [last])


def cutover_import_name(heroku_addon, state):
    """The name the import of a Heroku add-on's data is started under (northflank_addon_import source_name): the
    add-on's name in the first attempt, with ``-<attempt>`` after it in the next ones (an import is made once per
    name)."""
    attempt = int((state or {}).get("attempt") or 1)
    return heroku_addon if attempt <= 1 else "%s-%d" % (heroku_addon, attempt)


def _switch_groups(switch):
    """The state file's account of a switch (names only): per group, the addons linked and the variable names each
    key is linked under, the variables removed (from the group, or from a single-dyno app's service and jobs)."""
    return [
        dict(
            app=e.get("app"),
            group=e["group"],
            holder=e["holder"],
            service=e.get("service"),
            jobs=[j["name"] for j in e.get("jobs") or []],
            links=[
                dict(addon=link["addon"], key=k["name"], aliases=list(k.get("aliases") or []))
                for link in e.get("links") or []
                for k in link["keys"]
            ],
            removed=list(e.get("remove") or []),
        )
        for e in switch or []
        if e.get("links")
    ]


def cutover_switch_state(state, switch, step, now=None):
    """The state file's content after a step of the switch: ``written`` (the groups, services and jobs were written:
    from now on migrate.yml keeps the switch) or ``restarted`` (the services restarted healthy: the switch is done, a
    re-run skips it). ``switch`` is the plan's switch (its entries with links are recorded). Names only."""
    state = dict(state or {})
    record = dict(state.get("switch") or {})
    if step == "written" and not record.get("written_at"):
        record.update(attempt=state.get("attempt", 1), written_at=now, groups=_switch_groups(switch))
    if step == "restarted" and not record.get("switched_at"):
        restarted = sorted(s for e in switch or [] if e.get("links") for s in e.get("restart") or [])
        record.update(switched_at=now, restarted=restarted)
    state["switch"] = record
    return state


def rollback_state(state, step, now=None):
    """The state file's content after a rollback step: ``switch`` (the switch undone: the Heroku connection strings are
    back, the links gone; migrate.yml no longer keeps the switch) or ``done`` (the rollback ended: the next cut-over is
    a new attempt). A second rollback leaves it as it is."""
    state = dict(state or {})
    if step == "switch" and (state.get("switch") or {}).get("written_at"):
        if not state["switch"].get("undone_at"):
            state["switch"] = dict(state["switch"], undone_at=now)
    if step == "done" and state and not state.get("rolled_back_at"):
        state["rolled_back_at"] = now
    return state


def rollback_switch_items(state, switch):
    """The plan's switch entries (``switch``: names and secret references) of the groups the state file says the
    switch wrote and no rollback has undone: what the rollback puts back."""
    record = (state or {}).get("switch") or {}
    if not record.get("written_at") or record.get("undone_at"):
        return []
    done = set(g["group"] for g in record.get("groups") or [])
    return [e for e in switch or [] if e.get("group") in done]


def _loop_ok(result):
    return [i for i in _items(result) if not i.get("skipped")]


def cutover_record(
    base, mode, check_mode=False, state=None, sources=None, results=None, settings=None, failure=None, step=None
):
    """The record of one unit's cut-over (or rollback): the verify record's resources and DNS records, plus ``cutover``,
    one
    line per step in order (``step``, ``status``, ``detail``), and the status: ``failed`` (with why), ``planned`` (check
    mode),
    ``data moved, not switched``, ``cut over`` (switched by hand and released) or, for a rollback, ``rolled back``."""
    base = dict(base or {})
    results, settings, state, sources = results or {}, settings or {}, state or {}, sources or []
    record = dict(base, mode=mode, changed=0, reasons=[], resources=[])  # the steps say what the cut-over did
    record.setdefault("todo", [])
    record.setdefault("skipped", [])
    record.setdefault("dns_records", [])
    todo = [t for t in record["todo"] if "move the data of" not in t and "the release phase" not in t]
    steps = []
    would = check_mode

    def add(name, status, detail):
        steps.append(dict(step=name, status=status, detail=detail))

    if mode == "rollback":
        return _rollback_record(record, state, results, failure, check_mode)

    blockers = results.get("blockers")
    if blockers:
        add("pre-flight", "failed", "; ".join(blockers))
    elif results.get("preflight_done"):
        add("pre-flight", "done", "converged, every build succeeded and every deployment runs")
    # freeze
    freeze = _loop_ok(results.get("freeze"))
    if freeze:
        changes = [c for i in freeze for c in i.get("changes") or []]
        add(
            "freeze",
            ("would freeze" if would else "frozen") if changes else "already frozen",
            "; ".join(
                "%s: maintenance on, %s at 0"
                % (
                    i.get("item", {}).get("item"),
                    ", ".join(
                        sorted(
                            cutover_freeze_formation(
                                (i.get("item") or {}).get("before", {}).get("formation"), settings.get("freeze_types")
                            )
                        )
                    )
                    or "no writer",
                )
                for i in freeze
            )
            + ("; state found before in the state file" if not would else ""),
        )
        record["changed"] += sum(1 for i in freeze if i.get("changed"))
    elif results.get("freeze_checked"):
        add("freeze", "skipped", "Heroku not frozen: writes during the copy are lost; set herokumigrate_heroku_writes")
    # data
    for s in sources:
        if not s.get("import"):
            add("data", "manual", s["manual"])
            todo.append(s["manual"])
    imports = dict(((i.get("item") or {}).get("addon"), i) for i in _items(results.get("imports")))
    verifies = dict(((i.get("item") or {}).get("addon"), i) for i in _items(results.get("verify")))
    paths = dict(((i.get("item") or {}).get("addon"), i) for i in _items(results.get("search_path")))
    done = state.get("data") or {}
    for s in [s for s in sources if s.get("import")]:
        name = s["addon"]
        imp = imports.get(name) or {}
        if imp.get("failed"):
            add("data", "failed", "%s -> %s: %s" % (s["heroku_addon"], name, imp.get("msg")))
        elif imp and not imp.get("skipped"):
            verb = "would import" if would else ("imported" if imp.get("changed") else "already imported")
            add(
                "data",
                verb,
                "%s (%s) -> Northflank addon %s, import %s"
                % (s["heroku_addon"], s["config_var"], name, imp.get("name")),
            )
            record["changed"] += 1 if imp.get("changed") else 0
        elif (done.get(name) or {}).get("imported"):
            add(
                "data",
                "already imported",
                "%s -> Northflank addon %s, import %s" % (s["heroku_addon"], name, done[name].get("import")),
            )
        sp = paths.get(name) or {}
        if sp and not sp.get("skipped") and not sp.get("failed"):
            add(
                "search_path",
                "set" if sp.get("changed") else "unchanged",
                "%s: search_path %s"
                % (name, ", ".join(sp.get("after") or []) or "not set (no heroku_ext schema: nothing to fix)"),
            )
        ver = verifies.get(name) or {}
        if ver.get("failed"):
            add("verify", "failed", "%s: %s" % (name, "; ".join(ver.get("differences") or [str(ver.get("msg"))])))
        elif ver and not ver.get("skipped"):
            summary = ver.get("summary") or {}
            add(
                "verify",
                "passed",
                "%s: %s tables, %s rows, %s sequences the same"
                % (name, summary.get("tables"), summary.get("rows"), summary.get("sequences")),
            )
        elif (done.get(name) or {}).get("verified"):
            add("verify", "passed", "%s: verified on %s" % (name, done[name].get("verified_at")))
        elif would:
            add(
                "verify",
                "would verify",
                "%s: every table, sequence and extension against %s" % (name, s["heroku_addon"]),
            )
    # switch
    switched = bool(settings.get("switched"))
    reached_switch = results.get("switch_reached")
    if reached_switch:
        record["changed"] += _switch_steps(add, results, state, would)
        for s in sources:
            if not s.get("import") and s.get("config_var"):
                todo.append(
                    "%s: once its data is moved, link Northflank addon %s to the runtime variables of %s under %s "
                    "(northflank_secret_group addon_links aliases) in place of the copied value, then restart"
                    % (s["heroku_addon"], s["addon"], s["app"], s["config_var"])
                )
    # release phase
    release_done = state.get("release") or {}
    for job in settings.get("release_jobs") or []:
        run = next((i for i in _items(results.get("release")) if (i.get("item") or {}).get("name") == job), {})
        job_run = run.get("job_run") or {}
        if run.get("failed"):
            add("release", "failed", "%s: %s" % (job, run.get("msg")))
        elif run and not run.get("skipped"):
            verb = "would run" if would and not job_run else ("ran" if run.get("changed") else "already ran")
            status = job_run.get("status") or "to start"
            add("release", verb, "%s: %s (key %s)" % (job, status, state.get("attempt_id")))
            record["changed"] += 1 if run.get("changed") else 0
        elif job in release_done:
            add(
                "release",
                "already ran",
                "%s ran once on %s (state file, key %s): not run again"
                % (job, release_done[job].get("ran_at"), release_done[job].get("key")),
            )
        elif reached_switch:
            add("release", "waits for the switch", "%s runs once the switch is done" % job)
    # domains
    if record["dns_records"] and reached_switch:
        add(
            "domains",
            "manual",
            "%d DNS records to publish (listed below); %s" % (len(record["dns_records"]), TTL_ADVICE),
        )
        todo.append("DNS: " + TTL_ADVICE)
    if failure:
        why = failure_message(failure)
        if not any(s["status"] == "failed" for s in steps):
            add(step or "cut-over", "failed", why)
        record.update(status="failed", skipped=[dict(what=record.get("unit"), why=why)] + list(record["skipped"]))
    elif would:
        record["status"] = "planned"
    elif switched and all(j in release_done or _ran(steps, j) for j in settings.get("release_jobs") or []):
        record["status"] = "cut over"
    else:
        record["status"] = "data moved, not switched"
    record.update(todo=todo, cutover=steps)
    record.pop("runtime", None)
    return record


def _ran(steps, job):
    return any(
        s["step"] == "release" and s["status"] in ("ran", "already ran") and s["detail"].startswith(job + ":")
        for s in steps
    )


def _switch_line(entry):
    """``<group>: DATABASE_URL -> addon db (POSTGRES_URI); removed from service x`` (names only), of a plan's switch
    entry or of the state file's account of one."""
    links = entry.get("links") or []
    pairs = [
        (k.get("aliases"), link["addon"], k["name"]) for link in links for k in link.get("keys") or []
    ] or [(link.get("aliases"), link["addon"], link.get("key")) for link in links]
    text = "; ".join("%s -> addon %s (%s)" % (", ".join(aliases or []), addon, key) for aliases, addon, key in pairs)
    where = (
        "service %s%s" % (entry.get("service"), " and its jobs" if entry.get("jobs") else "")
        if entry.get("holder") == "service"
        else "the group"
    )
    return "secret group %s: %s; the copied values removed from %s" % (entry.get("group"), text, where)


def _switch_steps(add, results, state, would):
    """The switch's lines of a cut-over record; returns how many writes changed something."""
    groups = _loop_ok(results.get("switch_groups"))
    restarts = _loop_ok(results.get("switch_restarts"))
    writes = groups + _loop_ok(results.get("switch_services")) + _loop_ok(results.get("switch_jobs"))
    done = state.get("switch") or {}
    if groups or restarts:
        for item in groups:
            entry, changed = item.get("item") or {}, item.get("changed")
            if item.get("failed"):
                add("switch", "failed", "secret group %s: %s" % (entry.get("group"), item.get("msg")))
                continue
            add("switch", ("would switch" if would else "switched") if changed else "already switched",
                _switch_line(entry))
        for item in restarts:
            entry = item.get("item") or {}
            names = ", ".join(entry.get("restart") or [])
            if item.get("failed"):
                add("restart", "failed", "%s: %s" % (names, item.get("msg")))
            else:
                add("restart", "would restart" if would else "restarted", "%s: rolled out and healthy" % names
                    if not would else "%s, waiting until healthy" % names)
        return sum(1 for i in writes + restarts if i.get("changed"))
    if done.get("switched_at"):
        for group in done.get("groups") or []:
            add("switch", "already switched", _switch_line(group) + " (state file, %s)" % done["switched_at"])
        if not done.get("groups"):
            add("switch", "nothing to switch", "no Heroku data add-on config var that a Northflank addon replaces")
        return 0
    if results.get("switch_nothing"):
        add("switch", "nothing to switch", "no Heroku data add-on config var that a Northflank addon replaces")
    return 0


def _rollback_record(record, state, results, failure, check_mode):
    steps = _rollback_switch_steps(results, state, check_mode)  # in the order rollback.yml does them: switch first
    restores = _loop_ok(results.get("restore"))
    if not (state.get("heroku") or {}):
        steps.append(
            dict(
                step="heroku",
                status="nothing to restore",
                detail="no Heroku state recorded for this unit (never frozen)",
            )
        )
    for item in restores:
        app, before = (item.get("item") or {}).get("app"), (item.get("item") or {}).get("before") or {}
        wanted = "maintenance %s, %s" % (
            "on" if before.get("maintenance") else "off",
            ", ".join("%s %s" % (k, v) for k, v in sorted((before.get("formation") or {}).items())),
        )
        status = (
            "failed"
            if item.get("failed")
            else (("would restore" if check_mode else "restored") if item.get("changed") else "already as recorded")
        )
        steps.append(
            dict(
                step="heroku", status=status, detail="%s: %s" % (app, item.get("msg") if item.get("failed") else wanted)
            )
        )
        record["changed"] += 1 if item.get("changed") else 0
    if results.get("restore_skipped"):
        steps.append(
            dict(
                step="heroku",
                status="skipped",
                detail="Heroku not restored: set herokumigrate_heroku_writes: true to restore "
                "the recorded maintenance mode and formation",
            )
        )
    record["changed"] += sum(
        1
        for k in ("switch_groups", "switch_services", "switch_jobs", "switch_deleted", "switch_restarts")
        for i in _loop_ok(results.get(k))
        if i.get("changed")
    )
    steps.append(
        dict(
            step="data",
            status="not copied back",
            detail="data written to the Northflank databases since the switch is not "
            "copied back to Heroku: copy it by hand (pg_dump from Northflank, pg_restore into Heroku) before "
            "unfreezing, or accept the loss",
        )
    )
    todo = (
        ["DNS: point the records back to Heroku's herokudns.com targets if you published Northflank's"]
        if record.get("dns_records")
        else []
    )
    record.update(cutover=steps, todo=todo + [s["detail"] for s in steps if s["status"] in ("manual", "skipped")])
    if failure:
        why = failure_message(failure)
        record.update(status="failed", skipped=[dict(what=record.get("unit"), why=why)])
    else:
        record["status"] = (
            "planned"
            if check_mode
            else (
                "rolled back"
                if state.get("heroku") or (state.get("switch") or {}).get("written_at")
                else "nothing to roll back"
            )
        )
    record.pop("runtime", None)
    return record


def _rollback_switch_steps(results, state, check_mode):
    """The switch's lines of a rollback record."""
    record = state.get("switch") or {}
    items = [
        i
        for k in ("switch_groups", "switch_services", "switch_jobs", "switch_deleted", "switch_restarts")
        for i in _loop_ok(results.get(k))
    ]
    failed = [i for i in items if i.get("failed")]
    if failed:
        return [dict(step="switch", status="failed", detail="; ".join(str(i.get("msg")) for i in failed))]
    if not record.get("written_at"):
        return [
            dict(
                step="switch",
                status="nothing to undo",
                detail="the unit was not switched: its runtime variables still hold the Heroku connection strings",
            )
        ]
    if items:
        out = []
        for group in record.get("groups") or []:
            names = sorted(set(a for link in group.get("links") or [] for a in link.get("aliases") or []))
            addons = sorted(set(link["addon"] for link in group.get("links") or []))
            out.append(
                dict(
                    step="switch",
                    status="would undo" if check_mode else "undone",
                    detail="%s: %s back from Heroku in %s, the links to %s removed"
                    % (
                        group["group"],
                        ", ".join(names),
                        "service %s" % group.get("service") if group.get("holder") == "service" else "the group",
                        ", ".join(addons),
                    )
                    + ("" if group.get("holder") == "group" else " (the group deleted)"),
                )
            )
        restarts = _loop_ok(results.get("switch_restarts"))
        if restarts:
            names = [n for i in restarts for n in (i.get("item") or {}).get("restart") or []]
            out.append(
                dict(
                    step="restart",
                    status="would restart" if check_mode else "restarted",
                    detail="%s: back on the Heroku connection strings" % ", ".join(names),
                )
            )
        return out
    return [
        dict(
            step="switch",
            status="already undone",
            detail="the switch was undone on %s: the runtime variables hold the Heroku connection strings"
            % record.get("undone_at"),
        )
    ]


def cutover_target_url(envs, keys=("EXTERNAL_POSTGRES_URI", "POSTGRES_URI")):
    """The first of ``keys`` that an addon's credentials (``envs``) hold: its external connection string when it has
    one."""
    envs = envs or {}
    return next((envs[k] for k in keys if envs.get(k)), None)


def rollback_items(state):
    """``[{app, before}]`` of a unit's state file: what rollback gives back to each Heroku app."""
    return [
        dict(app=app, before=v["before"])
        for app, v in sorted(((state or {}).get("heroku") or {}).items())
        if (v or {}).get("before")
    ]


def with_recorded_formation(info, kind, state):
    """Discovery as it was before the cut-over's freeze: each app's formation quantities replaced by those the unit's
    state
    file recorded, so that plan, migrate and verify after a freeze do not scale Northflank down to the frozen Heroku
    (workers
    at 0). A state file of a unit rolled back, or none, leaves ``info`` as it is."""
    recorded = dict(
        (app, (v.get("before") or {}).get("formation")) for app, v in ((state or {}).get("heroku") or {}).items()
    )
    if not info or not recorded or (state or {}).get("rolled_back_at"):
        return info

    def restore(app_info):
        before = recorded.get((app_info.get("app") or {}).get("name"))
        if not before:
            return app_info
        rows = [
            dict(row, quantity=before.get(row.get("type"), row.get("quantity")))
            for row in app_info.get("formation") or []
        ]
        return dict(app_info, formation=rows)

    if kind == "app":
        return restore(info)
    return dict(info, apps=[restore(a) for a in info.get("apps") or []])

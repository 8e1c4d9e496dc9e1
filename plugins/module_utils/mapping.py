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

from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_git import redact_url


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


# -- composing a unit's plan ----------------------------------------------------------------
STAGES = ("development", "staging", "production")
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
        raise MappingError("%s: no Git repository for Heroku app %s: Northflank builds from Git. Mirror the Heroku Git "
                           "repository to your Git service and set herokumigrate_repositories['%s'].url "
                           "(or herokumigrate_repository_default.url with {app})" % (unit, app, app))
    return dict(project_url=url, project_type=repo.get("type") or default.get("type") or "github",
                account_login=repo.get("account_login") or default.get("account_login"),
                branch=repo.get("branch") or default.get("branch") or "main")


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
    return dict(app=app, source_url=source, target_url=target, branch=repo["branch"],
                branches=["%s:%s" % (b, repo["branch"]) for b in branches])


def domain_parts(hostname, apexes):
    """``("shop.acme.com" -> ("acme.com", "shop"))``: the registered domain and the subdomain. A
    user-given apex list wins (for public suffixes such as co.uk); else the last two labels."""
    for apex in sorted(apexes or [], key=len, reverse=True):
        if hostname == apex:
            return apex, "@"
        if hostname.endswith("." + apex):
            return apex, hostname[:-len(apex) - 1]
    labels = hostname.split(".")
    if len(labels) <= 2:
        return hostname, "@"
    return ".".join(labels[-2:]), ".".join(labels[:-2])


class UnitPlan(object):
    """Builds the resources of one migration unit. ``plan()`` returns a dict of module options per
    resource kind; secret values are kept apart in ``secrets`` and referenced by name, so the
    resources can be looped over and printed without printing a value."""

    def __init__(self, unit, settings):
        self.unit = unit
        self.s = settings
        self.renamed = []
        self.secrets = {}
        self.todo = []
        self.git_mirrors = []
        self.skipped = []
        self.warnings = []

    # -- small helpers --------------------------------------------------------------------
    def name(self, base, kind):
        return northflank_name(base, kind, self.renamed)

    def secret(self, ref, values):
        self.secrets[ref] = values
        return ref

    def plan_of(self, formation_row):
        if self.s.get("plan"):
            return self.s["plan"]
        return plan_for(formation_row.get("size"), self.s.get("plans") or {}, self.unit)

    def builder(self, info):
        if self.s.get("builder"):
            return self.s["builder"]
        stack = info["app"]["stack"]
        return builder_for(stack, self.s.get("builders") or {}, "%s (app %s)" % (self.unit, info["app"]["name"]))

    def buildpack(self, info):
        return dict(builder=self.builder(info), buildpacks=list(info.get("buildpacks") or []) or None)

    def variables(self, info, web):
        rule = self.s.get("variables") or {}
        return runtime_variables(info, rule, port=self.s.get("web_port", 8080) if web else None)

    def build_arguments(self, info):
        return runtime_variables(info, self.s.get("variables") or {})

    def web_port(self):
        return dict(name=WEB_PORT_NAME, internal_port=int(self.s.get("web_port", 8080)), public=True, protocol="HTTP")

    def health_checks(self):
        path = self.s.get("health_check_path")
        port = int(self.s.get("web_port", 8080))
        if path:
            return [dict(type="readiness", protocol="HTTP", path=path, port=port)]
        # Heroku has no health checks; a TCP probe on $PORT is what its router effectively expects.
        return [dict(type="readiness", protocol="TCP", port=port)]

    def report_app(self, info):
        """What the user must still do, and what is left out, for one app (names only, never values)."""
        app = info["app"]["name"]
        dropped = dropped_variables(info, self.s.get("variables") or {})
        if dropped:
            self.skipped.append(dict(what="config vars of %s: %s" % (app, ", ".join(dropped)), why="set by Heroku itself"))
        for addon in info.get("addons") or []:
            if addon_type_for(addon["service"], self.s) is None and addon["service"] != "scheduler":
                self.skipped.append(dict(what="add-on %s (%s) of %s" % (addon["name"], addon["plan"], app),
                                         why="no Northflank equivalent: its config vars are copied, the service stays at its provider"))
        if info.get("scheduler", {}).get("available") is False:
            self.todo.append("%s: the Heroku Scheduler jobs could not be read; list them in herokumigrate_scheduler_jobs" % app)
        for d in info.get("custom_domains") or []:
            self.todo.append("%s: publish the DNS records of %s (see the domain's records), then re-run with herokumigrate_verify_domains" % (app, d))
        self.git_mirrors.append(git_mirror_for(info, self.s, self.unit))
        if not self.s.get("git_mirror"):
            # With herokumigrate_git_mirror the mirror's result takes this line's place (unit_record).
            self.todo.append("%s: mirror the Heroku Git repository (%s) to the repository Northflank builds from" % (app, info["app"]["git_url"]))
        for feature, enabled in sorted((info.get("features") or {}).items()):
            if enabled:
                self.warnings.append("%s: Heroku labs feature %s has no Northflank equivalent" % (app, feature))
        for warning in (info.get("migration") or {}).get("warnings") or []:
            self.warnings.append("%s: %s" % (app, warning))

    # -- resources ------------------------------------------------------------------------
    def addons(self, project, info, owned_only=True):
        """New Northflank addons for the Heroku data add-ons the app owns. They start empty: the app
        keeps its Heroku connection strings until the data is moved (northflank_addon_import)."""
        out = []
        if not self.s.get("create_addons", True):
            return out
        for addon in info.get("addons") or []:
            nf_type = addon_type_for(addon["service"], self.s)
            if nf_type is None:
                continue
            if addon["owned_by_other_app"] and owned_only:
                self.skipped.append(dict(what="add-on %s attached to %s" % (addon["name"], info["app"]["name"]),
                                         why="owned by %s: migrated with that app; its connection string is copied" % addon["owning_app"]))
                continue
            defaults = (self.s.get("addon_settings") or {}).get(nf_type) or {}
            name = self.name("%s-%s" % (info["app"]["name"], nf_type), "addon")
            out.append(dict(project=project, name=name, type=nf_type, version=defaults.get("version"), plan=defaults.get("plan"),
                            storage=defaults.get("storage"), replicas=defaults.get("replicas"), tls=defaults.get("tls"),
                            heroku_addon=addon["name"], heroku_plan=addon["plan"]))
            self.todo.append("%s: move the data of %s (%s) into Northflank addon %s (herokumigrate.northflank.northflank_addon_import), "
                             "then point %s at it" % (info["app"]["name"], addon["name"], addon["plan"], name, ", ".join(addon["config_vars"]) or "the app"))
        return out

    def scheduler_jobs(self, project, info, source, prefix, variables_ref=None):
        jobs = list(info.get("scheduler", {}).get("jobs") or []) + list(self.s.get("scheduler_jobs") or [])
        out = []
        for index, job in enumerate(jobs, 1):
            size = (job.get("dyno_size") or "standard-1x")
            out.append(dict(project=project, name=self.name("%s-scheduler-%d" % (prefix, index), "job"), schedule=job["schedule"],
                            concurrency_policy="forbid", plan=self.plan_of(dict(size=size)), deploy_from=source,
                            start=dict(command=job["command"]), runtime_variables_ref=variables_ref, heroku_command=job["command"]))
        return out

    def release_job(self, project, info, source, prefix, variables_ref):
        command = (info.get("process_types") or {}).get("release")
        if not command:
            return []
        web = next((f for f in info["formation"] if f["type"] == WEB), info["formation"][0])
        self.todo.append("%s: the release phase (%s) is job %s-release; it is not run by the migration, since it would run "
                         "against the Heroku databases the app still uses" % (info["app"]["name"], command, prefix))
        return [dict(project=project, name=self.name("%s-release" % prefix, "job"), plan=self.plan_of(web), deploy_from=source,
                     start=dict(command=command), runtime_variables_ref=variables_ref, heroku_command=command, release_phase=True)]

    def domains(self, project, info, service):
        if not self.s.get("domains", True):
            return []
        out = {}
        for hostname in info.get("custom_domains") or []:
            domain, sub = domain_parts(hostname, self.s.get("domain_apexes"))
            entry = out.setdefault(domain, dict(domain=domain, project=project, subdomains=[]))
            entry["subdomains"].append(dict(name=sub, service=service, port=WEB_PORT_NAME))
        return [out[k] for k in sorted(out)]

    # -- scenarios ------------------------------------------------------------------------
    def app_services(self, project, info, prefix, stage=None):
        """A build service, one deployment service per process type and a secret group (multi-dyno and pipeline apps)."""
        app = info["app"]["name"]
        repo = repository_for(app, self.s, self.unit)
        builder = self.name("%s-builder" % prefix, "service")
        build = dict(project=project, name=builder, type="build", vcs=dict(repo, branch=None), build_plan=self.s.get("build_plan"),
                     buildpack=self.buildpack(info), build_rules=dict(branches=[repo["branch"]], pull_requests=[]),
                     build_arguments_ref=self.secret("%s-build" % prefix, self.build_arguments(info)))
        source = dict(build_service=builder, branch=repo["branch"], build_sha="latest")
        deployments = []
        for row in info["formation"]:
            if row["type"] == "release":
                continue
            web = row["type"] == WEB
            deployments.append(dict(
                project=project, name=self.name("%s-%s" % (prefix, row["type"]), "service"), type="deployment",
                plan=self.plan_of(row), instances=row["quantity"], deploy_from=source, start=dict(process=row["type"]),
                ports=[self.web_port()] if web else [], health_checks=self.health_checks() if web else None,
                process_type=row["type"], stage=stage))
        env_ref = self.secret("%s-env" % prefix, self.variables(info, web=True))
        jobs = self.scheduler_jobs(project, info, source, prefix) + self.release_job(project, info, source, prefix, None)
        group = dict(project=project, name=self.name("%s-env" % prefix, "secret_group"), secret_type="runtime", priority=10,
                     restricted_to=[dict(id=d["name"], type="service") for d in deployments] + [dict(id=j["name"], type="job") for j in jobs],
                     variables_ref=env_ref)
        web_service = next((d["name"] for d in deployments if d["process_type"] == WEB), None)
        return dict(build=build, deployments=deployments, jobs=jobs, group=group, source=source, web=web_service)

    def single_dyno(self, info):
        app = info["app"]["name"]
        project = self.name(self.s.get("project") or app, "project")
        row = info["formation"][0]
        repo = repository_for(app, self.s, self.unit)
        web = row["type"] == WEB
        name = self.name(app, "service")
        service = dict(project=project, name=name, type="combined", vcs=repo, plan=self.plan_of(row), build_plan=self.s.get("build_plan"),
                       instances=row["quantity"], buildpack=self.buildpack(info), ports=[self.web_port()] if web else [],
                       health_checks=self.health_checks() if web else None, start=None if web else dict(process=row["type"]),
                       runtime_variables_ref=self.secret("%s-runtime" % app, self.variables(info, web=web)),
                       build_arguments_ref=self.secret("%s-build" % app, self.build_arguments(info)), process_type=row["type"])
        source = dict(build_service=name, branch=repo["branch"], build_sha="latest")
        # Jobs of a combined service get its runtime variables; multi-dyno jobs inherit the secret group.
        env = service["runtime_variables_ref"]
        jobs = self.scheduler_jobs(project, info, source, app, env) + self.release_job(project, info, source, app, env)
        self.report_app(info)
        return dict(project=self.project(project, info), addons=self.addons(project, info), secret_groups=[], services=[service],
                    jobs=jobs, domains=self.domains(project, info, name if web else None), pipeline=None, release_flows=[])

    def multi_dyno(self, info):
        app = info["app"]["name"]
        project = self.name(self.s.get("project") or app, "project")
        parts = self.app_services(project, info, app)
        self.report_app(info)
        return dict(project=self.project(project, info), addons=self.addons(project, info), secret_groups=[parts["group"]],
                    services=[parts["build"]] + parts["deployments"], jobs=parts["jobs"],
                    domains=self.domains(project, info, parts["web"]), pipeline=None, release_flows=[])

    def pipeline(self, info):
        name = info["pipeline"]["name"]
        project = self.name(self.s.get("project") or name, "project")
        apps = sorted(info["apps"], key=lambda a: STAGES.index(a["pipeline"]["stage"]) if a["pipeline"]["stage"] in STAGES else 99)
        result = dict(project=self.project(project, apps[0] if apps else None, pipeline=name), addons=[], secret_groups=[],
                      services=[], jobs=[], domains=[], release_flows=[])
        by_stage = {}
        for app in apps:
            stage = app["pipeline"]["stage"]
            if stage not in STAGES:
                self.skipped.append(dict(what="app %s" % app["app"]["name"], why="pipeline stage %s has no Northflank equivalent" % stage))
                continue
            parts = self.app_services(project, app, app["app"]["name"], stage=stage)
            by_stage.setdefault(stage, []).append(parts)
            result["services"] += [parts["build"]] + parts["deployments"]
            result["secret_groups"].append(parts["group"])
            result["jobs"] += parts["jobs"]
            result["addons"] += self.addons(project, app)
            result["domains"] += self.domains(project, app, parts["web"])
            self.report_app(app)
        stages = dict((stage, dict(services=[d["name"] for p in parts for d in p["deployments"]], jobs=[], addons=[]))
                      for stage, parts in by_stage.items())
        result["pipeline"] = dict(project=project, name=self.name(name, "pipeline"), stages=stages)
        result["release_flows"] = self.release_flows(project, result["pipeline"]["name"], by_stage)
        return result

    def release_flows(self, project, pipeline, by_stage):
        """The first stage deploys the latest build of its branch; each later stage promotes from the one before."""
        flows, previous, previous_release = [], None, None
        for stage in [s for s in STAGES if s in by_stage]:
            parts = by_stage[stage]
            targets = [dict(id=d["name"], type="service", process_type=d["process_type"]) for p in parts for d in p["deployments"]]
            flow = dict(project=project, pipeline=pipeline, stage=stage)
            release = next((j["name"] for p in parts for j in p["jobs"] if j.get("release_phase")), None)
            if release:
                # A promoted release phase runs the image of the stage before's release job.
                flow["release_phase"] = dict(job=release, origin=previous_release) if previous else dict(job=release)
            if previous is None:
                source = parts[0]["source"]
                flow.update(mode="build", build_service=source["build_service"], branch=source["branch"],
                            targets=[dict(id=t["id"], type="service") for t in targets])
            else:
                origins = dict((t["process_type"], t["id"]) for t in previous)
                flow.update(mode="promote", targets=[dict(id=t["id"], type="service", origin=origins.get(t["process_type"]))
                                                     for t in targets])
                missing = [t["id"] for t in flow["targets"] if not t["origin"]]
                if missing:
                    raise MappingError("%s: stage %s runs process types the stage before does not (%s): nothing to promote from"
                                       % (self.unit, stage, ", ".join(missing)))
            if previous is not None and release and not previous_release:
                raise MappingError("%s: stage %s has a release phase and the stage before has none: nothing to promote it from"
                                   % (self.unit, stage))
            flows.append(flow)
            previous, previous_release = targets, release
        return flows

    def project(self, name, info, pipeline=None):
        region = self.s.get("region") or region_for((info or {}).get("app", {}).get("region"), self.s.get("regions") or {}, self.unit)
        what = "pipeline %s" % pipeline if pipeline else "app %s" % info["app"]["name"]
        return dict(name=name, region=region, description="Migrated from Heroku %s" % what)

    def plan(self, kind, info):
        """``kind`` is ``app`` or ``pipeline``; ``info`` what heroku_app_info / heroku_pipeline_info returned."""
        scenario = info["migration"]["scenario"]
        if scenario == "unsupported":
            raise MappingError("%s cannot be migrated: %s" % (self.unit, info["migration"]["reason"]))
        if kind == "pipeline":
            resources = self.pipeline(info)
        elif scenario == "single_dyno":
            resources = self.single_dyno(info)
        else:
            resources = self.multi_dyno(info)
        resources.update(unit=self.unit, kind=kind, scenario="pipeline" if kind == "pipeline" else scenario,
                         tables_version=self.s.get("tables_version"),
                         renamed=self.renamed, todo=self.todo, skipped=self.skipped, warnings=self.warnings,
                         git_mirrors=self.git_mirrors)
        return resources


def plan_unit(unit, kind, info, settings):
    """The plan of one unit, and its secret values by reference: ``(plan, secrets)``."""
    builder = UnitPlan(unit, settings)
    plan = builder.plan(kind, info)
    return plan, builder.secrets


# -- the result record of a unit ------------------------------------------------------------
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
                tables_version=plan.get("tables_version"))


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

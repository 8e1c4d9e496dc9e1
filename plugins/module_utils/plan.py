# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of one migration unit: the options of the northflank_* modules, resource by resource,
composed from the rules (rules.py). Secret values are kept apart, by reference, so the resources can
be looped over and printed without printing a value. No I/O here: unit-tested directly.
"""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.module_utils.rules import (
    STAGES, WEB, WEB_PORT_NAME, MappingError, addon_type_for, builder_for, domain_parts, dropped_variables, git_mirror_for,
    northflank_name, plan_for, region_for, repository_for, runtime_variables)


class UnitPlan(object):
    """Builds the resources of one migration unit. ``plan()`` returns a dict of module options per
    resource kind; secret values are kept apart in ``secrets`` and referenced by name, so the
    resources can be looped over and printed without printing a value."""

    def __init__(self, unit, settings):
        self.unit = unit
        self.settings = settings
        self.renamed = []
        self.secrets = {}
        self.todo = []
        self.git_mirrors = []
        self.skipped = []
        self.warnings = []
        self.heroku = []  # per Heroku app: what it has (names, sizes, plans, commands) and what each became

    # -- small helpers --------------------------------------------------------------------
    def name(self, base, kind):
        return northflank_name(base, kind, self.renamed)

    def secret(self, ref, values):
        self.secrets[ref] = values
        return ref

    def plan_of(self, formation_row):
        if self.settings.get("plan"):
            return self.settings["plan"]
        return plan_for(formation_row.get("size"), self.settings.get("plans") or {}, self.unit)

    def builder(self, info):
        if self.settings.get("builder"):
            return self.settings["builder"]
        stack = info["app"]["stack"]
        return builder_for(stack, self.settings.get("builders") or {}, "%s (app %s)" % (self.unit, info["app"]["name"]))

    def buildpack(self, info):
        return dict(builder=self.builder(info), buildpacks=list(info.get("buildpacks") or []) or None)

    def variables(self, info, web):
        rule = self.settings.get("variables") or {}
        return runtime_variables(info, rule, port=self.settings.get("web_port", 8080) if web else None)

    def build_arguments(self, info):
        return runtime_variables(info, self.settings.get("variables") or {})

    def web_port(self):
        return dict(name=WEB_PORT_NAME, internal_port=int(self.settings.get("web_port", 8080)), public=True, protocol="HTTP")

    def health_checks(self):
        path = self.settings.get("health_check_path")
        port = int(self.settings.get("web_port", 8080))
        if path:
            return [dict(type="readiness", protocol="HTTP", path=path, port=port)]
        # Heroku has no health checks; a TCP probe on $PORT is what its router effectively expects.
        return [dict(type="readiness", protocol="TCP", port=port)]

    def report_app(self, info):
        """What the user must still do, and what is left out, for one app (names only, never values)."""
        app = info["app"]["name"]
        dropped = dropped_variables(info, self.settings.get("variables") or {})
        if dropped:
            self.skipped.append(dict(what="config vars of %s: %s" % (app, ", ".join(dropped)), why="set by Heroku itself"))
        for addon in info.get("addons") or []:
            if addon_type_for(addon["service"], self.settings) is None and addon["service"] != "scheduler":
                self.skipped.append(dict(what="add-on %s (%s) of %s" % (addon["name"], addon["plan"], app),
                                         why="no Northflank equivalent: its config vars are copied, the service stays at its provider"))
        if info.get("scheduler", {}).get("available") is False:
            self.todo.append("%s: the Heroku Scheduler jobs could not be read; list them in herokumigrate_scheduler_jobs" % app)
        for d in info.get("custom_domains") or []:
            self.todo.append("%s: publish the DNS records of %s (see the domain's records), then re-run with herokumigrate_verify_domains" % (app, d))
        self.git_mirrors.append(git_mirror_for(info, self.settings, self.unit))
        if not self.settings.get("git_mirror"):
            # With herokumigrate_git_mirror the mirror's result takes this line's place (unit_record).
            self.todo.append("%s: mirror the Heroku Git repository (%s) to the repository Northflank builds from" % (app, info["app"]["git_url"]))
        for feature, enabled in sorted((info.get("features") or {}).items()):
            if enabled:
                self.warnings.append("%s: Heroku labs feature %s has no Northflank equivalent" % (app, feature))
        for warning in (info.get("migration") or {}).get("warnings") or []:
            self.warnings.append("%s: %s" % (app, warning))

    def summarize(self, info, services, addons, jobs, domains):
        """The Heroku side of one app for the report, each thing with the Northflank resource it became (None: none).
        Names, sizes, plans, commands and hostnames only, never a config var value."""
        app = info["app"]["name"]
        by_process = dict((s.get("process_type"), s["name"]) for s in services if s.get("process_type"))
        by_addon = dict((a["heroku_addon"], a["name"]) for a in addons)
        scheduled = [j for j in jobs if not j.get("release_phase")]
        release = next((j["name"] for j in jobs if j.get("release_phase")), None)
        hosts = dict((d["domain"] if s["name"] in (None, "@") else "%s.%s" % (s["name"], d["domain"]), d["domain"])
                     for d in domains for s in d["subdomains"])
        dynos = [dict(type=row["type"], size=row.get("size"), quantity=row.get("quantity"),
                      northflank=release if row["type"] == "release" else by_process.get(row["type"]))
                 for row in info.get("formation") or []]
        if release and not any(d["type"] == "release" for d in dynos):
            dynos.append(dict(type="release", size=None, quantity=None, northflank=release))
        schedule = list(info.get("scheduler", {}).get("jobs") or []) + list(self.settings.get("scheduler_jobs") or [])
        self.heroku.append(dict(
            app=app, stage=(info.get("pipeline") or {}).get("stage"), dynos=dynos,
            addons=[dict(name=a["name"], service=a.get("service"), plan=a.get("plan"), northflank=by_addon.get(a["name"]))
                    for a in info.get("addons") or []],
            scheduler=[dict(command=j.get("command"), schedule=j.get("schedule"), northflank=nf["name"] if nf else None)
                       for j, nf in zip(schedule, scheduled + [None] * len(schedule))],
            domains=[dict(hostname=h, northflank=hosts.get(h)) for h in info.get("custom_domains") or []]))

    # -- resources ------------------------------------------------------------------------
    def addons(self, project, info, owned_only=True):
        """New Northflank addons for the Heroku data add-ons the app owns. They start empty: the app
        keeps its Heroku connection strings until the data is moved (northflank_addon_import)."""
        out = []
        if not self.settings.get("create_addons", True):
            return out
        for addon in info.get("addons") or []:
            nf_type = addon_type_for(addon["service"], self.settings)
            if nf_type is None:
                continue
            if addon["owned_by_other_app"] and owned_only:
                self.skipped.append(dict(what="add-on %s attached to %s" % (addon["name"], info["app"]["name"]),
                                         why="owned by %s: migrated with that app; its connection string is copied" % addon["owning_app"]))
                continue
            defaults = (self.settings.get("addon_settings") or {}).get(nf_type) or {}
            name = self.name("%s-%s" % (info["app"]["name"], nf_type), "addon")
            out.append(dict(project=project, name=name, type=nf_type, version=defaults.get("version"), plan=defaults.get("plan"),
                            storage=defaults.get("storage"), replicas=defaults.get("replicas"), tls=defaults.get("tls"),
                            heroku_addon=addon["name"], heroku_plan=addon["plan"]))
            self.todo.append("%s: move the data of %s (%s) into Northflank addon %s (herokumigrate.northflank.northflank_addon_import), "
                             "then point %s at it" % (info["app"]["name"], addon["name"], addon["plan"], name, ", ".join(addon["config_vars"]) or "the app"))
        return out

    def scheduler_jobs(self, project, info, source, prefix, variables_ref=None):
        jobs = list(info.get("scheduler", {}).get("jobs") or []) + list(self.settings.get("scheduler_jobs") or [])
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
        if not self.settings.get("domains", True):
            return []
        out = {}
        for hostname in info.get("custom_domains") or []:
            domain, sub = domain_parts(hostname, self.settings.get("domain_apexes"))
            entry = out.setdefault(domain, dict(domain=domain, project=project, subdomains=[]))
            entry["subdomains"].append(dict(name=sub, service=service, port=WEB_PORT_NAME))
        return [out[k] for k in sorted(out)]

    # -- scenarios ------------------------------------------------------------------------
    def app_services(self, project, info, prefix, stage=None):
        """A build service, one deployment service per process type and a secret group (multi-dyno and pipeline apps)."""
        app = info["app"]["name"]
        repo = repository_for(app, self.settings, self.unit)
        builder = self.name("%s-builder" % prefix, "service")
        build = dict(project=project, name=builder, type="build", vcs=dict(repo, branch=None), build_plan=self.settings.get("build_plan"),
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
        project = self.name(self.settings.get("project") or app, "project")
        row = info["formation"][0]
        repo = repository_for(app, self.settings, self.unit)
        web = row["type"] == WEB
        name = self.name(app, "service")
        service = dict(project=project, name=name, type="combined", vcs=repo, plan=self.plan_of(row), build_plan=self.settings.get("build_plan"),
                       instances=row["quantity"], buildpack=self.buildpack(info), ports=[self.web_port()] if web else [],
                       health_checks=self.health_checks() if web else None, start=None if web else dict(process=row["type"]),
                       runtime_variables_ref=self.secret("%s-runtime" % app, self.variables(info, web=web)),
                       build_arguments_ref=self.secret("%s-build" % app, self.build_arguments(info)), process_type=row["type"])
        source = dict(build_service=name, branch=repo["branch"], build_sha="latest")
        # Jobs of a combined service get its runtime variables; multi-dyno jobs inherit the secret group.
        env = service["runtime_variables_ref"]
        jobs = self.scheduler_jobs(project, info, source, app, env) + self.release_job(project, info, source, app, env)
        self.report_app(info)
        addons, domains = self.addons(project, info), self.domains(project, info, name if web else None)
        self.summarize(info, [service], addons, jobs, domains)
        return dict(project=self.project(project, info), addons=addons, secret_groups=[], services=[service],
                    jobs=jobs, domains=domains, pipeline=None, release_flows=[])

    def multi_dyno(self, info):
        app = info["app"]["name"]
        project = self.name(self.settings.get("project") or app, "project")
        parts = self.app_services(project, info, app)
        self.report_app(info)
        addons, domains = self.addons(project, info), self.domains(project, info, parts["web"])
        self.summarize(info, parts["deployments"], addons, parts["jobs"], domains)
        return dict(project=self.project(project, info), addons=addons, secret_groups=[parts["group"]],
                    services=[parts["build"]] + parts["deployments"], jobs=parts["jobs"],
                    domains=domains, pipeline=None, release_flows=[])

    def pipeline(self, info):
        name = info["pipeline"]["name"]
        project = self.name(self.settings.get("project") or name, "project")
        apps = sorted(info["apps"], key=lambda a: STAGES.index(a["pipeline"]["stage"]) if a["pipeline"]["stage"] in STAGES else 99)
        result = dict(project=self.project(project, apps[0] if apps else None, pipeline=name), addons=[], secret_groups=[],
                      services=[], jobs=[], domains=[], release_flows=[])
        by_stage = {}
        for app in apps:
            stage = app["pipeline"]["stage"]
            if stage not in STAGES:
                self.skipped.append(dict(what="app %s" % app["app"]["name"], why="pipeline stage %s has no Northflank equivalent" % stage))
                self.summarize(app, [], [], [], [])
                continue
            parts = self.app_services(project, app, app["app"]["name"], stage=stage)
            by_stage.setdefault(stage, []).append(parts)
            result["services"] += [parts["build"]] + parts["deployments"]
            result["secret_groups"].append(parts["group"])
            result["jobs"] += parts["jobs"]
            addons, domains = self.addons(project, app), self.domains(project, app, parts["web"])
            result["addons"] += addons
            result["domains"] += domains
            self.report_app(app)
            self.summarize(app, parts["deployments"], addons, parts["jobs"], domains)
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
        region = self.settings.get("region") or region_for((info or {}).get("app", {}).get("region"), self.settings.get("regions") or {}, self.unit)
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
                         tables_version=self.settings.get("tables_version"),
                         renamed=self.renamed, todo=self.todo, skipped=self.skipped, warnings=self.warnings,
                         git_mirrors=self.git_mirrors, heroku=self.heroku)
        return resources


def plan_unit(unit, kind, info, settings):
    """The plan of one unit, and its secret values by reference: ``(plan, secrets)``."""
    builder = UnitPlan(unit, settings)
    plan = builder.plan(kind, info)
    return plan, builder.secrets

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of one migration unit: the options of the northflank_* modules, resource by resource,
composed from the rules (rules.py). Secret values are kept apart, by reference, so the resources can
be looped over and printed without printing a value. No I/O here: unit-tested directly.
"""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.module_utils.rules import (
    STAGES,
    WEB,
    WEB_PORT_NAME,
    MappingError,
    addon_type_for,
    builder_for,
    domain_parts,
    dropped_variables,
    git_mirror_for,
    is_switched,
    northflank_name,
    plan_for,
    project_rename,
    region_for,
    repository_for,
    runtime_variables,
    switch_links,
    unique_names,
)


class UnitPlan(object):
    """Builds the resources of one migration unit. ``plan()`` returns a dict of module options per
    resource kind; secret values are kept apart in ``secrets`` and referenced by name, so the
    resources can be looped over and printed without printing a value."""

    def __init__(self, unit, settings):
        self.unit = unit
        self.settings = settings
        self.names = None  # {kind: {key: name}} once every name of the unit is known (plan())
        self.wanted = {}
        self.reset()

    def reset(self):
        self.renamed = []
        self.secrets = {}
        self.todo = []
        self.git_mirrors = []
        self.skipped = []
        self.warnings = []
        self.heroku = []  # per Heroku app: what it has (names, sizes, plans, commands) and what each became
        self.switch = []  # per Heroku app: what the cut-over's switch does (names and secret references only)

    @property
    def switched(self):
        """The unit's cut-over state file says its switch is made (rules.is_switched): the resources keep it."""
        return is_switched(self.settings.get("cutover_state"))

    # -- small helpers --------------------------------------------------------------------
    def name(self, base, kind, key=None):
        """The Northflank name of the Heroku thing ``key`` (default ``base``): unique within the unit per kind
        (rules.unique_names). The plan is built twice: a first pass collects every name, the second uses them."""
        key = key or base
        if self.names is None:
            self.wanted.setdefault(kind, {})[key] = base
            return northflank_name(base, kind)
        return self.names[kind][key]

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

    def web_port(self, info):
        """The web dyno's port: public, unless the app is a Private Space app with internal routing (reachable only
        inside its space on Heroku; inside its project on Northflank)."""
        public = not info["app"].get("internal_routing")
        return dict(
            name=WEB_PORT_NAME, internal_port=int(self.settings.get("web_port", 8080)), public=public, protocol="HTTP"
        )

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
            self.skipped.append(
                dict(what="config vars of %s: %s" % (app, ", ".join(dropped)), why="set by Heroku itself")
            )
        for addon in info.get("addons") or []:
            if addon_type_for(addon["service"], self.settings) is None and addon["service"] != "scheduler":
                self.skipped.append(
                    dict(
                        what="add-on %s (%s) of %s" % (addon["name"], addon["plan"], app),
                        why="no Northflank equivalent: its config vars are copied, the service stays at its provider",
                    )
                )
        if info.get("scheduler", {}).get("available") is False:
            self.todo.append(
                "%s: the Heroku Scheduler jobs could not be read; list them in herokumigrate_scheduler_jobs" % app
            )
        for d in info.get("custom_domains") or []:
            self.todo.append(
                "%s: publish the DNS records of %s (see the domain's records), then re-run with "
                "herokumigrate_verify_domains"
                % (app, d)
            )
        self.git_mirrors.append(git_mirror_for(info, self.settings, self.unit))
        if not self.settings.get("git_mirror"):
            # With herokumigrate_git_mirror the mirror's result takes this line's place (unit_record).
            self.todo.append(
                "%s: mirror the Heroku Git repository (%s) to the repository Northflank builds from"
                % (app, info["app"]["git_url"])
            )
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
        hosts = dict(
            (d["domain"] if s["name"] in (None, "@") else "%s.%s" % (s["name"], d["domain"]), d["domain"])
            for d in domains
            for s in d["subdomains"]
        )
        dynos = [
            dict(
                type=row["type"],
                size=row.get("size"),
                quantity=row.get("quantity"),
                northflank=release if row["type"] == "release" else by_process.get(row["type"]),
            )
            for row in info.get("formation") or []
        ]
        if release and not any(d["type"] == "release" for d in dynos):
            dynos.append(dict(type="release", size=None, quantity=None, northflank=release))
        schedule = list(info.get("scheduler", {}).get("jobs") or []) + list(self.settings.get("scheduler_jobs") or [])
        self.heroku.append(
            dict(
                app=app,
                stage=(info.get("pipeline") or {}).get("stage"),
                dynos=dynos,
                addons=[
                    dict(
                        name=a["name"], service=a.get("service"), plan=a.get("plan"), northflank=by_addon.get(a["name"])
                    )
                    for a in info.get("addons") or []
                ],
                scheduler=[
                    dict(command=j.get("command"), schedule=j.get("schedule"), northflank=nf["name"] if nf else None)
                    for j, nf in zip(schedule, scheduled + [None] * len(schedule))
                ],
                domains=[dict(hostname=h, northflank=hosts.get(h)) for h in info.get("custom_domains") or []],
            )
        )

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
                self.skipped.append(
                    dict(
                        what="add-on %s attached to %s" % (addon["name"], info["app"]["name"]),
                        why="owned by %s: migrated with that app; its connection string is copied"
                        % addon["owning_app"],
                    )
                )
                continue
            defaults = (self.settings.get("addon_settings") or {}).get(nf_type) or {}
            # One Northflank addon per Heroku add-on, named after it (its name is unique across Heroku).
            name = self.name(addon["name"], "addon", key="addon:%s" % addon["name"])
            out.append(
                dict(
                    project=project,
                    name=name,
                    type=nf_type,
                    version=defaults.get("version"),
                    plan=defaults.get("plan"),
                    storage=defaults.get("storage"),
                    replicas=defaults.get("replicas"),
                    tls=defaults.get("tls"),
                    heroku_addon=addon["name"],
                    heroku_plan=addon["plan"],
                )
            )
            self.todo.append(
                "%s: move the data of %s (%s) into Northflank addon %s "
                "(herokumigrate.northflank.northflank_addon_import), "
                "then point %s at it"
                % (
                    info["app"]["name"],
                    addon["name"],
                    addon["plan"],
                    name,
                    ", ".join(addon["config_vars"]) or "the app",
                )
            )
        return out

    def scheduler_jobs(self, project, info, source, prefix, variables_ref=None):
        jobs = list(info.get("scheduler", {}).get("jobs") or []) + list(self.settings.get("scheduler_jobs") or [])
        out = []
        for index, job in enumerate(jobs, 1):
            size = job.get("dyno_size") or "standard-1x"
            name = self.name("%s-scheduler-%d" % (prefix, index), "job", key="%s/scheduler:%d" % (prefix, index))
            out.append(
                dict(
                    project=project,
                    name=name,
                    schedule=job["schedule"],
                    concurrency_policy="forbid",
                    plan=self.plan_of(dict(size=size)),
                    deploy_from=source,
                    start=dict(command=job["command"]),
                    runtime_variables_ref=variables_ref,
                    heroku_command=job["command"],
                )
            )
        return out

    def release_job(self, project, info, source, prefix, variables_ref):
        command = (info.get("process_types") or {}).get("release")
        if not command:
            return []
        web = next((f for f in info["formation"] if f["type"] == WEB), info["formation"][0])
        self.todo.append(
            "%s: the release phase (%s) is job %s-release; it is not run by the migration, since it would run "
            "against the Heroku databases the app still uses" % (info["app"]["name"], command, prefix)
        )
        return [
            dict(
                project=project,
                name=self.name("%s-release" % prefix, "job", key="%s/release" % prefix),
                plan=self.plan_of(web),
                deploy_from=source,
                start=dict(command=command),
                runtime_variables_ref=variables_ref,
                heroku_command=command,
                release_phase=True,
            )
        ]

    def domains(self, project, info, service):
        if not self.settings.get("domains", True):
            return []
        out = {}
        for hostname in info.get("custom_domains") or []:
            domain, sub = domain_parts(
                hostname, self.settings.get("domain_apexes"), "%s (app %s)" % (self.unit, info["app"]["name"])
            )
            entry = out.setdefault(domain, dict(domain=domain, project=project, subdomains=[]))
            entry["subdomains"].append(dict(name=sub, service=service, port=WEB_PORT_NAME))
        return [out[k] for k in sorted(out)]

    # -- scenarios ------------------------------------------------------------------------
    def app_services(self, project, info, prefix, stage=None):
        """A build service, one deployment service per process type and a secret group (multi-dyno and pipeline
        apps)."""
        app = info["app"]["name"]
        repo = repository_for(app, self.settings, self.unit)
        builder = self.name("%s-builder" % prefix, "service", key="%s/builder" % prefix)
        build = dict(
            project=project,
            name=builder,
            type="build",
            vcs=dict(repo, branch=None),
            build_plan=self.settings.get("build_plan"),
            buildpack=self.buildpack(info),
            build_rules=dict(branches=[repo["branch"]], pull_requests=[]),
            build_arguments_ref=self.secret("%s-build" % prefix, self.build_arguments(info)),
        )
        source = dict(build_service=builder, branch=repo["branch"], build_sha="latest")
        deployments = []
        for row in info["formation"]:
            if row["type"] == "release":
                continue
            web = row["type"] == WEB
            deployments.append(
                dict(
                    project=project,
                    name=self.name(
                        "%s-%s" % (prefix, row["type"]), "service", key="%s/process:%s" % (prefix, row["type"])
                    ),
                    type="deployment",
                    plan=self.plan_of(row),
                    instances=row["quantity"],
                    deploy_from=source,
                    start=dict(process=row["type"]),
                    ports=[self.web_port(info)] if web else [],
                    health_checks=self.health_checks() if web else None,
                    process_type=row["type"],
                    stage=stage,
                )
            )
        env_ref = self.secret("%s-env" % prefix, self.variables(info, web=True))
        jobs = self.scheduler_jobs(project, info, source, prefix) + self.release_job(
            project, info, source, prefix, None
        )
        group = dict(
            project=project,
            name=self.name("%s-env" % prefix, "secret_group", key="%s/env" % prefix),
            secret_type="runtime",
            priority=10,
            restricted_to=[dict(id=d["name"], type="service") for d in deployments]
            + [dict(id=j["name"], type="job") for j in jobs],
            variables_ref=env_ref,
        )
        web_service = next((d["name"] for d in deployments if d["process_type"] == WEB), None)
        return dict(
            app=app, build=build, deployments=deployments, jobs=jobs, group=group, source=source, web=web_service,
            info=info, env_ref=env_ref,
        )

    def group_switch(self, parts, addons):
        """The switch of an app whose runtime variables are in its secret group (multi-dyno, pipeline): one write of
        the group drops the copied connection strings and links the addons under the same names; its deployment
        services restart. Once the unit is switched the group keeps it (rules.is_switched)."""
        links, removed = switch_links(parts["info"], addons)
        group, full = parts["group"], self.secrets[parts["env_ref"]]
        switched_ref = self.secret("%s-switched" % parts["env_ref"], dict(
            (k, v) for k, v in full.items() if k not in removed))
        restore_ref = self.secret("%s-restore" % parts["env_ref"], dict((k, full[k]) for k in removed if k in full))
        self.switch.append(dict(
            app=parts["app"], project=group["project"], holder="group", group=group["name"],
            secret_type=group["secret_type"], priority=group["priority"], restricted_to=group["restricted_to"],
            links=links, remove=removed, restart=[d["name"] for d in parts["deployments"]], jobs=[],
            restore_ref=restore_ref, variables_ref=parts["env_ref"]))
        if self.switched and links:
            group.update(variables_ref=switched_ref, addon_links=links)

    def service_switch(self, info, project, service, jobs, addons):
        """The switch of a single-dyno app, whose runtime variables are on its combined service (and its jobs): a
        secret group restricted to them holds the addon links (a service's variables cannot link an addon), and the
        service and its jobs drop the copied connection strings. Returns the group once the unit is switched."""
        app = info["app"]["name"]
        links, removed = switch_links(info, addons)
        env_ref = service["runtime_variables_ref"]
        full = self.secrets[env_ref]
        switched_ref = self.secret("%s-switched" % env_ref, dict((k, v) for k, v in full.items() if k not in removed))
        owned = [j for j in jobs if j.get("runtime_variables_ref") == env_ref]
        group = dict(
            project=project,
            name="%s-addons" % service["name"],  # a service name is a valid group name, and short enough
            secret_type="runtime",
            priority=10,
            restricted_to=[dict(id=service["name"], type="service")] + [dict(id=j["name"], type="job") for j in owned],
            variables_ref=self.secret("%s-addons" % app, {}),
            addon_links=links,
        )
        self.switch.append(dict(
            app=app, project=project, holder="service", group=group["name"], secret_type="runtime", priority=10,
            restricted_to=group["restricted_to"], links=links, remove=removed, service=service["name"],
            restart=[service["name"]], jobs=[dict(j) for j in owned], switched_ref=switched_ref,
            variables_ref=env_ref))
        if not (self.switched and links):
            return []
        service["runtime_variables_ref"] = switched_ref
        for job in owned:
            job["runtime_variables_ref"] = switched_ref
        return [group]

    def single_dyno(self, info):
        app = info["app"]["name"]
        project = self.name(self.settings.get("project") or app, "project", key="unit")
        row = info["formation"][0]
        repo = repository_for(app, self.settings, self.unit)
        web = row["type"] == WEB
        name = self.name(app, "service", key="%s/process:%s" % (app, row["type"]))
        service = dict(
            project=project,
            name=name,
            type="combined",
            vcs=repo,
            plan=self.plan_of(row),
            build_plan=self.settings.get("build_plan"),
            instances=row["quantity"],
            buildpack=self.buildpack(info),
            ports=[self.web_port(info)] if web else [],
            health_checks=self.health_checks() if web else None,
            start=None if web else dict(process=row["type"]),
            runtime_variables_ref=self.secret("%s-runtime" % app, self.variables(info, web=web)),
            build_arguments_ref=self.secret("%s-build" % app, self.build_arguments(info)),
            process_type=row["type"],
        )
        source = dict(build_service=name, branch=repo["branch"], build_sha="latest")
        # Jobs of a combined service get its runtime variables; multi-dyno jobs inherit the secret group.
        env = service["runtime_variables_ref"]
        jobs = self.scheduler_jobs(project, info, source, app, env) + self.release_job(project, info, source, app, env)
        self.report_app(info)
        addons, domains = self.addons(project, info), self.domains(project, info, name if web else None)
        self.summarize(info, [service], addons, jobs, domains)
        groups = self.service_switch(info, project, service, jobs, addons)
        return dict(
            project=self.project(project, info),
            addons=addons,
            secret_groups=groups,
            services=[service],
            jobs=jobs,
            domains=domains,
            pipeline=None,
            release_flows=[],
        )

    def multi_dyno(self, info):
        app = info["app"]["name"]
        project = self.name(self.settings.get("project") or app, "project", key="unit")
        parts = self.app_services(project, info, app)
        self.report_app(info)
        addons, domains = self.addons(project, info), self.domains(project, info, parts["web"])
        self.summarize(info, parts["deployments"], addons, parts["jobs"], domains)
        self.group_switch(parts, addons)
        return dict(
            project=self.project(project, info),
            addons=addons,
            secret_groups=[parts["group"]],
            services=[parts["build"]] + parts["deployments"],
            jobs=parts["jobs"],
            domains=domains,
            pipeline=None,
            release_flows=[],
        )

    def pipeline(self, info):
        name = info["pipeline"]["name"]
        project = self.name(self.settings.get("project") or name, "project", key="unit")
        apps = sorted(
            info["apps"], key=lambda a: STAGES.index(a["pipeline"]["stage"]) if a["pipeline"]["stage"] in STAGES else 99
        )
        result = dict(
            project=self.project(project, apps[0] if apps else None, pipeline=name),
            addons=[],
            secret_groups=[],
            services=[],
            jobs=[],
            domains=[],
            release_flows=[],
        )
        by_stage = {}
        for app in apps:
            stage = app["pipeline"]["stage"]
            if stage not in STAGES:
                self.skipped.append(
                    dict(
                        what="app %s" % app["app"]["name"], why="pipeline stage %s has no Northflank equivalent" % stage
                    )
                )
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
        stages = dict(
            (
                stage,
                dict(
                    services=[d["name"] for p in parts for d in p["deployments"]],
                    jobs=[j["name"] for p in parts for j in p["jobs"] if j.get("release_phase")],
                    addons=[],
                ),
            )
            for stage, parts in by_stage.items()
        )
        for parts_list in by_stage.values():
            for parts in parts_list:
                self.group_switch(parts, result["addons"])
        result["pipeline"] = dict(project=project, name=self.name(name, "pipeline", key="pipeline"), stages=stages)
        result["release_flows"] = self.release_flows(project, result["pipeline"]["name"], by_stage)
        return result

    @staticmethod
    def _release_job(parts):
        return next((j["name"] for j in parts["jobs"] if j.get("release_phase")), None)

    @staticmethod
    def upstream_for(parts, previous):
        """The ONE app of the stage before that an app is promoted from (a Heroku promotion copies one app's build
        to the apps downstream): the one running most of its process types (and its release phase), then by name."""
        wanted = set(d["process_type"] for d in parts["deployments"])
        release = UnitPlan._release_job(parts) is not None

        def score(up):
            types = set(d["process_type"] for d in up["deployments"])
            return (-len(wanted & types), -(release and UnitPlan._release_job(up) is not None), up["app"])

        return sorted(previous, key=score)[0]

    def release_flows(self, project, pipeline, by_stage):
        """One flow per stage (docs/mapping.md, "Pipelines"). The first stage deploys each app's own build; each later
        stage promotes, for each app, all its process types from one app of the stage before (upstream_for). Every
        app's release phase runs first. What cannot be promoted (a process type or a release phase the upstream app
        does not have) is left out of the flow and reported; its service still deploys its own build."""
        flows, previous = [], None
        for stage in [s for s in STAGES if s in by_stage]:
            parts_list = sorted(by_stage[stage], key=lambda p: p["app"])
            flow = dict(project=project, pipeline=pipeline, stage=stage)
            targets, phases = [], []
            if previous is None:
                first = parts_list[0]["source"]
                flow.update(mode="build", build_service=first["build_service"], branch=first["branch"])
                for parts in parts_list:
                    src = parts["source"]
                    own = dict(build_service=src["build_service"], branch=src["branch"])
                    targets += [dict(own, id=d["name"], type="service") for d in parts["deployments"]]
                    release = self._release_job(parts)
                    if release:
                        phases.append(dict(own, job=release))
            else:
                flow.update(mode="promote")
                for parts in parts_list:
                    up = self.upstream_for(parts, previous)
                    if len(previous) > 1:
                        self.warnings.append(
                            "stage %s: %s is promoted from %s (of %s in the stage before)"
                            % (stage, parts["app"], up["app"], ", ".join(p["app"] for p in previous))
                        )
                    origins = dict((d["process_type"], d["name"]) for d in up["deployments"])
                    for d in parts["deployments"]:
                        if d["process_type"] in origins:
                            targets.append(dict(id=d["name"], type="service", origin=origins[d["process_type"]]))
                        else:
                            self.skipped.append(
                                dict(
                                    what="promotion of process type %s to %s (stage %s)"
                                    % (d["process_type"], parts["app"], stage),
                                    why="%s, which it is promoted from, does not run it: service %s deploys its own "
                                    "build"
                                    % (up["app"], d["name"]),
                                )
                            )
                    release, up_release = self._release_job(parts), self._release_job(up)
                    if release and up_release:
                        phases.append(dict(job=release, origin=up_release))
                    elif release:
                        self.skipped.append(
                            dict(
                                what="release phase of %s in the %s release flow" % (parts["app"], stage),
                                why="%s, which it is promoted from, has no release phase to promote: run job %s "
                                "yourself"
                                % (up["app"], release),
                            )
                        )
                    elif up_release:
                        self.warnings.append(
                            "stage %s: %s has no release phase; the release phase of %s is not run for it"
                            % (stage, parts["app"], up["app"])
                        )
            if not targets:
                self.skipped.append(
                    dict(
                        what="release flow of stage %s" % stage,
                        why="nothing to promote from the stage before; its services deploy their own builds",
                    )
                )
                previous = parts_list
                continue
            flow["targets"] = targets
            if phases:
                flow["release_phase"] = phases if len(phases) > 1 else phases[0]
            flows.append(flow)
            previous = parts_list
        return flows

    def project(self, name, info, pipeline=None):
        region = self.settings.get("region") or region_for(
            (info or {}).get("app", {}).get("region"), self.settings.get("regions") or {}, self.unit
        )
        what = "pipeline %s" % pipeline if pipeline else "app %s" % info["app"]["name"]
        # The description marks the project as this unit's: northflank_project's owner refuses another unit's project.
        return dict(name=name, region=region, description="Migrated from Heroku %s" % what, owner="Heroku %s" % what)

    def plan(self, kind, info):
        """``kind`` is ``app`` or ``pipeline``; ``info`` what heroku_app_info / heroku_pipeline_info returned."""
        scenario = info["migration"]["scenario"]
        if scenario == "unsupported":
            raise MappingError("%s cannot be migrated: %s" % (self.unit, info["migration"]["reason"]))
        # First pass: every name the unit needs; then each made unique (rules.unique_names); second pass: the plan.
        self.names, self.wanted = None, {}
        self.compose(kind, scenario, info)
        self.names, renamed = {}, []
        for name_kind in sorted(self.wanted):
            self.names[name_kind], entries = unique_names(self.wanted[name_kind], name_kind, self.unit)
            renamed.extend(entries)
        self.reset()
        resources = self.compose(kind, scenario, info)
        project_entry = (
            project_rename(kind, self.unit, resources["project"]["name"]) if self.settings.get("project") else None
        )
        self.renamed = ([project_entry] if project_entry else []) + renamed
        resources.update(
            unit=self.unit,
            kind=kind,
            scenario="pipeline" if kind == "pipeline" else scenario,
            tables_version=self.settings.get("tables_version"),
            renamed=self.renamed,
            todo=self.todo,
            skipped=self.skipped,
            warnings=self.warnings,
            git_mirrors=self.git_mirrors,
            heroku=self.heroku,
            switch=self.switch,
            switched=self.switched,
        )
        return resources

    def compose(self, kind, scenario, info):
        if kind == "pipeline":
            return self.pipeline(info)
        if scenario == "single_dyno":
            return self.single_dyno(info)
        return self.multi_dyno(info)


def plan_unit(unit, kind, info, settings):
    """The plan of one unit, and its secret values by reference: ``(plan, secrets)``."""
    builder = UnitPlan(unit, settings)
    plan = builder.plan(kind, info)
    return plan, builder.secrets

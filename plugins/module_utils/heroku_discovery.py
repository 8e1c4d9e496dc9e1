# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read one Heroku app or pipeline into the normalised structure the roles and the mapping code use,
and the account into migration units (the inventory). docs/heroku-discovery.md has the structure,
the requests and the rules.

Requests for one app: the app, formation, config vars, add-on attachments (with the config var
names each sets), add-ons, domains, features, pipeline coupling, the newest releases, then the
current slug and the buildpack installations (Cedar) or the current OCI image (Fir): 11 for a
Cedar app, plus the pipeline's name when the app is coupled and the Scheduler's jobs when it has
the add-on. Container-registry apps skip the slug, image and buildpack reads (9).
"""

from __future__ import annotations

import fnmatch

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.herokumigrate.northflank.plugins.module_utils.api import HAS_REQUESTS, REQUESTS_IMPORT_ERROR
from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku import (
    HerokuError,
    argument_spec,
    client_from_params,
)
from ansible_collections.herokumigrate.northflank.plugins.module_utils.rules import (
    STAGES,
    classify_app,
    classify_config_vars,
    classify_pipeline,
    cron_from_heroku_schedule,
    unit_project_names,
)

APP = "/apps/{app}"
SCHEDULER_URL = "https://particleboard.heroku.com"
SCHEDULER_ADDON = "scheduler"
SCHEDULER_ACCEPT = "application/vnd.api+json"
RELEASE_RANGE = "version ..; max=10, order=desc"
ATTACHMENT_INCLUSION = "addon:plan,config_vars"


def _name(value):
    """Heroku returns some references as ``{"id", "name"}`` objects and some as strings (3.sdk)."""
    if isinstance(value, dict):
        return value.get("name")
    return value


class HerokuDiscovery(object):
    """Reads apps and pipelines through one (caching) HerokuClient."""

    def __init__(self, client, scheduler_client=None, warn=None):
        self.client = client
        self.scheduler_client = scheduler_client
        self.warn = warn or (lambda msg: None)

    # -- one app ------------------------------------------------------------------------
    def app_info(self, app_ref, coupling=None, pipeline=None):
        c = self.client
        app = c.get(APP, app=app_ref)
        ref = app["id"]
        fields = app_fields(app)
        generation = fields["generation"]
        container = "container" in (fields["stack"], fields["build_stack"])

        formation = self._formation(ref)
        config_vars = dict((k, "" if v is None else v) for k, v in (c.get(APP + "/config-vars", app=ref) or {}).items())
        attachments = c.list(APP + "/addon-attachments", app=ref, headers={"Accept-Inclusion": ATTACHMENT_INCLUSION})
        addons = self._addons(app, c.list(APP + "/addons", app=ref), attachments)
        domains = [
            dict(hostname=d["hostname"], kind=d["kind"], cname=d.get("cname"), status=d.get("status"))
            for d in c.list(APP + "/domains", app=ref)
        ]
        features = dict((f["name"], f["enabled"]) for f in c.list(APP + "/features", app=ref))

        if coupling is None:
            coupling = c.get_or_none(APP + "/pipeline-couplings", app=ref)
        if coupling and pipeline is None:
            pipeline = c.get("/pipelines/{pipeline}", pipeline=coupling["pipeline"]["id"])

        release = self._release(app, generation, container)
        buildpacks = release.pop("_oci_buildpacks", None)
        if buildpacks is None:
            buildpacks = []
            # Container apps have none; Fir apps none either (their OCI image lists them, read with the release).
            if not container and generation != "fir":
                installs = sorted(c.list(APP + "/buildpack-installations", app=ref), key=lambda b: b.get("ordinal", 0))
                buildpacks = [b["buildpack"].get("name") or b["buildpack"]["url"] for b in installs]

        info = dict(
            app=fields,
            formation=formation,
            process_types=release.get("process_types") or {},
            config_vars=config_vars,
            config_var_classes=classify_config_vars(config_vars, attachments),
            addons=addons,
            domains=domains,
            custom_domains=[d["hostname"] for d in domains if d["kind"] == "custom"],
            buildpacks=buildpacks,
            features=features,
            pipeline=dict(id=pipeline["id"], name=pipeline["name"], stage=coupling["stage"])
            if coupling and pipeline
            else None,
            release=release,
            scheduler=self._scheduler(app, addons),
        )
        info["migration"] = classify_app(info)
        return info

    def _formation(self, app_id):
        rows = self.client.list(APP + "/formation", app=app_id)
        return sorted(
            (
                dict(
                    type=f["type"],
                    quantity=f["quantity"],
                    size=f.get("size") or _name(f.get("dyno_size")),
                    command=f.get("command"),
                )
                for f in rows
            ),
            key=lambda f: (f["type"] != "web", f["type"]),
        )

    def _addons(self, app, addons, attachments):
        by_addon = {}
        for attachment in attachments:
            by_addon.setdefault(attachment["addon"]["id"], []).append(
                dict(
                    name=attachment["name"],
                    config_vars=attachment.get("config_vars") or [],
                    namespace=attachment.get("namespace"),
                )
            )
        out = []
        for addon in addons:
            owner = _name(addon.get("app"))
            out.append(
                dict(
                    id=addon["id"],
                    name=addon["name"],
                    service=_name(addon.get("addon_service")),
                    plan=_name(addon.get("plan")),
                    owning_app=owner,
                    owned_by_other_app=owner != app["name"],
                    attachments=by_addon.get(addon["id"], []),
                    config_vars=sorted(set(v for a in by_addon.get(addon["id"], []) for v in a["config_vars"])),
                )
            )
        return sorted(out, key=lambda a: a["name"])

    def _release(self, app, generation, container):
        c = self.client
        releases = (
            c.request("GET", APP + "/releases", params=dict(app=app["id"]), headers={"Range": RELEASE_RANGE}).body or []
        )
        current = next((r for r in releases if r.get("current")), None) or next(
            (r for r in releases if r.get("status") == "succeeded"), None
        )
        out = dict(
            id=None,
            version=None,
            created_at=None,
            description=None,
            slug_id=None,
            oci_image_id=None,
            commit=None,
            stack=None,
            buildpack_description=None,
            process_types={},
            has_release_phase=False,
        )
        if not current:
            return out
        slug_id, oci_id = release_artifacts(current)
        out.update(
            id=current.get("id"),
            version=current.get("version"),
            created_at=current.get("created_at"),
            description=current.get("description"),
            slug_id=slug_id,
            oci_image_id=oci_id,
        )
        if container:
            return out
        if oci_id:
            # Fir: the image says what runs and which buildpacks built it (docs/heroku-discovery.md, Fir apps); an array
            # of one.
            images = c.get(APP + "/oci-images/{image}", app=app["id"], image=oci_id) or []
            image = (images[0] if isinstance(images, list) and images else images) or {}
            out.update(
                commit=image.get("commit"),
                stack=_name(image.get("stack")),
                process_types=dict((k, oci_command(v)) for k, v in (image.get("process_types") or {}).items()),
                _oci_buildpacks=[b["id"] for b in image.get("buildpacks") or []],
            )
        elif slug_id:
            slug = c.get(APP + "/slugs/{slug}", app=app["id"], slug=slug_id)
            out.update(
                commit=slug.get("commit"),
                stack=_name(slug.get("stack")),
                process_types=slug.get("process_types") or {},
                buildpack_description=slug.get("buildpack_provided_description"),
            )
        out["has_release_phase"] = "release" in out["process_types"]
        return out

    def _scheduler(self, app, addons):
        if not any(a["service"] == SCHEDULER_ADDON for a in addons):
            return dict(available=True, jobs=[])
        if self.scheduler_client is None:
            return self._scheduler_unavailable(app, "no scheduler API configured")
        try:
            body = self.scheduler_client.request(
                "GET", "/apps/{app}/jobs", params=dict(app=app["id"]), headers={"Accept": SCHEDULER_ACCEPT}
            ).body
        except HerokuError as exc:
            return self._scheduler_unavailable(app, str(exc))
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            # An undocumented endpoint: anything but a JSON:API list of jobs means we cannot read it.
            return self._scheduler_unavailable(app, "unexpected answer from the scheduler API")
        jobs = []
        for item in body["data"]:
            attrs = (item.get("attributes") if isinstance(item, dict) else None) or {}
            try:
                schedule = cron_from_heroku_schedule(attrs.get("every"), attrs.get("at"))
            except (TypeError, ValueError) as exc:
                self.warn("%s: scheduler job %s skipped: %s" % (app["name"], item.get("id"), exc))
                continue
            jobs.append(
                dict(
                    id=str(item.get("id")),
                    command=attrs.get("command"),
                    dyno_size=attrs.get("dyno-size"),
                    every=attrs.get("every"),
                    at=attrs.get("at"),
                    schedule=schedule,
                )
            )
        return dict(available=True, jobs=jobs)

    def _scheduler_unavailable(self, app, why):
        # The Scheduler has no public API (docs/heroku-discovery.md, Scheduler): report, don't fail.
        self.warn(
            "%s has the Heroku Scheduler add-on but its jobs could not be read (%s); "
            "list them in herokumigrate_scheduler_jobs" % (app["name"], why)
        )
        return dict(available=False, jobs=[], reason=why)

    # -- the account, as migration units (the inventory) -----------------------------------
    def app_summary(self, app, coupling=None, pipeline=None):
        """What the inventory needs of an app, for one formation request: enough to classify it."""
        info = dict(
            app=app_fields(app),
            formation=self._formation(app["id"]),
            scheduler={},
            pipeline=dict(id=pipeline["id"], name=pipeline["name"], stage=coupling["stage"]) if coupling else None,
        )
        info["migration"] = classify_app(info)
        return info

    def units(self, app_patterns=("*",), pipeline_patterns=("*",), teams=()):
        """One unit per pipeline and one per app outside any pipeline, filtered by name patterns and teams."""
        apps = self.client.list("/apps")
        apps_by_id = dict((a["id"], a) for a in apps)
        members = {}
        for coupling in self.client.list("/pipeline-couplings"):
            app = apps_by_id.get(coupling["app"]["id"])
            if app is not None:
                members.setdefault(coupling["pipeline"]["id"], []).append((coupling, app))
        coupled = set(app["id"] for pairs in members.values() for _c, app in pairs)
        in_teams = (lambda app: _name(app.get("team")) in teams) if teams else (lambda app: True)
        pipelines = sorted(self.client.list("/pipelines"), key=lambda p: p["name"])
        # Project names from every unit of the account, before any filter: the same whatever is kept or --limit-ed.
        projects = unit_project_names(
            [("pipeline", p["name"]) for p in pipelines] + [("app", a["name"]) for a in apps if a["id"] not in coupled]
        )

        units = []
        for pipeline in pipelines:
            pairs = sorted(
                members.get(pipeline["id"], []), key=lambda pair: _stage_order(pair[0]["stage"], pair[1]["name"])
            )
            if not _matches(pipeline["name"], pipeline_patterns) or (
                teams and not any(in_teams(app) for _c, app in pairs)
            ):
                continue
            summaries = [self.app_summary(app, coupling, pipeline) for coupling, app in pairs]
            info = dict(apps=summaries)
            units.append(
                _unit(
                    "pipeline", pipeline, summaries, classify_pipeline(info), projects[("pipeline", pipeline["name"])]
                )
            )
        for app in sorted(apps, key=lambda a: a["name"]):
            if app["id"] in coupled or not _matches(app["name"], app_patterns) or not in_teams(app):
                continue
            summary = self.app_summary(app)
            units.append(_unit("app", app, [summary], summary["migration"], projects[("app", app["name"])]))
        return units

    # -- one pipeline ---------------------------------------------------------------------
    def pipeline_info(self, pipeline_ref):
        c = self.client
        pipeline = c.get("/pipelines/{pipeline}", pipeline=pipeline_ref)
        couplings = c.list("/pipelines/{pipeline}/pipeline-couplings", pipeline=pipeline["id"])
        apps = [self.app_info(cp["app"]["id"], coupling=cp, pipeline=pipeline) for cp in couplings]
        apps.sort(key=lambda a: _stage_order(a["pipeline"]["stage"], a["app"]["name"]))
        stages = {}
        for info in apps:
            stages.setdefault(info["pipeline"]["stage"], []).append(info["app"]["name"])
        info = dict(
            pipeline=dict(id=pipeline["id"], name=pipeline["name"], generation=_name(pipeline.get("generation"))),
            stages=stages,
            apps=apps,
        )
        info["migration"] = classify_pipeline(info)
        return info


def release_artifacts(release):
    """``(slug_id, oci_image_id)`` of a release. The v3 schema lists both under ``artifacts``
    (``{"type": "slug" | "oci-image", "id"}``); 3.sdk also has ``slug`` and ``oci_image`` objects."""
    slug_id = (release.get("slug") or {}).get("id")
    oci_id = (release.get("oci_image") or {}).get("id")
    for artifact in release.get("artifacts") or []:
        if artifact.get("type") == "slug" and not slug_id:
            slug_id = artifact.get("id")
        elif artifact.get("type") == "oci-image" and not oci_id:
            oci_id = artifact.get("id")
    return slug_id, oci_id


def oci_command(process_type):
    """The command of an OCI image's process type: ``display_cmd`` is the Procfile line (``npm start``);
    ``command`` is the CNB launcher path (``/cnb/process/web``), or an argv list."""
    if not isinstance(process_type, dict):
        return process_type
    command = process_type.get("display_cmd") or process_type.get("command")
    if isinstance(command, list):
        command = " ".join(str(part) for part in command)
    return command


def _stage_order(stage, name):
    order = ("test", "review", "development", "staging", "production")
    return (order.index(stage) if stage in order else len(order), name)


def _matches(name, patterns):
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def app_fields(app):
    """The app object, normalised (the 3.sdk variant has strings where version 3 has objects)."""
    return dict(
        id=app["id"],
        name=app["name"],
        region=_name(app.get("region")),
        stack=_name(app.get("stack")),
        build_stack=_name(app.get("build_stack")),
        generation=_name(app.get("generation")) or "cedar",
        space=_name(app.get("space")),
        team=_name(app.get("team")),
        maintenance=bool(app.get("maintenance")),
        internal_routing=bool(app.get("internal_routing")),
        acm=bool(app.get("acm")),
        git_url=app.get("git_url"),
        web_url=app.get("web_url"),
    )


def _unit(kind, obj, summaries, migration, project=None):
    """A migration unit: the host of the inventory."""
    if kind == "pipeline":
        # the apps that are migrated decide (review and test apps aside)
        summaries_kept = [s for s in summaries if s["pipeline"]["stage"] in STAGES]
    else:
        summaries_kept = summaries

    def single(field):
        values = sorted(set(s["app"][field] for s in summaries_kept if s["app"][field]))
        return values[0] if len(values) == 1 else None

    return dict(
        kind=kind,
        name=obj["name"],
        id=obj["id"],
        project=project,
        region=single("region"),
        team=single("team"),
        stack=single("stack"),
        generation=single("generation"),
        migration=migration,
        apps=[
            dict(
                name=s["app"]["name"],
                id=s["app"]["id"],
                region=s["app"]["region"],
                stack=s["app"]["stack"],
                stage=(s["pipeline"] or {}).get("stage"),
                process_types=s["migration"]["process_types"],
                scenario=s["migration"]["scenario"],
                reason=s["migration"].get("reason"),
            )
            for s in summaries
        ],
    )


def discovery_argument_spec():
    """Options of the discovery modules: the Heroku connection, the scheduler URL, whether to return values."""
    options = argument_spec()
    options["config_var_values"] = dict(type="bool", default=False)
    options["scheduler_url"] = dict(
        type="str", default=SCHEDULER_URL, fallback=(env_fallback, ["HEROKU_SCHEDULER_API_URL"])
    )
    return options


def discovery_from_module(module):
    """A HerokuDiscovery for a module's options (the scheduler is another host, same key)."""
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    try:
        client = client_from_params(module.params)
        scheduler = client_from_params(
            dict(module.params, api_url=module.params["scheduler_url"]),
            url_option="scheduler_url",
            url_env="HEROKU_SCHEDULER_API_URL",
        )
    except HerokuError as exc:
        module.fail_json(msg=exc.message)
    return HerokuDiscovery(client, scheduler_client=scheduler, warn=module.warn)


def request_counts(discovery):
    counts = dict(discovery.client.counts)
    if discovery.scheduler_client is not None:
        for key, value in discovery.scheduler_client.counts.items():
            counts["scheduler " + key] = value
    return counts

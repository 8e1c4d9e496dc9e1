# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read one Heroku app or pipeline into the normalised structure the roles and the mapping code use,
and the account into migration units (the inventory). docs/heroku-discovery.md has the structure,
the requests and the rules.

Requests for one app: the app, formation, config vars, add-on attachments (with the config var
names each sets and, embedded, each add-on with its plan: the add-on list itself is read only when
Heroku did not embed them), domains, features, pipeline coupling, the newest releases, then the
current slug and the buildpack installations (Cedar) or the current OCI image (Fir): 10 for a
Cedar app, plus the pipeline's name when the app is coupled and the Scheduler's jobs when it has
the add-on. Container-registry apps skip the slug, image and buildpack reads (8).

With a snapshot from the inventory (``inventory_snapshot``: the app, its formation and its pipeline
and stage, as the inventory read them moments before), the app, formation, coupling and pipeline
reads are skipped: 7 for a Cedar app. A snapshot the inventory served from its cache, older than
``snapshot_max_age``, or of another unit is not used (``usable_snapshot``).
"""

from __future__ import annotations

import calendar
import fnmatch
import time

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
# How old (seconds) the inventory's snapshot may be and still be used, unless the task says otherwise: about a long
# fleet run's length. A snapshot the inventory served from its cache is never used. See docs/heroku-discovery.md, "The
# inventory's snapshot".
SNAPSHOT_MAX_AGE = 1800
# Clocks of the inventory's host and the module's host may differ a little.
SNAPSHOT_CLOCK_SKEW = 60


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
    def app_info(self, app_ref, coupling=None, pipeline=None, snapshot=None):
        """One app. ``snapshot`` (an entry of the inventory's snapshot, already checked by ``usable_snapshot``:
        ``{"app", "formation", "pipeline"}``) stands for the app, formation, coupling and pipeline reads."""
        c = self.client
        if snapshot is not None:
            app = dict(snapshot["app"])
            if snapshot.get("pipeline"):
                coupling = dict(stage=snapshot["pipeline"]["stage"], pipeline=dict(id=snapshot["pipeline"]["id"]))
                pipeline = dict(id=snapshot["pipeline"]["id"], name=snapshot["pipeline"]["name"])
            else:
                coupling, pipeline = False, None
        else:
            app = c.get(APP, app=app_ref)
        ref = app["id"]
        fields = app_fields(app)
        generation = fields["generation"]
        container = "container" in (fields["stack"], fields["build_stack"])

        formation = [dict(row) for row in snapshot["formation"]] if snapshot is not None else self._formation(ref)
        config_vars = dict((k, "" if v is None else v) for k, v in (c.get(APP + "/config-vars", app=ref) or {}).items())
        attachments = c.list(APP + "/addon-attachments", app=ref, headers={"Accept-Inclusion": ATTACHMENT_INCLUSION})
        listed = addons_from_attachments(attachments)
        if listed is None:
            # Heroku did not embed every add-on's plan: the add-on list is the documented source.
            listed = c.list(APP + "/addons", app=ref)
        addons = self._addons(app, listed, attachments)
        domains = [
            dict(hostname=d["hostname"], kind=d["kind"], cname=d.get("cname"), status=d.get("status"))
            for d in c.list(APP + "/domains", app=ref)
        ]
        features = dict((f["name"], f["enabled"]) for f in c.list(APP + "/features", app=ref))

        if coupling is None:
            coupling = c.get_or_none(APP + "/pipeline-couplings", app=ref)
        coupling = coupling or None  # False: the snapshot says the app is in no pipeline
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
        """One unit per pipeline and one per app outside any pipeline, filtered by name patterns and teams. Each unit
        has its ``snapshot`` (see ``unit_snapshot``): what was read of it, for the discovery modules to reuse."""
        read_at = time.time()
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
            unit = _unit(
                "pipeline", pipeline, summaries, classify_pipeline(info), projects[("pipeline", pipeline["name"])]
            )
            unit["snapshot"] = unit_snapshot(read_at, summaries, pipeline)
            units.append(unit)
        for app in sorted(apps, key=lambda a: a["name"]):
            if app["id"] in coupled or not _matches(app["name"], app_patterns) or not in_teams(app):
                continue
            summary = self.app_summary(app)
            unit = _unit("app", app, [summary], summary["migration"], projects[("app", app["name"])])
            unit["snapshot"] = unit_snapshot(read_at, [summary])
            units.append(unit)
        return units

    # -- one pipeline ---------------------------------------------------------------------
    def pipeline_info(self, pipeline_ref, snapshot=None):
        """One pipeline. ``snapshot`` (the inventory's, already checked by ``usable_snapshot``) stands for the pipeline
        and couplings reads, and for each app's app, formation and coupling reads."""
        c = self.client
        if snapshot is not None:
            pipeline = dict(snapshot["pipeline"])
            apps = [self.app_info(entry["app"]["id"], snapshot=entry) for entry in snapshot["apps"]]
        else:
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


def addons_from_attachments(attachments):
    """The app's add-ons, from its attachments read with ``Accept-Inclusion: addon:plan`` (each attachment embeds its
    add-on: id, name, billing app and plan). The add-ons an app has access to are those attached to it, so this is the
    add-on list without its request; the service is the plan name's prefix (``heroku-postgresql:essential-0``).
    None when one attachment lacks its plan (the header not honoured): then read the add-on list."""
    addons = {}
    for attachment in attachments:
        addon = attachment.get("addon") or {}
        plan = _name(addon.get("plan"))
        if not addon.get("id") or not plan or ":" not in plan:
            return None
        addons.setdefault(
            addon["id"],
            dict(id=addon["id"], name=addon.get("name"), app=addon.get("app"), plan=addon.get("plan"),
                 addon_service=dict(name=plan.split(":", 1)[0])),
        )
    return list(addons.values())


def unit_snapshot(read_at, summaries, pipeline=None):
    """What the inventory read of a unit, for the discovery modules (host variable ``heroku_snapshot``): when, and per
    app the app's fields, its formation and its pipeline and stage; a pipeline unit also its pipeline. No secret: the
    inventory reads no config var."""
    return dict(
        read_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(read_at)),
        from_cache=False,
        pipeline=dict(id=pipeline["id"], name=pipeline["name"], generation=_name(pipeline.get("generation")))
        if pipeline
        else None,
        apps=[dict(app=s["app"], formation=s["formation"], pipeline=s["pipeline"]) for s in summaries],
    )


def usable_snapshot(snapshot, kind, ref, max_age, now=None):
    """``(snapshot, why_not)``: the inventory's snapshot if it describes this ``kind`` (``app`` or ``pipeline``) named
    or identified by ``ref`` and is at most ``max_age`` seconds old, else None and the reason (it is then not used and
    everything is read again). For an app, the snapshot returned is the app's entry."""
    if not snapshot:
        return None, "no snapshot"
    if not max_age or max_age <= 0:
        return None, "snapshot_max_age is 0"
    if snapshot.get("from_cache"):
        return None, "snapshot from the inventory cache"
    try:
        read_at = calendar.timegm(time.strptime(snapshot["read_at"], "%Y-%m-%dT%H:%M:%SZ"))
        age = (time.time() if now is None else now) - read_at
        apps = snapshot["apps"]
        for entry in apps:
            if not (entry["app"]["id"] and entry["app"]["name"] and isinstance(entry["formation"], list)):
                return None, "snapshot malformed"
    except (KeyError, TypeError, ValueError, OverflowError):
        return None, "snapshot malformed"
    if age > max_age:
        return None, "snapshot %d s old (snapshot_max_age %d s)" % (age, max_age)
    if age < -SNAPSHOT_CLOCK_SKEW:
        return None, "snapshot read in the future (clock skew)"
    if kind == "app":
        if snapshot.get("pipeline") or len(apps) != 1 or ref not in (apps[0]["app"]["id"], apps[0]["app"]["name"]):
            return None, "snapshot of another unit"
        return apps[0], None
    pipeline = snapshot.get("pipeline") or {}
    if ref not in (pipeline.get("id"), pipeline.get("name")) or not all(
        (e.get("pipeline") or {}).get("id") == pipeline["id"] for e in apps
    ):
        return None, "snapshot of another unit"
    return snapshot, None


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
    options["inventory_snapshot"] = dict(type="dict")
    options["snapshot_max_age"] = dict(type="int", default=SNAPSHOT_MAX_AGE)
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

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_addon
short_description: Create, scale, upgrade or delete a Northflank addon (managed database)
version_added: 1.0.0
description:
  - Ensures an addon (PostgreSQL, Redis, MySQL, MongoDB...) exists in a Northflank project with the given plan, storage,
    replicas, network settings and backup schedules, or is absent.
  - The addon is found by the ID Northflank derives from its name. Only what the task sets is compared; a re-run that
    finds nothing different sends no write.
  - An existing addon is updated with a PATCH that carries only the changed keys.
  - Northflank can only increase storage and replicas. A lower O(storage) or O(replicas) than the addon has is an error,
    reported before anything is sent (in check mode too); it is never ignored.
  - The addon type cannot change. A different O(type) is an error.
  - A different O(version) upgrades the addon, but only to a version Northflank offers as an upgrade of the running one
    (C(GET .../version) C(upgradeTo)). Anything else, a downgrade included, is an error that lists the versions on
    offer. Upgrades cannot be undone.
  - The result never contains the addon's credentials; use M(herokumigrate.northflank.northflank_addon_info) with
    O(herokumigrate.northflank.northflank_addon_info#module:credentials=true) to read them.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.northflank_progress
  - herokumigrate.northflank.northflank_resource
options:
  project:
    description:
      - ID of the project holding the addon.
    type: str
    required: true
  name:
    description:
      - Name of the addon, 3 to 39 letters, digits and single hyphens or spaces, starting with a letter.
      - Its ID is the name in lower case with spaces turned into hyphens.
    type: str
    required: true
  type:
    description:
      - Kind of addon, as listed by Northflank's C(GET /v1/addon-types), for example V(postgresql), V(redis), V(mysql),
        V(mongodb), V(minio) or V(rabbitmq).
      - Required to create the addon. Cannot change once the addon exists.
    type: str
  version:
    description:
      - Version of the addon software. V(latest), V(<major>-latest) (for example V(16-latest)) or an exact version.
      - When creating, defaults to V(latest). V(latest) is used only at creation and never triggers an upgrade.
      - V(<major>-latest) matches any running version of that major version; an exact version must match the running
        one.
      - On an existing addon, a version that does not match upgrades it, if Northflank offers that upgrade (see the
        description).
    type: str
  plan:
    description:
      - Compute plan of the addon (Northflank's C(billing.deploymentPlan)), for example V(nf-compute-20) or
        V(nf-compute-50).
      - Required to create the addon. Can be changed up or down.
    type: str
  storage:
    description:
      - Storage of each replica in MB, for example V(10240). Minimums depend on the type (V(4096) for Redis).
      - Required to create the addon. Can only grow; a lower value than the addon has is an error.
    type: int
  replicas:
    description:
      - Number of replicas. Defaults to V(1) when creating. Can only grow; a lower value than the addon has is an error.
    type: int
  tls:
    description:
      - Provision a TLS certificate for the addon's connections (C(tlsEnabled)).
    type: bool
  external_access:
    description:
      - Give the addon a public address reachable from the internet (C(externalAccessEnabled)). Requires O(tls=true).
    type: bool
  backup_schedules:
    description:
      - Automatic backups of the addon. The addon then has exactly these schedules, compared in order.
      - Omit to leave the schedules of an existing addon alone; an empty list removes them all.
    type: list
    elements: dict
    suboptions:
      interval:
        description: How often a backup is taken.
        type: str
        choices: [hourly, daily, weekly]
        required: true
      minute:
        description: Minutes of the hour at which backups start.
        type: list
        elements: int
        default: [0]
      hour:
        description: Hours of the day (UTC) at which daily and weekly backups start.
        type: list
        elements: int
      day:
        description: Days of the week (V(0) is Sunday) of weekly backups.
        type: list
        elements: int
      backup_type:
        description: V(dump) (logical, portable) or V(snapshot) (disk snapshot).
        type: str
        choices: [dump, snapshot]
        default: dump
      retention:
        description: Days a backup is kept.
        type: int
        default: 7
      compression:
        description: Compression of dump backups.
        type: str
        choices: [gz, zstd]
  description:
    description:
      - Description of the addon, at most 200 characters.
    type: str
  tags:
    description:
      - Tags of the addon.
    type: list
    elements: str
  wait:
    description:
      - Wait until the addon's C(status) is C(running) after a create, a scaling or an upgrade, and on a re-run that
        finds it still settling. A C(paused) addon is not waited for.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the addon to be running. When it runs out the task fails; a re-run resumes the wait.
    type: int
    default: 900
  poll_interval:
    description:
      - Seconds before the first status read while waiting. Each next wait doubles, up to six times this value
        (5, 10, 20, 30, 30... seconds by default), so that a long provisioning costs few of the 1000 requests an hour
        Northflank allows.
      - At least V(1).
    type: int
    default: 5
notes:
  - Northflank keeps backup schedules outside the addon itself; when O(backup_schedules) is set, one more read
    (C(GET .../backup-schedules)) compares them.
"""

EXAMPLES = r"""
- name: PostgreSQL database for the Heroku app acme-web
  herokumigrate.northflank.northflank_addon:
    project: acme-web
    name: acme-web-db
    type: postgresql
    version: 16-latest
    plan: nf-compute-50
    storage: 10240
    replicas: 1
    tls: true
    backup_schedules:
      - interval: daily
        hour: [3]
        retention: 7

- name: Redis, created without waiting (a later task waits for it)
  herokumigrate.northflank.northflank_addon:
    project: acme-web
    name: acme-web-redis
    type: redis
    plan: nf-compute-20
    storage: 4096
    wait: false

- name: Grow the database
  herokumigrate.northflank.northflank_addon:
    project: acme-web
    name: acme-web-db
    storage: 20480

- name: Delete the addon and its data
  herokumigrate.northflank.northflank_addon:
    project: acme-web
    name: acme-web-redis
    state: absent
"""

RETURN = r"""
addon:
  description:
    - The addon as the Northflank API returns it (C(GET /v1/projects/{project}/addons/{addon})). It holds no
      credentials.
    - In check mode, for an addon that does not exist yet, the request body that would be sent.
  returned: when O(state=present)
  type: dict
  sample:
    id: acme-web-db
    name: acme-web-db
    status: running
    spec:
      type: postgresql
      config:
        versionTag: "16.4"
        deployment:
          planId: nf-compute-50
          storageSize: 10240
          replicas: 1
        networking:
          tlsEnabled: true
          externalAccessEnabled: false
changed_paths:
  description: Dotted paths of the request body that differed from the addon (for example C(billing.storage)).
  returned: when an existing addon was changed
  type: list
  elements: str
  sample: ["billing.storage"]
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
  sample: {"GET /v1/projects/{project}/addons/{addon}": 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_module import progress_spec
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import (
    NorthflankResource, check_name, derive_id)

ADDONS = "/v1/projects/{project}/addons"
ADDON = ADDONS + "/{addon}"
VERSION = ADDON + "/version"
SCHEDULES = ADDON + "/backup-schedules"
SETTLED = ("running", "paused")
BROKEN = ("failed", "error", "errorAllocating")


def version_matches(wanted, running):
    """Whether the running version tag satisfies the version the task asks for."""
    if wanted is None or wanted == "latest":
        return True
    if running is None:
        return False
    if running == wanted:
        return True
    if wanted.endswith("-latest"):
        prefix = wanted[:-len("-latest")]
        return running == prefix or running.startswith(prefix + ".")
    return running == wanted


def _version_key(version):
    return [int(part) if part.isdigit() else -1 for part in str(version).split(".")]


def schedule_body(schedule):
    scheduling = dict(interval=schedule["interval"], minute=schedule["minute"])
    if schedule["hour"] is not None:
        scheduling["hour"] = schedule["hour"]
    if schedule["day"] is not None:
        scheduling["day"] = schedule["day"]
    body = dict(scheduling=scheduling, backupType=schedule["backup_type"], retentionTime=schedule["retention"])
    if schedule["compression"] is not None:
        body["compressionType"] = schedule["compression"]
    return body


class Addon(NorthflankResource):
    kind = "addon"
    result_key = "addon"
    immutable_paths = ("type",)

    def validate(self):
        params = self.params
        if params["poll_interval"] < 1:
            return "poll_interval must be at least 1 second"
        if params["external_access"] and params["tls"] is False:
            return "external_access requires tls: Northflank gives a public address only to addons with TLS"
        for option in ("storage", "replicas"):
            if params[option] is not None and params[option] < 1:
                return "%s must be a positive number" % option
        return check_name(params["name"], "addon", max_len=39)

    @property
    def addon_id(self):
        return derive_id(self.params["name"])

    def route(self):
        return dict(project=self.params["project"], addon=self.addon_id)

    def read(self):
        current = self.client.get_or_none(ADDON, **self.route())
        self.exists = current is not None
        return current

    def desired(self):
        params = self.params
        # Defaults that apply only to a new addon: an existing one keeps its version and replicas.
        version = params["version"] or (None if self.exists else "latest")
        replicas = params["replicas"] or (None if self.exists else 1)
        body = dict(name=params["name"], type=params["type"], version=version, description=params["description"],
                    tags=params["tags"], tlsEnabled=params["tls"], externalAccessEnabled=params["external_access"],
                    billing=dict(deploymentPlan=params["plan"], storage=params["storage"], replicas=replicas))
        if params["backup_schedules"] is not None:
            body["backupSchedules"] = [schedule_body(s) for s in params["backup_schedules"]]
        return body

    def view(self, current):
        """The GET shape (``spec.config.deployment/networking``) in the shape of the create body.

        ``spec.config.deployment`` is untyped in the SDK: the docs' get-addon example names its keys ``planId`` and
        ``storageSize``, others name them as in the create body; both are read. So is the create/PATCH response
        shape (``billing``, ``version``, ``tlsEnabled``...)."""
        spec = current.get("spec") or {}
        config = spec.get("config") or {}
        deployment = config.get("deployment") or {}
        networking = config.get("networking") or {}
        billing = dict(current.get("billing") or {}, **deployment)
        running = config.get("versionTag") or current.get("version")
        wanted = self.params["version"]
        view = dict(
            name=current.get("name"),
            type=spec.get("type") or current.get("type"),
            # A running version that satisfies the wanted one (16.4 for 16-latest) compares equal.
            version=wanted if version_matches(wanted, running) else running,
            description=current.get("description"),
            tags=current.get("tags"),
            tlsEnabled=networking.get("tlsEnabled", current.get("tlsEnabled")),
            externalAccessEnabled=networking.get("externalAccessEnabled", current.get("externalAccessEnabled")),
            billing=dict(
                deploymentPlan=billing.get("planId", billing.get("deploymentPlan")),
                storage=billing.get("storageSize", billing.get("storage")),
                replicas=billing.get("replicas"),
            ),
        )
        if self.params["backup_schedules"] is not None:
            view["backupSchedules"] = self.current_schedules(current)
        return view

    def current_schedules(self, current):
        schedules = []
        for item in self.client.list(SCHEDULES, "schedules", project=self.params["project"], addon=current["id"]):
            schedule = dict(scheduling=item.get("scheduling"), backupType=item.get("backupType"),
                            retentionTime=item.get("retentionTime"))
            if item.get("backupCompressionType") is not None:
                schedule["compressionType"] = item["backupCompressionType"]
            schedules.append(schedule)
        return schedules

    def forbidden_change(self, body, view, changes):
        if view is None:
            missing = [option for option,
                       value in (("type", body.get("type")), ("plan", body["billing"].get("deploymentPlan")),
                                 ("storage", body["billing"].get("storage"))) if value is None]
            if missing:
                return "addon %r does not exist yet: set %s to create it" % (body["name"], ", ".join(missing))
            return None
        errors = []
        for key in ("storage", "replicas"):
            wanted, have = body.get("billing", {}).get(key), view["billing"].get(key)
            if "billing." + key in changes and have is not None and wanted < have:
                errors.append("%s cannot decrease from %s to %s" % (key, have, wanted))
        if errors:
            return ("cannot update addon %r: %s (Northflank can only increase storage and replicas; "
                    "set them to at least what the addon has (herokumigrate_addon_settings with the herokumigrate "
                    "roles), or "
                    "create a new addon and move the data to shrink it)" % (body["name"], "; ".join(errors)))
        if "version" in changes:
            self.upgrade_to = self.offered_upgrade(body["version"])
            if self.upgrade_to is None:
                offered = ("it offers upgrades to %s only" % ", ".join(self.offered) if self.offered
                           else "it offers no upgrade")
                return ("cannot change the version of addon %r from %s to %s: Northflank upgrades only to the versions "
                        "it offers, and %s (downgrades are never possible)"
                        % (body["name"], view["version"], body["version"], offered))
        return None

    def offered_upgrade(self, wanted):
        """The newest version Northflank offers as an upgrade that matches ``wanted`` (GET .../version), or None."""
        info = self.client.get(VERSION, **self.route())
        self.offered = [u.get("version") for u in info.get("upgradeTo") or [] if u.get("version")]
        matching = sorted((v for v in self.offered if version_matches(wanted, v)), key=_version_key)
        return matching[-1] if matching else None

    def create(self, body):
        return self.client.put(ADDONS, body, project=self.params["project"])

    def update(self, body, changes, current):
        keys = set(p.split(".")[0] for p in changes) - {"name", "type", "version"}
        patch = dict((k, body[k]) for k in keys if k != "billing")
        if "billing" in keys:
            patch["billing"] = dict((p.split(".", 1)[1], body["billing"][p.split(".", 1)[1]])
                                    for p in changes if p.startswith("billing."))
        result = current
        if patch:
            result = self.client.patch(ADDON, patch, **self.route())
        if "version" in changes:
            self.client.post(VERSION, dict(version=self.upgrade_to), **self.route())
            result = dict(result, status="upgrading")
        return result

    def wait(self, resource):
        if not self.params["wait"] or resource.get("status") in SETTLED:
            return resource
        return self.poll(lambda: self.client.get(ADDON, **self.route()), done=lambda r: r.get("status") in SETTLED,
                         failed=lambda r: r.get("status") in BROKEN and "status %s" % r.get("status"),
                         what=repr(self.params["name"]), describe=lambda r: "status %s" % r.get("status"),
                         **self.pacing())

    def delete(self, current):
        self.client.delete(ADDON, **self.route())


def main():
    module = AnsibleModule(
        argument_spec=Addon.spec(
            **progress_spec(),
            project=dict(type="str", required=True),
            name=dict(type="str", required=True),
            type=dict(type="str"),
            version=dict(type="str"),
            plan=dict(type="str"),
            storage=dict(type="int"),
            replicas=dict(type="int"),
            tls=dict(type="bool"),
            external_access=dict(type="bool"),
            backup_schedules=dict(type="list", elements="dict", options=dict(
                interval=dict(type="str", required=True, choices=["hourly", "daily", "weekly"]),
                minute=dict(type="list", elements="int", default=[0]),
                hour=dict(type="list", elements="int"),
                day=dict(type="list", elements="int"),
                backup_type=dict(type="str", default="dump", choices=["dump", "snapshot"]),
                retention=dict(type="int", default=7),
                compression=dict(type="str", choices=["gz", "zstd"]),
            )),
            description=dict(type="str"),
            tags=dict(type="list", elements="str"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=900),
            poll_interval=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    Addon(module).run()


if __name__ == "__main__":
    main()

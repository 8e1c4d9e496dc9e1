# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addons, their versions and credentials, and their backups, imports and restores."""

from __future__ import annotations

import copy
import sys
from typing import Optional

from tests.emulators._server import HttpError, Request, Response
from tests.emulators.northflank.catalogue import ADDON_TYPES, check_addon_bounds
from tests.emulators.northflank.core import ADDON_CHANGE_STEPS, ADDON_STEPS, BACKUP_STEPS, P, now_iso, pick, uid_of
from tests.emulators.northflank.pg import DataError


class Addons:
    """A mixin of ``NorthflankEmulator``."""

    def routes(self) -> list:
        """(method, SDK path template, handler) of the routes this family serves."""
        addon = f"{P}/addons/{{addonId}}"
        return [
            ("GET", f"{P}/addons", self.list_addons),
            ("POST", f"{P}/addons", self.save_addon),
            ("PUT", f"{P}/addons", self.save_addon),
            ("GET", addon, self.get_addon),
            ("PATCH", addon, self.patch_addon),
            ("DELETE", addon, self.delete_addon),
            ("GET", f"{addon}/credentials", self.get_addon_credentials),
            ("GET", f"{addon}/version", self.get_addon_version),
            ("POST", f"{addon}/version", self.upgrade_addon),
            ("GET", f"{addon}/backup-schedules", self.list_backup_schedules),
            ("GET", f"{addon}/backups", self.list_backups),
            ("POST", f"{addon}/backups", self.backup_addon),
            ("GET", f"{addon}/backups/{{backupId}}", self.get_backup),
            ("POST", f"{addon}/import", self.import_backup),
            ("POST", f"{addon}/backups/{{backupId}}/restore", self.restore_backup),
            ("GET", f"{addon}/backups/{{backupId}}/restores", self.list_backup_restores),
            ("GET", f"{addon}/restores", self.list_addon_restores),
            ("POST", f"{addon}/restart", self.restart_addon),
            ("POST", f"{addon}/pause", self.pause_addon),
            ("POST", f"{addon}/resume", self.resume_addon),
        ]

    def check_addon(self, body: dict, existing: Optional[dict]) -> None:
        """Type, version, storage and replicas passed the catalogue check (``catalogue.check_catalogue``); what is left
        depends on the addon as it stands."""
        if "billing" not in body:
            raise HttpError(
                501, "The emulator only implements addons with billing (not templateValues or region variants)"
            )
        self.check_addon_billing(body["billing"], existing["spec"]["billing"] if existing else None)
        if existing and existing["spec"]["type"] != body["type"]:
            raise HttpError(400, f"The type of addon {existing['id']!r} cannot be changed")

    @staticmethod
    def check_addon_billing(billing: dict, old: Optional[dict]) -> None:
        for key in ("storage", "replicas"):
            if old and key in billing and billing[key] < old[key]:
                raise HttpError(400, f"billing.{key} can only be increased ({old[key]} -> {billing[key]})")

    @staticmethod
    def addon_version(record: dict) -> str:
        """The exact version behind ``latest`` / ``16-latest``."""
        wanted, versions = record["spec"]["version"], ADDON_TYPES[record["spec"]["type"]].versions
        major = wanted.removesuffix("latest").rstrip("-")
        return next((v for v in versions if wanted == v or v.startswith(f"{major}.") or not major), wanted)

    def addon_create_view(self, pid: str, record: dict) -> dict:
        spec = {k: v for k, v in record["spec"].items() if k != "projectId"}
        return {
            **copy.deepcopy(spec),
            "id": record["id"],
            "appId": f"/{pid}/{record['id']}",
            "cluster": self.cluster(pid),
            "status": record["status"],
            "createdAt": record["createdAt"],
            "updatedAt": record["updatedAt"],
        }

    def save_addon(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        record = self.upsert(self.addons, pid, req, ADDON_STEPS, ADDON_CHANGE_STEPS, self.check_addon)
        return self.ok(self.addon_create_view(pid, record))

    def addon(self, req: Request) -> dict:
        return self.addons.get(self.project(req)["id"], req.params["addonId"])

    def get_addon(self, req: Request) -> Response:
        pid, record = req.params["projectId"], self.advance(self.addon(req))
        spec = record["spec"]
        config = {
            "versionTag": spec["version"],
            "lifecycleStatus": "active",
            "deployment": copy.deepcopy(spec["billing"]),
            "networking": {
                "tlsEnabled": spec.get("tlsEnabled", False),
                "externalAccessEnabled": spec.get("externalAccessEnabled", False),
            },
        }
        return self.ok(
            {
                "id": record["id"],
                "name": spec["name"],
                "appId": f"/{pid}/{record['id']}",
                "uid": record["uid"],
                "status": record["status"],
                "cluster": self.cluster(pid),
                "createdAt": record["createdAt"],
                "tags": spec.get("tags", []),
                "spec": {"type": spec["type"], "config": config, "pendingActions": []},
                **pick(spec, "description", "stageId"),
            }
        )

    def list_addons(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        return self.page(
            req,
            [
                {
                    "id": r["id"],
                    "name": r["spec"]["name"],
                    "appId": f"/{pid}/{r['id']}",
                    "uid": r["uid"],
                    "status": self.advance(r)["status"],
                    "spec": {"type": r["spec"]["type"]},
                    "tags": r["spec"].get("tags", []),
                    **pick(r["spec"], "description", "stageId"),
                }
                for r in self.addons.all(pid)
            ],
            "addons",
        )

    def patch_addon(self, req: Request) -> Response:
        record = self.addon(req)
        if "billing" in req.data:
            self.check_addon_billing(req.data["billing"], record["spec"]["billing"])
            kind = ADDON_TYPES[record["spec"]["type"]]
            try:
                check_addon_bounds(f"PATCH addon {record['id']!r}", kind, req.data["billing"])
            except AssertionError as exc:
                raise self.contract_violation(str(exc)) from None
        return self.ok(
            self.addon_create_view(req.params["projectId"], self.patch(record, req.data, ADDON_CHANGE_STEPS))
        )

    def delete_addon(self, req: Request) -> Response:
        pid, aid = req.params["projectId"], self.addon(req)["id"]
        self.addons.remove(pid, aid)
        for store in (self.backups, self.restores):
            store.drop(f"{pid}/{aid}")
        return self.ok({})

    def addon_values(self, pid: str, addon_id: str) -> dict:
        """Made-up connection details, stable per addon, for every key the type offers."""
        kind = ADDON_TYPES[self.addons.get(pid, addon_id)["spec"]["type"]]
        host, secret = f"primary.{addon_id}--{uid_of(pid)[:8]}.addon.code.run", uid_of("password", pid, addon_id)
        uri = f"{kind.scheme}://user:{secret}@{host}:{kind.port}/{addon_id}"
        values = {
            "HOST": host,
            "PORT": str(kind.port),
            "DATABASE": addon_id,
            "USERNAME": "user",
            "PASSWORD": secret,
            "MINIO_ENDPOINT": f"https://{host}",
            "ACCESS_KEY": uid_of("access", addon_id),
            "SECRET_KEY": secret,
            "JDBC_POSTGRES_URI": f"jdbc:postgresql://{host}:{kind.port}/{addon_id}",
        }
        if self.pg and kind is ADDON_TYPES["postgresql"]:  # the database that stands for the addon on the real server
            values.update(self.pg_login(pid, addon_id))
        return {key: values.get(key, uri) for key in kind.keys}

    def pg_login(self, pid: str, addon_id: str) -> dict:
        """Named after the addon, plus a stable suffix of the project so that two projects' addons never share one."""
        return self.pg.addon_login(f"{addon_id}-{uid_of(pid)[:8]}", uid_of("password", pid, addon_id))

    def upgrades(self, record: dict) -> list:
        """The versions of the type newer than the running one: what the addon can be upgraded to."""
        current, versions = self.addon_version(record), ADDON_TYPES[record["spec"]["type"]].versions
        return [
            {"version": v, "type": self.upgrade_type(current, v)}
            for v in (versions[: versions.index(current)] if current in versions else [])
        ]

    @staticmethod
    def upgrade_type(old: str, new: str) -> str:
        old_parts, new_parts = old.split("."), new.split(".")
        return "major" if old_parts[0] != new_parts[0] else "minor" if old_parts[1:2] != new_parts[1:2] else "patch"

    def get_addon_version(self, req: Request) -> Response:
        record = self.addon(req)
        return self.ok(
            {
                "version": self.addon_version(record),
                "lifecycleStatus": "active",
                "upgradeHistory": record.get("upgrades", []),
                "upgradeTo": self.upgrades(record),
            }
        )

    def upgrade_addon(self, req: Request) -> Response:
        record, wanted = self.addon(req), req.data["version"]
        current = self.addon_version(record)
        offered = [u["version"] for u in self.upgrades(record)]
        if wanted not in offered:
            raise HttpError(
                400, f"Version {wanted!r} is not an upgrade of {current} offered for addon {record['id']!r}: {offered}"
            )
        stamp = now_iso()
        record.setdefault("upgrades", []).append(
            {
                "upgradeId": self.next_id("upgrade"),
                "previousVersion": current,
                "newVersion": wanted,
                "upgradeType": self.upgrade_type(current, wanted),
                "createdAt": stamp,
                "completedAt": stamp,
                "status": {"status": "completed"},
            }
        )
        record["spec"]["version"] = wanted
        record.update(status="upgrading", next=["running"], updatedAt=stamp)
        return self.ok({})

    def list_backup_schedules(self, req: Request) -> Response:
        record = self.addon(req)
        schedules = [
            {
                "id": uid_of("schedule", record["id"], str(i)),
                "createdAt": record["createdAt"],
                "updatedAt": record["updatedAt"],
                **pick(
                    schedule,
                    "scheduling",
                    "backupType",
                    "retentionTime",
                    "additionalDestinations",
                    "customDestinationId",
                ),
                **({"backupCompressionType": schedule["compressionType"]} if "compressionType" in schedule else {}),
            }
            for i, schedule in enumerate(record["spec"].get("backupSchedules", []))
        ]
        return self.page(req, schedules, "schedules")

    def get_addon_credentials(self, req: Request) -> Response:
        values = self.addon_values(req.params["projectId"], self.addon(req)["id"])
        # get-addon-credentials' example: {"secrets": {"username", "password"}, "envs": {…}}, the secrets' names in
        # lower case
        return self.ok(
            {
                "secrets": {
                    k.lower(): v for k, v in pick(values, "USERNAME", "PASSWORD", "ACCESS_KEY", "SECRET_KEY").items()
                },
                "envs": values,
            }
        )

    # -- backups, imports, restores -------------------------------------------------------------------------
    def new_backup(self, req: Request, name: Optional[str], source: str, connection: Optional[str] = None) -> dict:
        """Backups wait in ``scheduled`` while their addon is not running (docs/emulators.md, "Asynchronous status").
        With ``--pg-target-url``, a
        postgresql import from a ``connection`` string is dumped for real, now: it completes with the dump's size, or
        fails, keeping the tool's message (password scrubbed) as ``error`` in the state, since the API has no field for
        it."""
        pid, addon = req.params["projectId"], self.addon(req)
        bid = self.next_id("backup")
        steps, data = BACKUP_STEPS, {}
        if connection is not None and self.pg and addon["spec"]["type"] == "postgresql":
            try:
                data["dump"], data["size"] = self.pg.dump(connection, bid)
            except DataError as exc:
                steps, data["error"] = (BACKUP_STEPS[0], "failed"), str(exc)
                print(f"northflank emulator: import {name or bid!r} failed: {exc}", file=sys.stderr, flush=True)
        if addon["status"] != "running":
            steps = ("scheduled", *steps)
        backup = self.new_record(
            bid,
            None,
            steps,
            name=name or bid,
            source=source,
            uid=uid_of("backup", bid),
            addonVersion=self.addon_version(addon),
            **data,
        )
        return self.backups.add(f"{pid}/{addon['id']}", backup)

    def backup_view(self, req: Request, backup: dict) -> dict:
        """BackupAddonResponse."""
        addon = self.addon(req)
        self.advance(backup, ready=backup["status"] != "scheduled" or addon["status"] == "running")
        data = {
            "id": backup["id"],
            "name": backup["name"],
            "uid": backup["uid"],
            "status": backup["status"],
            "createdAt": backup["createdAt"],
            "config": {
                "size": str(backup.get("size", 1048576)) if backup["status"] == "completed" else "0",
                "addonVersion": backup["addonVersion"],
                "source": {"type": backup["source"]},
            },
        }
        if "concludedAt" in backup:
            data["completedAt"] = backup["concludedAt"]
        return data

    def backup_addon(self, req: Request) -> Response:
        return self.ok(self.backup_view(req, self.new_backup(req, (req.data or {}).get("name"), "sameAddon")))

    def import_backup(self, req: Request) -> Response:
        """The import answers an undocumented body (untyped in the SDK): ``{}``; find the backup by ``name``."""
        self.new_backup(
            req,
            req.data.get("name"),
            "liveInstance" if "connectionString" in req.data else "externalDump",
            req.data.get("connectionString"),
        )
        return self.ok({})

    def list_backups(self, req: Request) -> Response:
        parent = f"{req.params['projectId']}/{self.addon(req)['id']}"
        items = []
        for backup in self.backups.all(parent):
            view = self.backup_view(req, backup)
            config = {
                "size": view["config"]["size"],
                "addonVersion": backup["addonVersion"],
                "source": view["config"]["source"],
            }
            items.append(
                {
                    **pick(view, "id", "name", "uid", "status", "createdAt"),
                    "completedAt": view.get("completedAt", ""),
                    "config": config,
                }
            )
        return self.page(req, items, "backups")

    def get_backup(self, req: Request) -> Response:
        return self.ok(
            self.backup_view(
                req, self.backups.get(f"{req.params['projectId']}/{self.addon(req)['id']}", req.params["backupId"])
            )
        )

    def restore_backup(self, req: Request) -> Response:
        parent = f"{req.params['projectId']}/{self.addon(req)['id']}"
        backup = self.backups.get(parent, req.params["backupId"])
        if backup["status"] != "completed":
            raise HttpError(
                409, f"Backup {backup['id']!r} is {backup['status']} and cannot be restored until it has completed"
            )
        steps, data = BACKUP_STEPS, {}
        if self.pg and "dump" in backup:  # a real import: replace the addon's database with it
            try:
                self.pg.restore(backup["dump"], self.pg_login(req.params["projectId"], self.addon(req)["id"]))
            except DataError as exc:
                steps, data["error"] = (BACKUP_STEPS[0], "failed"), str(exc)
                print(f"northflank emulator: restore of {backup['name']!r} failed: {exc}", file=sys.stderr, flush=True)
        restore = self.restores.add(
            parent, self.new_record(self.next_id("restore"), None, steps, backupId=backup["id"], **data)
        )
        return self.ok({"restoreId": restore["id"]})

    def restore_views(self, req: Request, backup_id: Optional[str]) -> list:
        parent = f"{req.params['projectId']}/{self.addon(req)['id']}"
        return [
            {
                "id": r["id"],
                "backupId": r["backupId"],
                "status": self.advance(r)["status"],
                "restoreTimestamp": r["createdAt"],
                **({"completedAt": r["concludedAt"]} if "concludedAt" in r else {}),
            }
            for r in self.restores.all(parent)
            if backup_id in (None, r["backupId"])
        ]

    def list_backup_restores(self, req: Request) -> Response:
        self.backups.get(f"{req.params['projectId']}/{self.addon(req)['id']}", req.params["backupId"])
        views = [
            {k: v for k, v in r.items() if k != "backupId"} for r in self.restore_views(req, req.params["backupId"])
        ]
        return self.page(req, views, "restores")

    def list_addon_restores(self, req: Request) -> Response:
        return self.page(req, self.restore_views(req, None), "restores")

    # -- restart, pause, resume -----------------------------------------------------------------------------
    def settle_addon(self, record: dict, steps: tuple) -> None:
        record.update(status=steps[0], next=list(steps[1:]), updatedAt=now_iso())
        record.pop("concludedAt", None)

    def restart_addon(self, req: Request) -> Response:
        """restart-addon: back to ``running`` through ``postDeployment`` (the status of the addon's last
        provisioning step; the reference names no restart status). A paused addon answers 409."""
        record = self.addon(req)
        if record["status"] == "paused":
            raise HttpError(409, f"The addon {record['id']!r} could not be restarted as it is paused")
        self.settle_addon(record, ("postDeployment", "running"))
        return self.ok({})

    def pause_addon(self, req: Request) -> Response:
        record = self.addon(req)
        if record["status"] == "paused":
            raise HttpError(409, f"The addon {record['id']!r} could not be paused as it is already paused")
        self.settle_addon(record, ("paused",))
        return self.ok({})

    def resume_addon(self, req: Request) -> Response:
        record = self.addon(req)
        if record["status"] != "paused":
            raise HttpError(409, f"The addon {record['id']!r} could not be resumed as it is not paused")
        self.settle_addon(record, ("postDeployment", "running"))
        return self.ok({})

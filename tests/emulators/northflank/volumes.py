# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Volumes."""

from __future__ import annotations

from typing import Optional

from tests.emulators._server import Request, Response
from tests.emulators.northflank.core import P, pick


class Volumes:
    """A mixin of ``NorthflankEmulator``."""

    def routes(self) -> list:
        """(method, SDK path template, handler) of the routes this family serves."""
        return [
            ("GET", f"{P}/volumes", self.list_volumes),
            ("POST", f"{P}/volumes", self.create_volume),
            ("GET", f"{P}/volumes/{{volumeId}}", self.get_volume),
            ("DELETE", f"{P}/volumes/{{volumeId}}", self.delete_volume),
        ]

    @staticmethod
    def volume_view(record: dict) -> dict:
        """CreateVolumeResponse (which has no ``mounts``)."""
        spec = record["spec"]
        return {
            "id": record["id"],
            "uid": record["uid"],
            "name": spec["name"],
            "spec": spec["spec"],
            "status": "ready",
            "tags": spec.get("tags", []),
            "createdAt": record["createdAt"],
            "updatedAt": record["updatedAt"],
            **pick(spec, "attachedObjects", "backupSchedules"),
        }

    def create_volume(self, req: Request) -> Response:
        pid = self.project(req)["id"]

        def check(body: dict, _existing: Optional[dict]) -> None:
            for obj in body.get("attachedObjects", []):
                (self.services if obj["type"] == "service" else self.jobs).get(pid, obj["id"])

        return self.ok(self.volume_view(self.upsert(self.volumes, pid, req, check=check)))

    def list_volumes(self, req: Request) -> Response:
        return self.page(
            req, [self.volume_view(r) for r in self.volumes.all(self.project(req)["id"])], None
        )  # a bare list, as the SDK types it

    def get_volume(self, req: Request) -> Response:
        return self.ok(self.volume_view(self.volumes.get(self.project(req)["id"], req.params["volumeId"])))

    def delete_volume(self, req: Request) -> Response:
        self.volumes.remove(self.project(req)["id"], req.params["volumeId"])
        return self.ok({})

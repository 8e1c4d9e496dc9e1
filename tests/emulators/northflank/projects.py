# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Projects: create, put, initialise, read, patch, delete (with or without their children)."""

from __future__ import annotations

from typing import Optional

from tests.emulators._server import HttpError, Request, Response
from tests.emulators.northflank.core import P, PROJECT_STEPS, now_iso, pick


class Projects:
    """A mixin of ``NorthflankEmulator``."""

    def routes(self) -> list:
        """(method, SDK path template, handler) of the routes this family serves."""
        return [
            ("GET", "/v1/projects", self.list_projects),
            ("POST", "/v1/projects", self.save_project),
            ("PUT", "/v1/projects", self.save_project),
            ("GET", P, self.get_project),
            ("PATCH", P, self.patch_project),
            ("DELETE", P, self.delete_project),
            ("POST", f"{P}/initialize", self.initialize_project),
        ]

    def project_view(self, record: dict) -> dict:
        """CreateProjectResponse."""
        return {
            "id": record["id"],
            "name": record["spec"]["name"],
            "lifecycleStatus": record["status"],
            "createdAt": record["createdAt"],
            "updatedAt": record["updatedAt"],
            **pick(record["spec"], "description", "color", "region", "clusterId", "networking"),
        }

    def check_project(self, body: dict, existing: Optional[dict]) -> None:
        if existing and any(
            existing["spec"].get(k) != body.get(k) for k in ("region", "clusterId") if k in existing["spec"]
        ):
            raise HttpError(400, "The region or cluster of a project cannot be changed")

    def save_project(self, req: Request) -> Response:
        placed = "region" in req.data or "clusterId" in req.data
        record = self.upsert(
            self.projects, "", req, PROJECT_STEPS if placed else ("pending_initialization",), check=self.check_project
        )
        return self.ok(self.project_view(record))

    def initialize_project(self, req: Request) -> Response:
        record = self.project(req)
        if record["status"] != "pending_initialization":
            raise HttpError(409, f"Project {record['id']!r} is already initialised")
        record["spec"].update(pick(req.data or {}, "region", "clusterId"))
        record.update(status=PROJECT_STEPS[0], next=list(PROJECT_STEPS[1:]), updatedAt=now_iso())
        return self.ok(self.project_view(record))

    def list_projects(self, req: Request) -> Response:
        return self.page(
            req,
            [
                {
                    "id": r["id"],
                    "name": r["spec"]["name"],
                    "uid": r["uid"],
                    "lifecycleStatus": self.advance(r)["status"],
                    **pick(r["spec"], "description"),
                }
                for r in self.projects.all("")
            ],
            "projects",
        )

    def get_project(self, req: Request) -> Response:
        record, pid = self.advance(self.project(req)), req.params["projectId"]

        def child(r: dict, **extra) -> dict:
            return {
                "id": r["id"],
                "name": r["spec"]["name"],
                "appId": f"/{pid}/{r['id']}",
                "uid": r["uid"],
                **pick(r["spec"], "description", "stageId"),
                **extra,
            }

        data = {
            "id": record["id"],
            "name": record["spec"]["name"],
            "uid": record["uid"],
            "lifecycleStatus": record["status"],
            "createdAt": record["createdAt"],
            "cluster": self.cluster(pid),
            **pick(record["spec"], "description"),
            "services": [child(s, serviceType=s["serviceType"]) for s in self.services.all(pid)],
            "jobs": [child(j, jobType=self.job_type(j)) for j in self.jobs.all(pid)],
            "addons": [child(a, spec={"type": a["spec"]["type"]}) for a in self.addons.all(pid)],
        }
        if "region" in record["spec"]:
            data["deployment"] = {"region": record["spec"]["region"]}
        return self.ok(data)

    def patch_project(self, req: Request) -> Response:
        return self.ok(self.project_view(self.patch(self.project(req), req.data)))

    def delete_project(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        children = [self.services, self.secrets, self.addons, self.jobs, self.volumes, self.pipelines]
        if any(store.all(pid) for store in children) and req.query.get("delete_child_objects") != "true":
            raise HttpError(
                409,
                f"The project {pid!r} couldn't be deleted as it has dependencies; "
                "delete them first or pass delete_child_objects=true",
            )
        for store in children:
            store.drop(pid)
        for store in (self.builds, self.backups, self.restores, self.job_runs, self.flow_runs):
            for parent in [p for p in self.state.get(store.kind, {}) if p.startswith(pid + "/")]:
                store.drop(parent)
        self.projects.remove("", pid)
        return self.ok({})

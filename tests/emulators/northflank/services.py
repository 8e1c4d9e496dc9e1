# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Services (combined, build, deployment) and their builds."""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime
from typing import Callable, Optional

from tests.emulators._server import HttpError, Request, Response
from tests.emulators.northflank.core import BUILD_STEPS, P, ROLLOUT_STEPS, SERVICE_KINDS, merge, now_iso, pick


class Services:
    """A mixin of ``NorthflankEmulator``."""

    def routes(self) -> list:
        """(method, SDK path template, handler) of the routes this family serves."""
        svc = f"{P}/services/{{serviceId}}"
        return [
            ("GET", f"{P}/services", self.list_services),
            ("GET", svc, self.get_service),
            ("DELETE", svc, self.delete_service),
            *[(m, f"{P}/services/{kind}", self.save_service) for kind in SERVICE_KINDS for m in ("POST", "PUT")],
            *[("PATCH", f"{P}/services/{kind}/{{serviceId}}", self.patch_service) for kind in SERVICE_KINDS],
            ("POST", f"{svc}/build", self.start_build),
            ("GET", f"{svc}/build", self.list_builds),
            ("GET", f"{svc}/build/{{buildId}}", self.get_build),
            ("POST", f"{svc}/restart", self.restart_service),
            ("POST", f"{svc}/pause", self.pause_service),
            ("POST", f"{svc}/resume", self.resume_service),
        ]

    def service_status(self, pid: str, record: dict) -> dict:
        status = {}
        if record["serviceType"] != "build":
            status["deployment"] = {
                "status": record["status"],
                "reason": record.get("reason", "DEPLOYING"),
                "lastTransitionTime": record["updatedAt"],
            }
        builds = self.builds.all(f"{pid}/{record['id']}")
        if builds:
            status["build"] = {"status": builds[-1]["status"], "lastTransitionTime": builds[-1]["updatedAt"]}
        return status

    def service_view(self, pid: str, record: dict, full: bool) -> dict:
        """Create*Response echoes the spec; GetServiceResponse* adds ``uid`` and the docker paths on ``vcsData``."""
        spec = copy.deepcopy(record["spec"])
        data = {
            **spec,
            "id": record["id"],
            "appId": f"/{pid}/{record['id']}",
            "serviceType": record["serviceType"],
            "cluster": self.cluster(pid),
            "status": self.service_status(pid, record),
            "createdAt": record["createdAt"],
            "updatedAt": record["updatedAt"],
        }
        if full:
            data["uid"] = record["uid"]
            if "vcsData" in spec:
                data["vcsData"].update(self.docker_paths(spec))
        return data

    @staticmethod
    def docker_paths(spec: dict) -> dict:
        """GET responses require the Dockerfile paths on ``vcsData``, buildpack builds included."""
        dockerfile = spec.get("buildSettings", {}).get("dockerfile", {})
        return {
            "dockerFilePath": dockerfile.get("dockerFilePath", "/Dockerfile"),
            "dockerWorkDir": dockerfile.get("dockerWorkDir", "/"),
        }

    def check_service(self, pid: str, kind: str) -> Callable:
        def check(body: dict, existing: Optional[dict]) -> None:
            if existing and existing["serviceType"] != kind:
                raise HttpError(
                    409, f"There is already a {existing['serviceType']} service with the same derived identifier"
                )
            self.check_build_source(pid, body.get("deployment", {}))
            self.check_port_domains(body.get("ports", []))

        return check

    def check_build_source(self, pid: str, deployment: dict) -> None:
        source = deployment.get("internal", {}).get("id")
        if source and (self.services.find(pid, source) or {}).get("serviceType") not in ("build", "combined"):
            raise HttpError(404, f"Build service {source!r} not found in project {pid!r}")

    def check_port_domains(self, ports: list) -> None:
        for port in ports:
            for host in port.get("domains", []):
                found = [s for d in self.domains.all("") for s in self.subdomains.all(d["id"]) if s["fullName"] == host]
                if not found:
                    raise HttpError(404, f"One of the provided domains has not been registered: {host}")
                if not found[0]["verified"]:
                    raise HttpError(400, f"The domain {host} has not been verified")

    def save_service(self, req: Request) -> Response:
        pid, kind = self.project(req)["id"], req.path.rstrip("/").rsplit("/", 1)[1]
        steps = () if kind == "build" else ROLLOUT_STEPS
        record = self.upsert(self.services, pid, req, steps, steps, self.check_service(pid, kind), serviceType=kind)
        return self.ok(self.service_view(pid, record, full=False))

    def service(self, req: Request, kind: Optional[str] = None) -> dict:
        record = self.services.get(self.project(req)["id"], req.params["serviceId"])
        if kind and record["serviceType"] != kind:
            raise HttpError(
                404, f"No {kind} service with ID {record['id']!r} found (it is a {record['serviceType']} service)"
            )
        return record

    def patch_service(self, req: Request) -> Response:
        pid, kind = req.params["projectId"], req.path.rstrip("/").split("/")[-2]
        record = self.service(req, kind)
        self.check_build_source(pid, req.data.get("deployment", {}))
        self.check_port_domains(req.data.get("ports", []))
        return self.ok(
            self.service_view(pid, self.patch(record, req.data, () if kind == "build" else ROLLOUT_STEPS), full=False)
        )

    def get_service(self, req: Request) -> Response:
        return self.ok(self.service_view(req.params["projectId"], self.advance(self.service(req)), full=True))

    def list_services(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        return self.page(
            req,
            [
                {
                    "id": r["id"],
                    "name": r["spec"]["name"],
                    "appId": f"/{pid}/{r['id']}",
                    "uid": r["uid"],
                    "projectId": pid,
                    "serviceType": r["serviceType"],
                    "disabledCI": r["spec"].get("disabledCI", False),
                    "disabledCD": False,
                    "tags": r["spec"].get("tags", []),
                    "status": self.service_status(pid, self.advance(r)),
                    **pick(r["spec"], "description", "stageId"),
                }
                for r in self.services.all(pid)
            ],
            "services",
        )

    def delete_service(self, req: Request) -> Response:
        pid, sid = req.params["projectId"], self.service(req)["id"]
        self.services.remove(pid, sid)
        self.builds.drop(f"{pid}/{sid}")
        return self.ok({})

    # -- builds ---------------------------------------------------------------------------------------------
    def start_build(self, req: Request) -> Response:
        record = self.service(req)
        if record["serviceType"] == "deployment":
            raise HttpError(400, f"Service {record['id']!r} is a deployment service and cannot be built")
        body, bid = req.data or {}, self.next_id("build")
        branch = body.get("branch") or record["spec"].get("vcsData", {}).get("projectBranch") or "main"
        build = self.new_record(
            bid,
            None,
            BUILD_STEPS,
            branch=branch,
            sha=body.get("sha") or hashlib.sha1(bid.encode()).hexdigest(),
            **pick(body, "pullRequestId"),
        )
        self.builds.add(f"{req.params['projectId']}/{record['id']}", build)
        return self.ok(
            {
                "id": bid,
                "createdAt": build["createdAt"],
                "concluded": False,
                "status": build["status"],
                **pick(build, "branch", "sha", "pullRequestId"),
            }
        )

    @staticmethod
    def build_view(build: dict) -> dict:
        """GetJobBuildResponse."""
        concluded = not build["next"]
        data = {
            "id": build["id"],
            "createdAt": build["createdAt"],
            "status": build["status"],
            "concluded": concluded,
            "success": build["status"] == "SUCCESS",
            **pick(build, "branch", "sha", "pullRequestId"),
        }
        if concluded:
            data["buildConcludedAt"] = datetime.fromisoformat(build["concludedAt"].replace("Z", "+00:00")).timestamp()
        return data

    def list_builds(self, req: Request) -> Response:
        parent = f"{req.params['projectId']}/{self.service(req)['id']}"
        return self.page(req, [self.build_view(self.advance(b)) for b in self.builds.all(parent)], "builds")

    def get_build(self, req: Request) -> Response:
        parent = f"{req.params['projectId']}/{self.service(req)['id']}"
        return self.ok(self.build_view(self.advance(self.builds.get(parent, req.params["buildId"]))))

    # -- restart, pause, resume (the deprecated POST .../scale is refused: PATCH deployment.instances instead) --
    def running_service(self, req: Request, action: str) -> dict:
        record = self.service(req)
        if record["serviceType"] == "build":
            raise HttpError(400, f"Service {record['id']!r} is a build service and cannot be {action}")
        return record

    def roll_out(self, record: dict, reason: str = "DEPLOYING") -> None:
        """A new rollout: PENDING -> IN_PROGRESS -> COMPLETED, or FAILED when a test asked for it
        (``POST /_admin/next-outcome``)."""
        steps = list(ROLLOUT_STEPS)
        if self.take_outcome("service", record) == "FAILED":
            steps[-1] = "FAILED"
        record.update(status=steps[0], next=steps[1:], reason=reason, updatedAt=now_iso())
        record.pop("concludedAt", None)

    def restart_service(self, req: Request) -> Response:
        """restart-service: the containers are replaced with the same spec, so they read the runtime variables (and the
        secret groups they inherit) again. A paused service has none to restart (409, the emulator's choice)."""
        record = self.running_service(req, "restarted")
        if record.get("paused"):
            raise HttpError(409, "The service could not be restarted as it is paused")
        record["restarts"] = record.get("restarts", 0) + 1
        self.roll_out(record)
        return self.ok({})

    def pause_service(self, req: Request) -> Response:
        record = self.running_service(req, "paused")
        if record.get("paused"):
            raise HttpError(409, "The service could not be paused as it is already paused")
        record["paused"] = True
        self.roll_out(record, "SCALING")
        return self.ok({})

    def resume_service(self, req: Request) -> Response:
        """ResumeServiceRequest: ``instances`` replaces the service's count; 409 when not paused (documented)."""
        record = self.running_service(req, "resumed")
        if not record.get("paused"):
            raise HttpError(409, "The service could not be resumed as it is not paused")
        body = req.data or {}
        record["paused"] = False
        if "instances" in body:
            record["spec"] = merge(record["spec"], {"deployment": {"instances": body["instances"]}})
        self.roll_out(record, "SCALING")
        return self.ok({})

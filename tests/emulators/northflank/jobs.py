# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jobs (manual and cron) and their runs."""

from __future__ import annotations

import copy

from tests.emulators._server import Request, Response
from tests.emulators.northflank.core import JOB_RUN_STEPS, P, pick


class Jobs:
    """A mixin of ``NorthflankEmulator``."""

    def routes(self) -> list:
        """(method, SDK path template, handler) of the routes this family serves."""
        job = f"{P}/jobs/{{jobId}}"
        return [
            ("GET", f"{P}/jobs", self.list_jobs),
            ("POST", f"{P}/jobs", self.save_job),
            ("PUT", f"{P}/jobs", self.save_job),
            ("GET", job, self.get_job),
            ("PATCH", job, self.patch_job),
            ("DELETE", job, self.delete_job),
            ("POST", f"{job}/runs", self.start_job_run),
            ("GET", f"{job}/runs", self.list_job_runs),
            ("GET", f"{job}/runs/{{runId}}", self.get_job_run),
        ]

    @staticmethod
    def job_type(record: dict) -> str:
        return "cron" if "cron" in record["spec"].get("settings", {}) else "manual"

    def job_create_view(self, pid: str, record: dict) -> dict:
        """CreateJobResponse."""
        return {
            **copy.deepcopy(record["spec"]),
            "id": record["id"],
            "appId": f"/{pid}/{record['id']}",
            "jobType": self.job_type(record),
            "cluster": self.cluster(pid),
            "status": {},
            "createdAt": record["createdAt"],
            "updatedAt": record["updatedAt"],
        }

    def save_job(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        record = self.upsert(
            self.jobs, pid, req, check=lambda body, _existing: self.check_build_source(pid, body.get("deployment", {}))
        )
        return self.ok(self.job_create_view(pid, record))

    def job(self, req: Request) -> dict:
        return self.jobs.get(self.project(req)["id"], req.params["jobId"])

    def get_job(self, req: Request) -> Response:
        """GetJobResponse reshapes the spec: no deployment source, capitalised cron policy, docker paths on vcsData."""
        pid, record = req.params["projectId"], self.job(req)
        spec = record["spec"]
        settings = spec.get("settings", {"backoffLimit": 0})
        data_settings = {
            "backoffLimit": settings["backoffLimit"],
            "activeDeadlineSeconds": settings.get("activeDeadlineSeconds") or 0,
        }
        if "cron" in settings:
            cron = settings["cron"]
            data_settings["cron"] = {
                **({"schedule": cron["schedule"]} if cron.get("schedule") else {}),
                "concurrencyPolicy": cron.get("concurrencyPolicy", "allow").capitalize(),
            }
        deployment = spec.get("deployment", {})
        data = {
            "id": record["id"],
            "name": spec["name"],
            "appId": f"/{pid}/{record['id']}",
            "uid": record["uid"],
            "projectId": pid,
            "jobType": self.job_type(record),
            "tags": spec.get("tags", []),
            "disabledCI": spec.get("disabledCI", False),
            "disabledCD": False,
            "suspended": settings.get("cron", {}).get("suspended", False),
            "cluster": self.cluster(pid),
            "createdAt": record["createdAt"],
            "billing": {"deploymentPlan": spec["billing"]["deploymentPlan"]},
            "settings": data_settings,
            "deployment": {
                **pick(deployment, "buildpack", "docker"),
                **(
                    {"storage": pick(deployment["storage"], "ephemeralStorage", "shmSize")}
                    if "storage" in deployment
                    else {}
                ),
            },
            **pick(spec, "description", "stageId", "buildSettings", "buildConfiguration"),
        }
        if "vcs" in deployment:
            data["vcsData"] = {
                **pick(deployment["vcs"], "projectUrl", "projectType", "projectBranch", "selfHostedVcsId"),
                **self.docker_paths(spec),
            }
        return self.ok(data)

    def list_jobs(self, req: Request) -> Response:
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
                    "jobType": self.job_type(r),
                    "tags": r["spec"].get("tags", []),
                    "disabledCI": r["spec"].get("disabledCI", False),
                    "disabledCD": False,
                    **pick(r["spec"], "description", "stageId"),
                }
                for r in self.jobs.all(pid)
            ],
            "jobs",
        )

    def patch_job(self, req: Request) -> Response:
        return self.ok(self.job_create_view(req.params["projectId"], self.patch(self.job(req), req.data)))

    def delete_job(self, req: Request) -> Response:
        pid, jid = req.params["projectId"], self.job(req)["id"]
        self.jobs.remove(pid, jid)
        self.job_runs.drop(f"{pid}/{jid}")
        return self.ok({})

    def start_job_run(self, req: Request) -> Response:
        """StartJobRunRequest (typed by the SDK) overrides, for this run only, the job's runtime variables, plan and
        source; what the types leave open is checked here: variable values are strings, an internal source is a build
        service of the project. The run ends SUCCESS, or FAILED when a test asked for it
        (``POST /_admin/next-outcome``)."""
        pid, record = req.params["projectId"], self.job(req)
        body = req.data or {}
        for key in ("runtimeEnvironment", "runtimeFiles"):
            kinds = (str, dict) if key == "runtimeFiles" else str
            wrong = sorted(k for k, v in (body.get(key) or {}).items() if not isinstance(v, kinds))
            if wrong:
                raise self.contract_violation(f"POST /jobs/{{jobId}}/runs: {key} values must be strings: {wrong}")
        self.check_build_source(pid, body.get("deployment", {}))
        steps = JOB_RUN_STEPS if self.take_outcome("job", record) != "FAILED" else (JOB_RUN_STEPS[0], "FAILED")
        run_id = self.next_id("run")
        run = self.new_record(
            run_id,
            body,
            steps,
            runName=f"{record['id']}-{run_id.rsplit('-', 1)[1]}",
            backoffLimit=record["spec"].get("settings", {}).get("backoffLimit", 0),
        )
        self.job_runs.add(f"{pid}/{record['id']}", run)
        return self.ok({"id": run_id, "runName": run["runName"]})

    def job_run_view(self, run: dict) -> dict:
        """GetJobRunResponse. A failed run failed every attempt: 1 + ``backoffLimit``."""
        self.advance(run)
        done = not run["next"]
        attempts = 1 + run["backoffLimit"]
        return {
            "id": run["id"],
            "runName": run["runName"],
            "status": run["status"],
            "concluded": done,
            "startedAt": run["createdAt"],
            "concludedAt": run.get("concludedAt", ""),
            "active": 0 if done else 1,
            "succeeded": int(run["status"] == "SUCCESS"),
            "failed": attempts if run["status"] == "FAILED" else 0,
            "completions": 1,
            "backoffLimit": run["backoffLimit"],
        }

    def list_job_runs(self, req: Request) -> Response:
        return self.page(
            req,
            [self.job_run_view(r) for r in self.job_runs.all(f"{req.params['projectId']}/{self.job(req)['id']}")],
            "runs",
        )

    def get_job_run(self, req: Request) -> Response:
        return self.ok(
            self.job_run_view(
                self.job_runs.get(f"{req.params['projectId']}/{self.job(req)['id']}", req.params["runId"])
            )
        )

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pipelines (created by templates' Pipeline nodes) and their release flows and flow runs."""

from __future__ import annotations

import copy
from typing import Any, Optional

from tests.contract import nf_contract
from tests.emulators._server import HttpError, Request, Response
from tests.emulators.northflank.core import P, STAGES, derive_id, now_iso, pick, stage_name


class Pipelines:
    """A mixin of ``NorthflankEmulator``."""

    def routes(self) -> list:
        """(method, SDK path template, handler) of the routes this family serves."""
        flow = f"{P}/pipelines/{{pipelineId}}/release-flows/{{stage}}"
        return [
            ("GET", f"{P}/pipelines", self.list_pipelines),
            ("GET", f"{P}/pipelines/{{pipelineId}}", self.get_pipeline),
            ("GET", flow, self.get_release_flow),
            ("POST", flow, self.set_release_flow),
            ("POST", f"{flow}/runs", self.run_release_flow),
            ("GET", f"{flow}/runs", self.list_release_flow_runs),
            ("GET", f"{flow}/runs/{{runId}}", self.get_release_flow_run),
        ]

    def upsert_pipeline(self, project_id: Optional[str], spec: dict) -> dict:
        """The Pipeline node is a declarative put: the stages it names get exactly its members (and its release flow,
        when given); stages it omits stay as they are (docs/assumptions.md)."""
        if not project_id:
            raise HttpError(400, "The Pipeline node has no project context")
        pid = self.projects.get("", project_id)["id"]
        nf_contract.check_pipeline_node(spec, "Pipeline node")  # AssertionError fails the node with a 400
        for i, stage in enumerate(spec.get("stages", [])):
            if "releaseFlow" in stage:
                self.check_flow_references(
                    pid, stage["releaseFlow"]["spec"]["spec"], f"Pipeline node: stages[{i}].releaseFlow.spec.spec"
                )
        pl_id = derive_id(spec["name"])
        existing = self.pipelines.find(pid, pl_id)
        record = existing or self.new_record(pl_id, {}, stages={}, flows={})
        given = {stage_name(s["name"]): s for s in spec.get("stages", [])}
        stages = {**record["stages"], **{name: s.get("nfObjects", []) for name, s in given.items()}}
        self.check_pipeline_members(pid, pl_id, stages)
        for name, stage in given.items():
            if "releaseFlow" in stage:
                record["flows"][name] = self.new_record(name, stage["releaseFlow"]["spec"])
        record.update(
            spec={**pick(spec, "description", "preview"), "name": spec["name"]}, stages=stages, updatedAt=now_iso()
        )
        if existing is None:
            self.pipelines.add(pid, record)
        return self.pipeline_view(record)

    def check_pipeline_members(self, pid: str, pl_id: str, stages: dict) -> None:
        """Members exist in the project, do not build from Git themselves, and sit in one stage of one pipeline
        (docs/assumptions.md)."""
        stores = {"service": self.services, "job": self.jobs, "addon": self.addons}
        seen = {
            (m["type"], m["id"]): f"{other['id']} ({stage})"
            for other in self.pipelines.all(pid)
            if other["id"] != pl_id
            for stage, members in other["stages"].items()
            for m in members
        }
        for stage, members in stages.items():
            for obj in members:
                record = stores[obj["type"]].get(pid, obj["id"])
                if record.get("serviceType") in ("combined", "build") or "vcs" in record["spec"].get("deployment", {}):
                    raise HttpError(
                        400,
                        f"{obj['id']!r} cannot join a pipeline: "
                        "only resources deployed from a build service or an image can",
                    )
                where = seen.setdefault((obj["type"], obj["id"]), f"{pl_id} ({stage})")
                if where != f"{pl_id} ({stage})":
                    raise HttpError(409, f"{obj['type']} {obj['id']!r} already belongs to pipeline {where}")

    @staticmethod
    def pipeline_view(record: dict) -> dict:
        """GetPipelineResponse (which has no ``id``)."""
        members = [
            {"id": m["id"], "type": m["type"], "stage": stage}
            for stage in STAGES
            for m in record["stages"].get(stage, [])
        ]
        return {"name": record["spec"]["name"], "nfObjects": members, **pick(record["spec"], "description", "preview")}

    def pipeline(self, req: Request) -> dict:
        return self.pipelines.get(self.project(req)["id"], req.params["pipelineId"])

    def list_pipelines(self, req: Request) -> Response:
        return self.page(
            req,
            [
                {
                    "id": r["id"],
                    "name": r["spec"]["name"],
                    "createdAt": r["createdAt"],
                    "updatedAt": r["updatedAt"],
                    **pick(r["spec"], "description"),
                }
                for r in self.pipelines.all(self.project(req)["id"])
            ],
            "pipelines",
        )

    def get_pipeline(self, req: Request) -> Response:
        return self.ok(self.pipeline_view(self.pipeline(req)))

    def flow(self, req: Request) -> tuple:
        """(pipeline, stage, flow, key of its runs)."""
        record, stage = self.pipeline(req), stage_name(req.params["stage"])
        flow = record["flows"].get(stage)
        if flow is None:
            raise HttpError(404, f"Pipeline {record['id']!r} has no release flow for stage {stage}")
        return record, stage, flow, f"{req.params['projectId']}/{record['id']}/{stage}"

    def set_release_flow(self, req: Request) -> Response:
        """ "Updates a release flow": sets or replaces the stage's flow. The response is undocumented: ``{}``."""
        record, stage = self.pipeline(req), stage_name(req.params["stage"])
        self.check_flow_references(req.params["projectId"], req.data["spec"], "spec")
        previous = record["flows"].get(stage)
        record["flows"][stage] = self.new_record(stage, copy.deepcopy(req.data))
        if previous:
            record["flows"][stage]["createdAt"] = previous["createdAt"]
        return self.ok({})

    def check_flow_references(self, pid: str, node: Any, path: str) -> None:
        """The services, jobs and addons a release-flow tree names exist in the project, with the kind the node needs
        (a build origin is a build or combined service). ``${…}`` references are left for the run. The tree's structure
        passed ``nf_contract.check_release_flow`` already; a miss is a 400 naming the node, recorded as a contract
        error."""
        if not isinstance(node, dict):
            return
        kind, spec = node.get("kind"), node.get("spec") or {}
        wanted = []  # (field, id, store, builder?)
        if kind == "Release":
            target, origin = spec.get("target") or {}, spec.get("origin") or {}
            wanted.append(("spec.target.id", target.get("id"), target.get("type", "service"), False))
            if spec.get("type") == "build":
                wanted.append(("spec.origin.id", origin.get("id"), "service", True))
            elif spec.get("type") == "deployment":
                wanted.append(("spec.origin.id", origin.get("id"), origin.get("type"), False))
        elif kind == "JobRun":
            wanted.append(("spec.jobId", spec.get("jobId"), "job", False))
        elif kind == "Build":
            wanted.append(("spec.id", spec.get("id"), spec.get("type"), spec.get("type") == "service"))
        elif kind in ("AddonBackup", "AddonImport"):
            wanted.append(("spec.addonId", spec.get("addonId"), "addon", False))
        stores = {"service": self.services, "job": self.jobs, "addon": self.addons}
        for field, rid, store, builder in wanted:
            if not isinstance(rid, str) or "${" in rid or store not in stores:
                continue
            record = stores[store].find(pid, rid)
            if record is None:
                raise self.contract_violation(f"{path} ({kind}): {field}={rid!r} is no {store} of project {pid!r}")
            if builder and record.get("serviceType") not in ("build", "combined"):
                raise self.contract_violation(
                    f"{path} ({kind}): {field}={rid!r} is a {record.get('serviceType')} service, not one that builds"
                )
        for i, step in enumerate((spec.get("steps") or []) if kind in ("Workflow", "LoopWorkflow") else []):
            self.check_flow_references(pid, step, f"{path}.spec.steps[{i}]")

    def get_release_flow(self, req: Request) -> Response:
        _record, stage, flow, runs_key = self.flow(req)
        spec, options = flow["spec"], flow["spec"].get("options", {})
        runs = self.flow_runs.all(runs_key)
        return self.ok(
            {
                **{k: v for k, v in spec.items() if k != "project"},
                "stage": stage,
                "paused": options.get("paused", False),
                "concurrencyPolicy": options.get("concurrencyPolicy", "allow"),
                "status": runs[-1]["status"] if runs else "pending",
                "createdAt": flow["createdAt"],
                "updatedAt": flow["updatedAt"],
            }
        )

    def run_release_flow(self, req: Request) -> Response:
        """The run answers the run object (undocumented; the SDK leaves it untyped). It fails when a Release node
        targets something outside the flow's stage (docs/assumptions.md)."""
        record, stage, flow, runs_key = self.flow(req)
        tree = copy.deepcopy(flow["spec"]["spec"])
        ok = self.check_release_targets(tree, {m["id"] for m in record["stages"].get(stage, [])})
        body = req.data or {}
        run = self.new_record(
            self.next_id("flow-run"),
            tree,
            ("running", "success" if ok else "failure"),
            arguments=body.get("arguments", {}),
            **pick(body, "name", "description"),
        )
        return self.ok(self.flow_run_view(self.flow_runs.add(runs_key, run)))

    def check_release_targets(self, node: Any, members: set) -> bool:
        """Marks every offending Release node, not just the first, so the run shows them all."""
        children = node if isinstance(node, list) else list(node.values()) if isinstance(node, dict) else []
        ok = True
        if isinstance(node, dict) and node.get("kind") == "Release":
            target = node.get("spec", {}).get("target", {}).get("id", "")
            if target and "${" not in target and target not in members:
                node["response"] = {
                    "status": "failure",
                    "error": {"code": 400, "message": f"{target!r} is not in this pipeline stage"},
                }
                ok = False
        for child in children:
            ok = self.check_release_targets(child, members) and ok
        return ok

    @staticmethod
    def flow_run_view(run: dict, summary: bool = False) -> dict:
        """AbortReleaseFlowRunResponse (``summary``: ListReleaseFlowRunsResponseRun)."""
        data = {
            "id": run["id"],
            "status": run["status"],
            "concluded": not run["next"],
            "createdAt": run["createdAt"],
            "updatedAt": run["updatedAt"],
            "startedAt": run["createdAt"],
            **pick(run, "name", "description", "concludedAt"),
        }
        if not summary:
            data.update(apiVersion="v1.2", spec=run["spec"], arguments=run["arguments"])
        return data

    def list_release_flow_runs(self, req: Request) -> Response:
        *_flow, runs_key = self.flow(req)
        return self.page(
            req, [self.flow_run_view(self.advance(r), summary=True) for r in self.flow_runs.all(runs_key)], "runs"
        )

    def get_release_flow_run(self, req: Request) -> Response:
        *_flow, runs_key = self.flow(req)
        return self.ok(self.flow_run_view(self.advance(self.flow_runs.get(runs_key, req.params["runId"]))))

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Templates, and their runs, which execute the node tree through the REST handlers."""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Optional

from tests.emulators._server import HttpError, Request, Response
from tests.emulators.northflank.core import P, now_iso, pick

# Template node kinds the emulator executes, as the REST PUT they stand for (spec = create body + projectId,
# https://northflank.com/docs/v1/application/infrastructure-as-code/template-nodes).
NODE_ROUTES = {
    "Project": "/v1/projects",
    "BuildService": f"{P}/services/build",
    "DeploymentService": f"{P}/services/deployment",
    "CombinedService": f"{P}/services/combined",
    "Addon": f"{P}/addons",
    "SecretGroup": f"{P}/secrets",
    "Job": f"{P}/jobs",
}
REFERENCE = re.compile(r"\$\{(template\.)?(refs|args)\.([^}]+)\}")


class Templates:
    """A mixin of ``NorthflankEmulator``."""

    def routes(self) -> list:
        """(method, SDK path template, handler) of the routes this family serves."""
        return [
            ("GET", "/v1/templates", self.list_templates),
            ("POST", "/v1/templates", self.create_template),
            ("GET", "/v1/templates/{templateId}", self.get_template),
            ("POST", "/v1/templates/{templateId}", self.update_template),
            ("DELETE", "/v1/templates/{templateId}", self.delete_template),
            ("POST", "/v1/templates/{templateId}/runs", self.run_template),
            ("GET", "/v1/templates/{templateId}/runs", self.list_template_runs),
            ("GET", "/v1/templates/{templateId}/runs/{templateRunId}", self.get_template_run),
        ]

    @staticmethod
    def template_view(record: dict) -> dict:
        """CreateTemplateResponseTemplate: ``options`` keeps only ``autorun``; the policy moves to the top level."""
        spec, options = record["spec"], record["spec"].get("options", {})
        return {
            "id": record["id"],
            "name": spec["name"],
            "apiVersion": spec["apiVersion"],
            "spec": spec["spec"],
            "options": {"autorun": options.get("autorun", False)},
            "concurrencyPolicy": options.get("concurrencyPolicy", "allow"),
            "createdAt": record["createdAt"],
            "updatedAt": record["updatedAt"],
            **pick(spec, "description", "arguments", "teardownSpec"),
        }

    def check_template(self, body: dict, _existing: Optional[dict]) -> None:
        if "spec" not in body:
            raise HttpError(501, "The emulator cannot read GitOps templates (no spec in the request)")

    def create_template(self, req: Request) -> Response:
        record = self.upsert(self.templates, "", req, check=self.check_template)
        return self.ok(self.template_saved(record))

    def update_template(self, req: Request) -> Response:
        record = self.templates.get("", req.params["templateId"])
        self.check_template(req.data, record)
        record.update(spec=copy.deepcopy(req.data), updatedAt=now_iso())  # the update body is the full template
        return self.ok(self.template_saved(record))

    def template_saved(self, record: dict) -> dict:
        options, data = record["spec"].get("options", {}), {"template": self.template_view(record)}
        if options.get("runOnCreation"):
            data["templateRun"] = self.template_run_view(
                self.execute_template(record, options.get("runOnCreationArgumentOverrides", {}))
            )
        return data

    def delete_template(self, req: Request) -> Response:
        """What the template's runs created stays (docs/assumptions.md)."""
        template = self.templates.remove("", req.params["templateId"])
        self.template_runs.drop(template["id"])
        return self.ok({})

    def get_template(self, req: Request) -> Response:
        return self.ok(self.template_view(self.templates.get("", req.params["templateId"])))

    def list_templates(self, req: Request) -> Response:
        return self.page(
            req,
            [
                {k: v for k, v in self.template_view(r).items() if k not in ("spec", "arguments", "teardownSpec")}
                | {"options": pick(r["spec"].get("options", {}), "autorun", "concurrencyPolicy")}
                for r in self.templates.all("")
            ],
            "templates",
        )

    def run_template(self, req: Request) -> Response:
        record = self.templates.get("", req.params["templateId"])
        return self.ok(self.template_run_view(self.execute_template(record, (req.data or {}).get("arguments", {}))))

    @staticmethod
    def template_run_view(run: dict) -> dict:
        """AbortTemplateRunResponse."""
        return {
            "id": run["id"],
            "templateId": run["templateId"],
            "name": run["name"],
            "apiVersion": "v1.2",
            "status": run["status"],
            "concluded": not run["next"],
            "spec": run["spec"],
            "arguments": run["arguments"],
            "refs": run["refs"],
            "createdAt": run["createdAt"],
            "updatedAt": run["updatedAt"],
            **pick(run, "description"),
        }

    def list_template_runs(self, req: Request) -> Response:
        template = self.templates.get("", req.params["templateId"])
        return self.page(
            req,
            [
                {
                    **{
                        k: v
                        for k, v in self.template_run_view(self.advance(r)).items()
                        if k not in ("spec", "arguments", "refs")
                    },
                    "startedAt": r["createdAt"],
                    **pick(r, "concludedAt"),
                }
                for r in self.template_runs.all(template["id"])
            ],
            "templateRuns",
        )

    def get_template_run(self, req: Request) -> Response:
        template = self.templates.get("", req.params["templateId"])
        return self.ok(
            self.template_run_view(self.advance(self.template_runs.get(template["id"], req.params["templateRunId"])))
        )

    def execute_template(self, template: dict, arguments: dict) -> dict:
        """Run the node tree now; the run reports ``running`` and concludes on the next read. Each node gains a
        ``response`` (https://northflank.com/docs/v1/api/templates/get-template-run); the first failing node fails its
        workflow and the run."""
        spec = template["spec"]
        args = {**spec.get("arguments", {}), **spec.get("argumentOverrides", {}), **arguments}
        tree, refs = copy.deepcopy(spec["spec"]), {}
        ok = self.execute_node(tree, {}, args, refs)
        run = self.new_record(
            self.next_id("template-run"),
            tree,
            ("running", "success" if ok else "failure"),
            templateId=template["id"],
            name=spec["name"],
            arguments=args,
            refs=refs,
            **pick(spec, "description"),
        )
        return self.template_runs.add(template["id"], run)

    def execute_node(self, node: dict, context: dict, args: dict, refs: dict) -> bool:
        kind = node.get("kind")
        try:
            if str(self.resolve(node.get("skipNodeExecution", "false"), args, refs)).lower() == "true":
                node["response"] = {"status": "skipped"}
                return True
            if kind == "Workflow":
                inner = node.get("spec", {})
                context = {**context, **self.resolve(inner.get("context", {}), args, refs)}
                ok = all(self.execute_node(step, context, args, refs) for step in inner.get("steps", []))
                node["response"] = {"status": "success" if ok else "failure"}
                return ok
            data = self.execute_resource(
                kind, self.resolve(node.get("spec", {}), args, refs, pipeline=kind == "Pipeline"), context
            )
        except (HttpError, AssertionError) as exc:
            status, message = (exc.status, exc.message) if isinstance(exc, HttpError) else (400, str(exc))
            if isinstance(exc, AssertionError):  # a node that breaks the contract is a request that does
                self.log[-1]["contract_error"] = f"{kind} node: {message}"
            node["response"] = {"status": "failure", "error": {"code": status, "message": message}}
            return False
        node["response"] = {"status": "success", "data": data}
        if "ref" in node:
            refs[node["ref"]] = data
        return True

    def execute_resource(self, kind: Optional[str], spec: dict, context: dict) -> dict:
        project_id = spec.get("projectId") or context.get("projectId")
        if kind == "Pipeline":
            return self.upsert_pipeline(project_id, spec)
        if kind not in NODE_ROUTES:
            raise HttpError(501, f"The emulator does not execute {kind} template nodes")
        if "{projectId}" in NODE_ROUTES[kind] and not project_id:
            raise HttpError(400, f"The {kind} node has no project context")
        body = {k: v for k, v in spec.items() if k != "projectId"}
        req = Request("PUT", NODE_ROUTES[kind].replace("{projectId}", str(project_id)), {}, json.dumps(body).encode())
        req.data = body
        self.validate(req)  # a node spec is the REST body, so it must pass the same contract
        _template, handler = self.find(req)
        return handler(req).body["data"]

    def resolve(self, value: Any, args: dict, refs: dict, deferred: bool = False, pipeline: bool = False) -> Any:
        """Replace ``${args.X}`` and ``${refs.<ref>.<path>}``. Inside a Pipeline node's release-flow and preview
        templates
        only ``${template.…}`` resolves now; the rest is kept for when the flow runs
        (https://northflank.com/docs/v1/application/infrastructure-as-code/make-a-template-dynamic)."""
        if isinstance(value, dict):
            return {
                k: self.resolve(v, args, refs, deferred or (pipeline and k in ("releaseFlow", "preview")), pipeline)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.resolve(v, args, refs, deferred, pipeline) for v in value]
        if not isinstance(value, str):
            return value

        def lookup(m: re.Match) -> Any:
            if deferred and not m.group(1):
                return m.group(0)
            found: Any = args if m.group(2) == "args" else refs
            try:
                for part in m.group(3).split("."):
                    found = found[int(part)] if isinstance(found, list) else found[part]
            except (KeyError, IndexError, ValueError, TypeError):
                raise HttpError(400, f"Cannot resolve {m.group(0)}") from None
            return found

        whole = REFERENCE.fullmatch(value)
        if whole:  # a whole-string reference keeps its type (an int stays an int)
            return lookup(whole)
        return REFERENCE.sub(lambda m: str(lookup(m)), value)

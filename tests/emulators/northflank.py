# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Northflank API emulator: every request is checked against the official Northflank SDK's types.

A real HTTP server (see ``_server``) answering the ``/v1`` routes the collection uses, as
``/work/shared/reference/northflank/ENDPOINTS.md`` describes them. What the references leave open, and
what this emulator chose, is listed in ``docs/emulators.md``. In short:

- every ``/v1`` request passes ``nf_contract.check`` (SDK 2.1.0 TypedDicts, strict) and the documented
  name/port/description rules; a violation answers 400 and is recorded as ``contract_error`` in the log;
- every 2xx ``data`` passes ``nf_contract.check_response``; a mismatch is an emulator bug (500, ``response_error``);
- IDs are derived from names; POST on an existing ID is 409, PUT creates or replaces, PATCH merges;
- asynchronous resources move one status step per read (GET of the resource or of a list holding it),
  so tests poll a known number of times and never sleep;
- ``x-ratelimit-*`` headers on every response; 429 beyond the hourly budget (``--rate-limit``, ``--rate-window``);
- with ``--pg-target-url``, a postgresql addon's import from a connection string and its restore move real data
  (``northflank_pg``); the source password is never kept, in the state or in the request log.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import signal
import sys
import tempfile
import threading
import time
from datetime import datetime
from typing import Any, Callable, NamedTuple, Optional

from tests.contract import nf_contract
from tests.emulators import _server
from tests.emulators._server import HttpError, Request, Response
from tests.emulators.northflank_pg import DataError, PostgresData, scrub

P = "/v1/projects/{projectId}"
SERVICE_KINDS = ("combined", "build", "deployment")
STAGES = ("Development", "Staging", "Production")

# Status sequences; each read of a resource moves it one step.
PROJECT_STEPS = ("creating", "created")
ADDON_STEPS = ("preDeployment", "triggerAllocation", "allocating", "postDeployment", "running")
BUILD_STEPS = ("QUEUED", "BUILDING", "SUCCESS")
ROLLOUT_STEPS = ("PENDING", "IN_PROGRESS", "COMPLETED")
ADDON_CHANGE_STEPS = ("scaling", "running")
BACKUP_STEPS = ("in-progress", "completed")
JOB_RUN_STEPS = ("RUNNING", "SUCCESS")

# -- static catalogue (GET /v1/plans, /regions, /addon-types, /integrations/vcs) --------------------------
# (plan ID, vCPU, RAM MB) from ENDPOINTS.md §A; prices are placeholders.
_PLANS = [("nf-compute-10", 0.1, 256), ("nf-compute-20", 0.2, 512), ("nf-compute-50", 0.5, 1024), ("nf-compute-100-1", 1, 1024),
          ("nf-compute-100-2", 1, 2048), ("nf-compute-100-4", 1, 4096), ("nf-compute-200", 2, 4096), ("nf-compute-200-4", 2, 4096),
          ("nf-compute-200-8", 2, 8192), ("nf-compute-200-16", 2, 16384), ("nf-compute-400", 4, 8192), ("nf-compute-400-16", 4, 16384),
          ("nf-compute-800-8", 8, 8192), ("nf-compute-800-16", 8, 16384), ("nf-compute-800-24", 8, 24576), ("nf-compute-800-32", 8, 32768),
          ("nf-compute-800-40", 8, 40960), ("nf-compute-1200-24", 12, 24576), ("nf-compute-1600-32", 16, 32768),
          ("nf-compute-2000-40", 20, 40960)]
PLANS = [{"id": pid, "name": pid, "cpuResource": float(cpu), "ramResource": float(ram), "amountPerHour": round(hourly, 4),
          "amountPerMonth": round(hourly * 720, 2), "currency": "USD"}
         for pid, cpu, ram in _PLANS for hourly in [cpu * 0.0167 + ram / 1024 * 0.0083]]
REGIONS = ["europe-west", "europe-west-frankfurt", "europe-west-netherlands", "europe-west-zurich", "us-central", "us-east1", "us-east-ohio",
           "us-west", "us-west-california", "canada-central", "southamerica-east", "asia-east", "asia-northeast", "asia-southeast",
           "australia-southeast", "africa-south"]


class AddonType(NamedTuple):
    name: str
    versions: list        # newest first; "latest" and "<major>-latest" are accepted too
    keys: list            # the connection keys a secret group can link (ENDPOINTS.md §E)
    min_storage: int      # MB; only Redis' 4096 is documented
    port: int
    scheme: str


ADDON_TYPES = {
    "postgresql": AddonType("PostgreSQL", ["17.4.0", "16.8.0", "15.12.0", "14.17.0"],
                            ["HOST", "PORT", "DATABASE", "USERNAME", "PASSWORD", "POSTGRES_URI", "JDBC_POSTGRES_URI"], 1024, 5432, "postgresql"),
    "mysql": AddonType("MySQL", ["8.4.4", "8.0.41"], ["HOST", "PORT", "DATABASE", "USERNAME", "PASSWORD", "MYSQL_CONNECTOR_URI"], 1024, 3306, "mysql"),
    "mongodb": AddonType("MongoDB", ["8.0.5", "7.0.16", "6.0.20"], ["HOST", "PORT", "DATABASE", "USERNAME", "PASSWORD", "MONGO_SRV"], 1024, 27017,
                         "mongodb+srv"),
    "redis": AddonType("Redis", ["7.4.2", "7.2.7", "6.2.17"], ["HOST", "PORT", "USERNAME", "PASSWORD", "REDIS_MASTER_URL"], 4096, 6379, "rediss"),
    "minio": AddonType("MinIO", ["2025.4.22"], ["MINIO_ENDPOINT", "ACCESS_KEY", "SECRET_KEY"], 1024, 443, "https"),
    "rabbitmq": AddonType("RabbitMQ", ["4.0.7", "3.13.7"], ["HOST", "PORT", "USERNAME", "PASSWORD", "AMQP_URI"], 1024, 5671, "amqps"),
}
VCS_LINKS = [{"login": "demo", "name": "Demo GitHub account", "vcsLinkId": "demo-github", "vcsService": "github"}]
# Dict[str, Any] maps that PATCH replaces as a whole (anything else nested is merged), and variants that exclude each other.
OPAQUE_MAPS = frozenset(("runtimeEnvironment", "runtimeFiles", "buildArguments", "buildFiles", "dockerSecretMounts", "variables", "files",
                         "templateValues", "arguments", "spec"))
EXCLUSIVE = ({"internal", "external"}, {"dockerfile", "buildpack"})
# Template node kinds the emulator executes, as the REST PUT they stand for (TEMPLATES.md §3: spec = create body + projectId).
NODE_ROUTES = {"Project": "/v1/projects", "BuildService": f"{P}/services/build", "DeploymentService": f"{P}/services/deployment",
               "CombinedService": f"{P}/services/combined", "Addon": f"{P}/addons", "SecretGroup": f"{P}/secrets", "Job": f"{P}/jobs"}
REFERENCE = re.compile(r"\$\{(template\.)?(refs|args)\.([^}]+)\}")


def derive_id(name: str) -> str:
    """Northflank's ID rule (ENDPOINTS.md §0.1): lower-case, each space becomes a hyphen."""
    return name.lower().replace(" ", "-")


def now_iso() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def uid_of(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:24]


def pick(d: dict, *keys: str) -> dict:
    return {k: d[k] for k in keys if k in d}


def merge(base: dict, patch: dict) -> dict:
    """PATCH semantics: nested objects merge, lists/scalars/opaque maps replace, null clears a key."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict) and key not in OPAQUE_MAPS:
            current = out[key]
            for group in EXCLUSIVE:  # switching internal -> external (or dockerfile -> buildpack) drops the other
                if group & value.keys():
                    current = {k: v for k, v in current.items() if k not in group - value.keys()}
            out[key] = merge(current, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def stage_name(stage: str) -> str:
    """Stages are lower-case in paths and capitalised in bodies (TEMPLATES.md §6.2); accept either."""
    for s in STAGES:
        if s.lower() == stage.lower():
            return s
    raise HttpError(404, f"Pipeline stage {stage!r} not found (expected one of {', '.join(STAGES)})")


class Store:
    """One kind of resource: ``state[kind][parent][id] = record``. ``parent`` is "" for team-level kinds,
    the project ID for project resources, and "project/owner" for sub-resources (builds, backups, runs)."""

    def __init__(self, emu: "NorthflankEmulator", kind: str, noun: str):
        self.emu, self.kind, self.noun = emu, kind, noun

    def _bucket(self, parent: str, create: bool = False) -> dict:
        kinds = self.emu.state.setdefault(self.kind, {}) if create else self.emu.state.get(self.kind, {})
        return kinds.setdefault(parent, {}) if create else kinds.get(parent, {})

    def all(self, parent: str) -> list:
        """Records ordered by ID, which is also the order cursors follow."""
        bucket = self._bucket(parent)
        return [bucket[k] for k in sorted(bucket)]

    def find(self, parent: str, rid: str) -> Optional[dict]:
        return self._bucket(parent).get(rid)

    def get(self, parent: str, rid: str) -> dict:
        record = self.find(parent, rid)
        if record is None:
            raise HttpError(404, f"No {self.noun} with ID {rid!r} found")
        return record

    def add(self, parent: str, record: dict, conflict: Optional[str] = None) -> dict:
        bucket = self._bucket(parent, create=True)
        if record["id"] in bucket:
            raise HttpError(409, conflict or f"There is already a {self.noun} with the same derived identifier")
        bucket[record["id"]] = record
        return record

    def remove(self, parent: str, rid: str) -> dict:
        record = self.get(parent, rid)
        del self._bucket(parent)[rid]
        return record

    def drop(self, parent: str) -> None:
        self.emu.state.get(self.kind, {}).pop(parent, None)

    def each(self):
        """Every record of the kind, whatever its parent."""
        for bucket in self.emu.state.get(self.kind, {}).values():
            yield from bucket.values()


class NorthflankEmulator(_server.Emulator):
    name = "northflank"

    def __init__(self, rate_limit: int = 1000, rate_window: float = 3600.0, pg: Optional[PostgresData] = None, **kwargs):
        self.rate = {"budget": rate_limit, "window": rate_window, "start": None, "used": 0}
        self._dirty = False
        self.pg = pg  # real postgresql imports and restores, when given
        self.workdir: Optional[tempfile.TemporaryDirectory] = None  # holds the dumps when no --data-dir is given
        super().__init__(**kwargs)

    # -- framework hooks ------------------------------------------------------------------------------------
    def setup(self) -> None:
        self.projects = Store(self, "projects", "project")
        self.services = Store(self, "services", "service")
        self.builds = Store(self, "builds", "build")
        self.secrets = Store(self, "secrets", "secret")
        self.addons = Store(self, "addons", "addon")
        self.backups = Store(self, "backups", "backup")
        self.restores = Store(self, "restores", "restore")
        self.jobs = Store(self, "jobs", "job")
        self.job_runs = Store(self, "jobRuns", "job run")
        self.volumes = Store(self, "volumes", "volume")
        self.domains = Store(self, "domains", "domain")
        self.subdomains = Store(self, "subdomains", "subdomain")
        self.templates = Store(self, "templates", "template")
        self.template_runs = Store(self, "templateRuns", "template run")
        self.pipelines = Store(self, "pipelines", "pipeline")
        self.flow_runs = Store(self, "releaseFlowRuns", "release flow run")
        table = self.table()
        for method, template, handler in table:
            nf_contract.find(method, template)  # every served route must be an SDK endpoint
            self.route(method, template, handler)
        self.served = {(m, t) for m, t, _h in table}

    def table(self) -> list:
        """(method, SDK path template, handler) of every route served."""
        svc, addon, sub = f"{P}/services/{{serviceId}}", f"{P}/addons/{{addonId}}", "/v1/domains/{domain}/subdomains/{subdomain}"
        flow = f"{P}/pipelines/{{pipelineId}}/release-flows/{{stage}}"
        return [
            ("GET", "/v1/auth", self.get_auth), ("GET", "/v1/plans", lambda req: self.ok({"plans": PLANS})),
            ("GET", "/v1/regions", self.list_regions), ("GET", "/v1/addon-types", self.list_addon_types),
            ("GET", "/v1/integrations/vcs", lambda req: self.ok({"vcsAccountLinks": VCS_LINKS})),
            ("GET", "/v1/projects", self.list_projects), ("POST", "/v1/projects", self.save_project), ("PUT", "/v1/projects", self.save_project),
            ("GET", P, self.get_project), ("PATCH", P, self.patch_project), ("DELETE", P, self.delete_project),
            ("POST", f"{P}/initialize", self.initialize_project),
            ("GET", f"{P}/services", self.list_services), ("GET", svc, self.get_service), ("DELETE", svc, self.delete_service),
            *[(m, f"{P}/services/{kind}", self.save_service) for kind in SERVICE_KINDS for m in ("POST", "PUT")],
            *[("PATCH", f"{P}/services/{kind}/{{serviceId}}", self.patch_service) for kind in SERVICE_KINDS],
            ("POST", f"{svc}/build", self.start_build), ("GET", f"{svc}/build", self.list_builds), ("GET", f"{svc}/build/{{buildId}}", self.get_build),
            ("GET", f"{P}/secrets", self.list_secrets), ("POST", f"{P}/secrets", self.save_secret), ("PUT", f"{P}/secrets", self.save_secret),
            ("GET", f"{P}/secrets/{{secretId}}", self.get_secret), ("GET", f"{P}/secrets/{{secretId}}/details", self.get_secret_details),
            ("PATCH", f"{P}/secrets/{{secretId}}", self.patch_secret), ("POST", f"{P}/secrets/{{secretId}}", self.patch_secret),
            ("DELETE", f"{P}/secrets/{{secretId}}", self.delete_secret),
            ("GET", f"{P}/secrets/{{secretId}}/addons/{{addonId}}", self.get_secret_link),
            ("POST", f"{P}/secrets/{{secretId}}/addons/{{addonId}}", self.link_secret),
            ("GET", f"{P}/addons", self.list_addons), ("POST", f"{P}/addons", self.save_addon), ("PUT", f"{P}/addons", self.save_addon),
            ("GET", addon, self.get_addon), ("PATCH", addon, self.patch_addon), ("DELETE", addon, self.delete_addon),
            ("GET", f"{addon}/credentials", self.get_addon_credentials), ("GET", f"{addon}/version", self.get_addon_version),
            ("POST", f"{addon}/version", self.upgrade_addon), ("GET", f"{addon}/backup-schedules", self.list_backup_schedules),
            ("GET", f"{addon}/backups", self.list_backups), ("POST", f"{addon}/backups", self.backup_addon),
            ("GET", f"{addon}/backups/{{backupId}}", self.get_backup), ("POST", f"{addon}/import", self.import_backup),
            ("POST", f"{addon}/backups/{{backupId}}/restore", self.restore_backup),
            ("GET", f"{addon}/backups/{{backupId}}/restores", self.list_backup_restores), ("GET", f"{addon}/restores", self.list_addon_restores),
            ("GET", f"{P}/jobs", self.list_jobs), ("POST", f"{P}/jobs", self.save_job), ("PUT", f"{P}/jobs", self.save_job),
            ("GET", f"{P}/jobs/{{jobId}}", self.get_job), ("PATCH", f"{P}/jobs/{{jobId}}", self.patch_job),
            ("DELETE", f"{P}/jobs/{{jobId}}", self.delete_job),
            ("POST", f"{P}/jobs/{{jobId}}/runs", self.start_job_run), ("GET", f"{P}/jobs/{{jobId}}/runs", self.list_job_runs),
            ("GET", f"{P}/jobs/{{jobId}}/runs/{{runId}}", self.get_job_run),
            ("GET", f"{P}/volumes", self.list_volumes), ("POST", f"{P}/volumes", self.create_volume),
            ("GET", f"{P}/volumes/{{volumeId}}", self.get_volume), ("DELETE", f"{P}/volumes/{{volumeId}}", self.delete_volume),
            ("GET", "/v1/domains", self.list_domains), ("POST", "/v1/domains", self.create_domain),
            ("GET", "/v1/domains/{domain}", self.get_domain), ("DELETE", "/v1/domains/{domain}", self.delete_domain),
            ("POST", "/v1/domains/{domain}/verify", self.verify_domain),
            ("POST", "/v1/domains/{domain}/subdomains", self.save_subdomain), ("PUT", "/v1/domains/{domain}/subdomains", self.save_subdomain),
            ("GET", sub, self.get_subdomain), ("DELETE", sub, self.delete_subdomain), ("POST", f"{sub}/verify", self.verify_subdomain),
            ("POST", f"{sub}/assign", self.assign_subdomain), ("DELETE", f"{sub}/assign", self.unassign_subdomain),
            ("GET", "/v1/templates", self.list_templates), ("POST", "/v1/templates", self.create_template),
            ("GET", "/v1/templates/{templateId}", self.get_template), ("POST", "/v1/templates/{templateId}", self.update_template),
            ("DELETE", "/v1/templates/{templateId}", self.delete_template),
            ("POST", "/v1/templates/{templateId}/runs", self.run_template), ("GET", "/v1/templates/{templateId}/runs", self.list_template_runs),
            ("GET", "/v1/templates/{templateId}/runs/{templateRunId}", self.get_template_run),
            ("GET", f"{P}/pipelines", self.list_pipelines), ("GET", f"{P}/pipelines/{{pipelineId}}", self.get_pipeline),
            ("GET", flow, self.get_release_flow), ("POST", flow, self.set_release_flow),
            ("POST", f"{flow}/runs", self.run_release_flow), ("GET", f"{flow}/runs", self.list_release_flow_runs),
            ("GET", f"{flow}/runs/{{runId}}", self.get_release_flow_run),
        ]

    def authenticate(self, req: Request) -> Optional[Response]:
        if not req.path.startswith(self.api_prefix) or req.headers.get("authorization") == f"Bearer {self.token}":
            return None
        return self.error_response(HttpError(401, "Unauthorized: missing or invalid API token (expected Authorization: Bearer <token>)"))

    def before(self, req: Request) -> Optional[Response]:
        if not req.path.startswith(self.api_prefix):
            return None
        limited = self.consume_rate_limit()
        if limited:
            return limited
        entry = self.log[-1]  # dispatch() appended this request's entry and holds the lock
        try:
            req.data = json.loads(req.body) if req.body else None
        except ValueError as exc:
            return self.contract_failure(entry, 400, f"{req.method} {req.path}: body is not valid JSON ({exc})")
        if req.data is not None:
            entry["body"] = self.loggable(req.data)
        try:
            route = self.validate(req)
        except AssertionError as exc:
            return self.contract_failure(entry, 404 if isinstance(exc, nf_contract.NotAnEndpoint) else 400, str(exc))
        if (route.method, route.template) not in self.served:
            return self.error_response(HttpError(501, f"The emulator does not implement {route.method} {route.template}"))
        return None

    def after(self, req: Request, resp: Response) -> None:
        if self._dirty:  # reads that moved a status along are state changes too
            self._dirty = False
            self.save()
        if not req.path.startswith(self.api_prefix):
            return
        for name, value in self.rate_headers().items():
            resp.headers.setdefault(name, value)
        if 200 <= resp.status < 300:
            try:
                nf_contract.check_response(req.method, req.path, resp.body)
            except AssertionError as exc:
                entry = self.log[-1]
                entry["response_error"] = str(exc)
                entry["status"] = 500
                resp.status, resp.body = 500, self.error_response(HttpError(500, f"Emulator bug: {exc}")).body

    def error_response(self, err: HttpError) -> Response:
        error = {"status": err.status, "message": err.message}
        if err.error_id:
            error["id"] = err.error_id
        if err.details is not None:
            error["details"] = err.details
        return Response(err.status, {"error": error})

    def admin(self, req: Request) -> Optional[Response]:
        if req.path != "/_admin/rate-limit":
            return None
        if req.method == "POST":
            body = req.json() or {}
            self.rate.update(budget=int(body.get("budget", self.rate["budget"])),
                             window=float(body.get("window_seconds", self.rate["window"])), start=None, used=0)
        return Response(200, {"budget": self.rate["budget"], "window_seconds": self.rate["window"], "used": self.rate["used"]})

    # -- contract -------------------------------------------------------------------------------------------
    def validate(self, req: Request) -> nf_contract.Route:
        """SDK types, documented rules, and the documented page size limit; AssertionError names the field."""
        route = nf_contract.check(req.method, req.path, req.data, query=req.query)
        nf_contract.check_docs_rules(route, req.data)
        if route.endpoint.is_paginated:
            for param, hi in (("per_page", 100), ("page", None)):
                value = req.query.get(param)
                if value is not None and not (value.isdigit() and 1 <= int(value) <= (hi or math.inf)):
                    raise AssertionError(f"{req.method} {route.template}: query {param}={value!r} must be an integer"
                                         f" from 1{f' to {hi}' if hi else ''}")
        return route

    @staticmethod
    def loggable(body: Any) -> Any:
        """The body as the request log keeps it: an import's source password (or a dump URL's query) is masked."""
        if not isinstance(body, dict) or not ({"connectionString", "importUrl"} & body.keys()):
            return body
        body = dict(body)
        if isinstance(body.get("connectionString"), str):
            body["connectionString"] = scrub(body["connectionString"], body["connectionString"])
        if isinstance(body.get("importUrl"), str) and "?" in body["importUrl"]:
            body["importUrl"] = body["importUrl"].split("?", 1)[0] + "?********"
        return body

    def contract_failure(self, entry: dict, status: int, message: str) -> Response:
        entry["contract_error"] = message
        return self.error_response(HttpError(status, message))

    # -- rate limit -----------------------------------------------------------------------------------------
    def consume_rate_limit(self) -> Optional[Response]:
        """The window starts at the first request and resets ``window`` seconds later (ENDPOINTS.md §0)."""
        now, rate = time.time(), self.rate
        if rate["start"] is None or now >= rate["start"] + rate["window"]:
            rate.update(start=now, used=0)
        rate["used"] += 1
        return self.too_many_requests(self.rate_headers()["x-ratelimit-reset"]) if rate["used"] > rate["budget"] else None

    def rate_headers(self) -> dict:
        rate, now = self.rate, time.time()
        reset = math.ceil(rate["start"] + rate["window"] - now) if rate["start"] is not None else int(rate["window"])
        return {"x-ratelimit-limit": rate["budget"], "x-ratelimit-remaining": max(0, rate["budget"] - rate["used"]),
                "x-ratelimit-reset": max(0, reset)}

    def rate_limited_response(self, req: Request) -> Response:
        """An injected 429 (``POST /_admin/faults``) is a transient one: it says the window resets in 1 second, so a
        client's wait-and-retry is exercised without a real wait and without touching the budget."""
        with self.lock:
            return self.too_many_requests(1)

    def too_many_requests(self, reset: int) -> Response:
        budget, window = self.rate["budget"], self.rate["window"]
        resp = self.error_response(HttpError(429, f"Rate limit exceeded: {budget} requests per {window:g} seconds; retry in {reset} seconds",
                                             details={"limit": budget, "reset": reset}))
        resp.headers.update(self.rate_headers(), **{"x-ratelimit-remaining": 0, "x-ratelimit-reset": reset})
        return resp

    # -- helpers --------------------------------------------------------------------------------------------
    @staticmethod
    def ok(data: Any, pagination: Optional[dict] = None) -> Response:
        body = {"data": data}
        if pagination is not None:
            body["pagination"] = pagination
        return Response(200, body)

    @staticmethod
    def page(req: Request, items: list, key: Optional[str]) -> Response:
        """Cursor pagination over ``items`` (ordered by ID): the cursor is the last ID of the previous page, so an
        unknown cursor continues after its place in that order. ``page`` (1-based) works when no cursor is given."""
        per_page = int(req.query.get("per_page", 50))
        cursor = req.query.get("cursor")
        if cursor:
            start = next((i for i, item in enumerate(items) if str(item.get("id", item.get("name"))) > cursor), len(items))
        else:
            start = (int(req.query.get("page", 1)) - 1) * per_page
        chunk = items[start:start + per_page]
        pagination = {"hasNextPage": start + per_page < len(items), "count": len(chunk)}
        if pagination["hasNextPage"]:
            pagination["cursor"] = str(chunk[-1].get("id", chunk[-1].get("name")))
        return NorthflankEmulator.ok(chunk if key is None else {key: chunk}, pagination)

    def next_id(self, prefix: str) -> str:
        """Sequential IDs sort in creation order, which keeps cursor pagination stable."""
        self.state["seq"] = self.state.get("seq", 0) + 1
        return f"{prefix}-{self.state['seq']:06d}"

    def advance(self, record: dict, ready: bool = True) -> dict:
        """One status step per read (see module docstring); ``ready=False`` holds the record where it is."""
        if ready and record.get("next"):
            record["status"] = record["next"].pop(0)
            record["updatedAt"] = now_iso()
            if not record["next"]:
                record["concludedAt"] = record["updatedAt"]
            self._dirty = True
        return record

    @staticmethod
    def new_record(rid: str, spec: Any, steps: tuple = (), **extra) -> dict:
        stamp = now_iso()
        record = {"id": rid, "createdAt": stamp, "updatedAt": stamp, "spec": spec, **extra}
        if steps:
            record.update(status=steps[0], next=list(steps[1:]))
        return record

    def upsert(self, store: Store, parent: str, req: Request, steps: tuple = (), rerun: tuple = (), check: Optional[Callable] = None,
               **extra) -> dict:
        """POST creates (409 if the derived ID exists); PUT creates or replaces the whole spec, and a changed spec
        goes through ``rerun`` (a new rollout, a scaling). ``check(body, existing)`` raises HttpError for
        references and immutable fields."""
        body, rid = req.data, derive_id(req.data["name"])
        existing = store.find(parent, rid)
        if existing and req.method == "POST":
            raise HttpError(409, f"There is already a {store.noun} with the same derived identifier")
        if check:
            check(body, existing)
        if existing is None:
            return store.add(parent, self.new_record(rid, body, steps, uid=uid_of(store.kind, parent, rid), **extra))
        return self.replace_spec(existing, copy.deepcopy(body), rerun)

    def patch(self, record: dict, body: dict, rerun: tuple = ()) -> dict:
        return self.replace_spec(record, merge(record["spec"], body), rerun)

    @staticmethod
    def replace_spec(record: dict, spec: dict, rerun: tuple) -> dict:
        if spec != record["spec"]:
            record.update(spec=spec, updatedAt=now_iso())
            if rerun:
                record.update(status=rerun[0], next=list(rerun[1:]))
        return record

    def project(self, req: Request) -> dict:
        return self.projects.get("", req.params["projectId"])

    def cluster(self, project_id: str) -> dict:
        spec = self.projects.get("", project_id)["spec"]
        if "clusterId" in spec:
            return {"id": spec["clusterId"], "name": spec["clusterId"]}
        region = spec.get("region", "unassigned")
        return {"id": f"nf-{region}", "name": f"Northflank {region}"}

    # -- discovery ------------------------------------------------------------------------------------------
    def get_auth(self, req: Request) -> Response:
        scopes: dict = {"teamScope": set(), "projectScope": set()}
        for method, template in self.served:
            permission = nf_contract.find(method, template).endpoint.required_permissions
            if permission:
                scopes["projectScope" if permission.startswith("Project") else "teamScope"].add(permission)
        return self.ok({"id": "emulator-token", "name": "emulator", "entityType": "team", "entityId": "demo-team",
                        "entityUid": uid_of("team", "demo-team"), "tokenKind": "api", "createdAt": "2026-01-01T00:00:00.000Z",
                        "permissions": {k: sorted(v) for k, v in scopes.items()},
                        "projectRestrictions": {"enabled": False, "projects": [], "restrictionMode": "in"}})

    def list_regions(self, req: Request) -> Response:
        return self.ok({"regions": [{"id": r, "name": r.replace("-", " ").title(), "regionName": r, "gpuDevices": []} for r in REGIONS]})

    def list_addon_types(self, req: Request) -> Response:
        features = dict.fromkeys(("importDump", "importLive", "backupsDump", "tls", "externalAccess", "customDBName", "forkAddon",
                                  "scaleReplicas"), True)
        return self.ok({"addonTypes": [
            {"type": t, "name": a.name, "description": f"Managed {a.name}", "versions": a.versions,
             "major": sorted({v.split(".")[0] for v in a.versions}, reverse=True), "features": features,
             "resources": {"storage": {"min": a.min_storage}, "replicas": {"min": 1, "max": 5}}}
            for t, a in ADDON_TYPES.items()]})

    # -- projects -------------------------------------------------------------------------------------------
    def project_view(self, record: dict) -> dict:
        """CreateProjectResponse."""
        return {"id": record["id"], "name": record["spec"]["name"], "lifecycleStatus": record["status"], "createdAt": record["createdAt"],
                "updatedAt": record["updatedAt"], **pick(record["spec"], "description", "color", "region", "clusterId", "networking")}

    def check_project(self, body: dict, existing: Optional[dict]) -> None:
        if existing and any(existing["spec"].get(k) != body.get(k) for k in ("region", "clusterId") if k in existing["spec"]):
            raise HttpError(400, "The region or cluster of a project cannot be changed")

    def save_project(self, req: Request) -> Response:
        placed = "region" in req.data or "clusterId" in req.data
        record = self.upsert(self.projects, "", req, PROJECT_STEPS if placed else ("pending_initialization",), check=self.check_project)
        return self.ok(self.project_view(record))

    def initialize_project(self, req: Request) -> Response:
        record = self.project(req)
        if record["status"] != "pending_initialization":
            raise HttpError(409, f"Project {record['id']!r} is already initialised")
        record["spec"].update(pick(req.data or {}, "region", "clusterId"))
        record.update(status=PROJECT_STEPS[0], next=list(PROJECT_STEPS[1:]), updatedAt=now_iso())
        return self.ok(self.project_view(record))

    def list_projects(self, req: Request) -> Response:
        return self.page(req, [{"id": r["id"], "name": r["spec"]["name"], "uid": r["uid"], "lifecycleStatus": self.advance(r)["status"],
                                **pick(r["spec"], "description")} for r in self.projects.all("")], "projects")

    def get_project(self, req: Request) -> Response:
        record, pid = self.advance(self.project(req)), req.params["projectId"]

        def child(r: dict, **extra) -> dict:
            return {"id": r["id"], "name": r["spec"]["name"], "appId": f"/{pid}/{r['id']}", "uid": r["uid"],
                    **pick(r["spec"], "description", "stageId"), **extra}

        data = {"id": record["id"], "name": record["spec"]["name"], "uid": record["uid"], "lifecycleStatus": record["status"],
                "createdAt": record["createdAt"], "cluster": self.cluster(pid), **pick(record["spec"], "description"),
                "services": [child(s, serviceType=s["serviceType"]) for s in self.services.all(pid)],
                "jobs": [child(j, jobType=self.job_type(j)) for j in self.jobs.all(pid)],
                "addons": [child(a, spec={"type": a["spec"]["type"]}) for a in self.addons.all(pid)]}
        if "region" in record["spec"]:
            data["deployment"] = {"region": record["spec"]["region"]}
        return self.ok(data)

    def patch_project(self, req: Request) -> Response:
        return self.ok(self.project_view(self.patch(self.project(req), req.data)))

    def delete_project(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        children = [self.services, self.secrets, self.addons, self.jobs, self.volumes, self.pipelines]
        if any(store.all(pid) for store in children) and req.query.get("delete_child_objects") != "true":
            raise HttpError(409, f"The project {pid!r} couldn't be deleted as it has dependencies; "
                                 "delete them first or pass delete_child_objects=true")
        for store in children:
            store.drop(pid)
        for store in (self.builds, self.backups, self.restores, self.job_runs, self.flow_runs):
            for parent in [p for p in self.state.get(store.kind, {}) if p.startswith(pid + "/")]:
                store.drop(parent)
        self.projects.remove("", pid)
        return self.ok({})

    # -- services -------------------------------------------------------------------------------------------
    def service_status(self, pid: str, record: dict) -> dict:
        status = {}
        if record["serviceType"] != "build":
            status["deployment"] = {"status": record["status"], "reason": "DEPLOYING", "lastTransitionTime": record["updatedAt"]}
        builds = self.builds.all(f"{pid}/{record['id']}")
        if builds:
            status["build"] = {"status": builds[-1]["status"], "lastTransitionTime": builds[-1]["updatedAt"]}
        return status

    def service_view(self, pid: str, record: dict, full: bool) -> dict:
        """Create*Response echoes the spec; GetServiceResponse* adds ``uid`` and the docker paths on ``vcsData``."""
        spec = copy.deepcopy(record["spec"])
        data = {**spec, "id": record["id"], "appId": f"/{pid}/{record['id']}", "serviceType": record["serviceType"],
                "cluster": self.cluster(pid), "status": self.service_status(pid, record), "createdAt": record["createdAt"],
                "updatedAt": record["updatedAt"]}
        if full:
            data["uid"] = record["uid"]
            if "vcsData" in spec:
                data["vcsData"].update(self.docker_paths(spec))
        return data

    @staticmethod
    def docker_paths(spec: dict) -> dict:
        """GET responses require the Dockerfile paths on ``vcsData``, buildpack builds included."""
        dockerfile = spec.get("buildSettings", {}).get("dockerfile", {})
        return {"dockerFilePath": dockerfile.get("dockerFilePath", "/Dockerfile"), "dockerWorkDir": dockerfile.get("dockerWorkDir", "/")}

    def check_service(self, pid: str, kind: str) -> Callable:
        def check(body: dict, existing: Optional[dict]) -> None:
            if existing and existing["serviceType"] != kind:
                raise HttpError(409, f"There is already a {existing['serviceType']} service with the same derived identifier")
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
            raise HttpError(404, f"No {kind} service with ID {record['id']!r} found (it is a {record['serviceType']} service)")
        return record

    def patch_service(self, req: Request) -> Response:
        pid, kind = req.params["projectId"], req.path.rstrip("/").split("/")[-2]
        record = self.service(req, kind)
        self.check_build_source(pid, req.data.get("deployment", {}))
        self.check_port_domains(req.data.get("ports", []))
        return self.ok(self.service_view(pid, self.patch(record, req.data, () if kind == "build" else ROLLOUT_STEPS), full=False))

    def get_service(self, req: Request) -> Response:
        return self.ok(self.service_view(req.params["projectId"], self.advance(self.service(req)), full=True))

    def list_services(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        return self.page(req, [{"id": r["id"], "name": r["spec"]["name"], "appId": f"/{pid}/{r['id']}", "uid": r["uid"], "projectId": pid,
                                "serviceType": r["serviceType"], "disabledCI": r["spec"].get("disabledCI", False), "disabledCD": False,
                                "tags": r["spec"].get("tags", []), "status": self.service_status(pid, self.advance(r)),
                                **pick(r["spec"], "description", "stageId")} for r in self.services.all(pid)], "services")

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
        build = self.new_record(bid, None, BUILD_STEPS, branch=branch, sha=body.get("sha") or hashlib.sha1(bid.encode()).hexdigest(),
                                **pick(body, "pullRequestId"))
        self.builds.add(f"{req.params['projectId']}/{record['id']}", build)
        return self.ok({"id": bid, "createdAt": build["createdAt"], "concluded": False, "status": build["status"],
                        **pick(build, "branch", "sha", "pullRequestId")})

    @staticmethod
    def build_view(build: dict) -> dict:
        """GetJobBuildResponse."""
        concluded = not build["next"]
        data = {"id": build["id"], "createdAt": build["createdAt"], "status": build["status"], "concluded": concluded,
                "success": build["status"] == "SUCCESS", **pick(build, "branch", "sha", "pullRequestId")}
        if concluded:
            data["buildConcludedAt"] = datetime.fromisoformat(build["concludedAt"].replace("Z", "+00:00")).timestamp()
        return data

    def list_builds(self, req: Request) -> Response:
        parent = f"{req.params['projectId']}/{self.service(req)['id']}"
        return self.page(req, [self.build_view(self.advance(b)) for b in self.builds.all(parent)], "builds")

    def get_build(self, req: Request) -> Response:
        parent = f"{req.params['projectId']}/{self.service(req)['id']}"
        return self.ok(self.build_view(self.advance(self.builds.get(parent, req.params["buildId"]))))

    # -- secret groups --------------------------------------------------------------------------------------
    def check_secret(self, pid: str) -> Callable:
        def check(body: dict, existing: Optional[dict]) -> None:
            for dep in body.get("addonDependencies", []):
                self.check_link_keys(pid, dep["addonId"], dep["keys"])
        return check

    def check_link_keys(self, pid: str, addon_id: str, keys: list) -> dict:
        addon = self.addons.find(pid, addon_id)
        if addon is None:
            raise HttpError(404, f"Addon {addon_id!r} not found in project {pid!r}")
        available = ADDON_TYPES[addon["spec"]["type"]].keys
        unknown = [k["keyName"] for k in keys if k["keyName"] not in available]
        if unknown:
            raise HttpError(400, f"Addon {addon_id!r} has no keys {unknown}; available: {available}")
        return addon

    def save_secret(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        record = self.upsert(self.secrets, pid, req, check=self.check_secret(pid))
        return self.ok(self.secret_create_view(record))

    @staticmethod
    def secret_create_view(record: dict) -> dict:
        return {**copy.deepcopy(record["spec"]), "id": record["id"], "createdAt": record["createdAt"], "updatedAt": record["updatedAt"]}

    def secret_view(self, pid: str, record: dict, linked: bool) -> dict:
        """GetSecretResponse; ``linked`` adds the values of linked addon keys under their aliases (or NF_<ADDON>_<KEY>)."""
        spec = record["spec"]
        secrets = {"variables": dict(spec.get("secrets", {}).get("variables", {})), "files": dict(spec.get("secrets", {}).get("files", {}))}
        if linked:
            for dep in self.linked_addons(pid, spec):
                values = self.addon_values(pid, dep["addonId"])
                for key in dep["keys"]:
                    for name in key.get("aliases") or [self.default_key(dep["addonId"], key["keyName"])]:
                        secrets["variables"][name] = values[key["keyName"]]
        return {"id": record["id"], "name": spec["name"], "projectId": pid, "priority": spec["priority"], "secretType": spec["secretType"],
                "type": spec.get("type", "secret"), "tags": spec.get("tags", []), "secrets": secrets,
                "restrictions": spec.get("restrictions", {"restricted": False, "nfObjects": [], "tags": []}),
                "createdAt": record["createdAt"], "updatedAt": record["updatedAt"], **pick(spec, "description")}

    def linked_addons(self, pid: str, spec: dict) -> list:
        """The group's addon dependencies whose addon still exists."""
        return [dep for dep in spec.get("addonDependencies", []) if self.addons.find(pid, dep["addonId"])]

    @staticmethod
    def default_key(addon_id: str, key: str) -> str:
        return f"NF_{addon_id.upper().replace('-', '_')}_{key}"

    def secret(self, req: Request) -> dict:
        return self.secrets.get(self.project(req)["id"], req.params["secretId"])

    def list_secrets(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        return self.page(req, [{k: v for k, v in self.secret_view(pid, r, False).items() if k not in ("secrets", "createdAt", "updatedAt")}
                               for r in self.secrets.all(pid)], "secrets")

    def get_secret(self, req: Request) -> Response:
        return self.ok(self.secret_view(req.params["projectId"], self.secret(req), req.query.get("show") in ("inherited", "all")))

    def get_secret_details(self, req: Request) -> Response:
        pid, record = req.params["projectId"], self.secret(req)
        addon_secrets = []
        for dep in self.linked_addons(pid, record["spec"]):
            addon, values = self.addons.get(pid, dep["addonId"]), self.addon_values(pid, dep["addonId"])
            addon_secrets.append({"id": addon["id"], "name": addon["spec"]["name"], "addonType": addon["spec"]["type"],
                                  "version": self.addon_version(addon), "variables": {k["keyName"]: values[k["keyName"]] for k in dep["keys"]}})
        return self.ok({**self.secret_view(pid, record, False), "addonSecrets": addon_secrets})

    def patch_secret(self, req: Request) -> Response:
        pid, record = req.params["projectId"], self.secret(req)
        self.check_secret(pid)(req.data, record)
        self.patch(record, req.data)
        # PATCH answers the group; POST /secrets/{id} answers {} (ENDPOINTS.md §E)
        return self.ok(self.secret_create_view(record) if req.method == "PATCH" else {})

    def delete_secret(self, req: Request) -> Response:
        self.secrets.remove(req.params["projectId"], self.secret(req)["id"])
        return self.ok({})

    def secret_link_keys(self, record: dict, addon_id: str) -> list:
        dep = next((d for d in record["spec"].get("addonDependencies", []) if d["addonId"] == addon_id), {"keys": []})
        return [{"keyName": k["keyName"], "defaultKey": self.default_key(addon_id, k["keyName"]), **pick(k, "aliases")} for k in dep["keys"]]

    def get_secret_link(self, req: Request) -> Response:
        pid, record = req.params["projectId"], self.secret(req)
        addon = self.addons.get(pid, req.params["addonId"])
        keys = self.secret_link_keys(record, addon["id"])
        return self.ok({"secretId": record["id"], "secretName": record["spec"]["name"], "addonId": addon["id"],
                        "addonName": addon["spec"]["name"], "addonType": addon["spec"]["type"],
                        "availableKeys": ADDON_TYPES[addon["spec"]["type"]].keys, "linked": bool(keys), "linkedKeys": keys})

    def link_secret(self, req: Request) -> Response:
        pid, record, addon_id = req.params["projectId"], self.secret(req), req.params["addonId"]
        self.check_link_keys(pid, addon_id, req.data["keys"])
        deps = [d for d in record["spec"].get("addonDependencies", []) if d["addonId"] != addon_id]
        record["spec"]["addonDependencies"] = deps + [{"addonId": addon_id, "keys": req.data["keys"]}]
        record["updatedAt"] = now_iso()
        return self.ok({"keys": self.secret_link_keys(record, addon_id)})

    # -- addons ---------------------------------------------------------------------------------------------
    def check_addon(self, body: dict, existing: Optional[dict]) -> None:
        if "billing" not in body:
            raise HttpError(501, "The emulator only implements addons with billing (not templateValues or region variants)")
        if body["type"] not in ADDON_TYPES:
            raise HttpError(400, f"Unknown addon type {body['type']!r}; see GET /v1/addon-types")
        versions = ADDON_TYPES[body["type"]].versions
        valid = {"latest", *versions, *(f"{v.split('.')[0]}-latest" for v in versions)}
        if body["version"] not in valid:
            raise HttpError(400, f"Invalid version {body['version']!r} for {body['type']}; use one of {sorted(valid)}")
        self.check_addon_billing(body["billing"], existing["spec"]["billing"] if existing else None, ADDON_TYPES[body["type"]].min_storage)
        if existing and existing["spec"]["type"] != body["type"]:
            raise HttpError(400, f"The type of addon {existing['id']!r} cannot be changed")

    @staticmethod
    def check_addon_billing(billing: dict, old: Optional[dict], min_storage: int) -> None:
        if billing.get("storage", min_storage) < min_storage:
            raise HttpError(400, f"billing.storage must be at least {min_storage} MB for this addon type")
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
        return {**copy.deepcopy(spec), "id": record["id"], "appId": f"/{pid}/{record['id']}", "cluster": self.cluster(pid),
                "status": record["status"], "createdAt": record["createdAt"], "updatedAt": record["updatedAt"]}

    def save_addon(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        record = self.upsert(self.addons, pid, req, ADDON_STEPS, ADDON_CHANGE_STEPS, self.check_addon)
        return self.ok(self.addon_create_view(pid, record))

    def addon(self, req: Request) -> dict:
        return self.addons.get(self.project(req)["id"], req.params["addonId"])

    def get_addon(self, req: Request) -> Response:
        pid, record = req.params["projectId"], self.advance(self.addon(req))
        spec = record["spec"]
        config = {"versionTag": spec["version"], "lifecycleStatus": "active", "deployment": copy.deepcopy(spec["billing"]),
                  "networking": {"tlsEnabled": spec.get("tlsEnabled", False), "externalAccessEnabled": spec.get("externalAccessEnabled", False)}}
        return self.ok({"id": record["id"], "name": spec["name"], "appId": f"/{pid}/{record['id']}", "uid": record["uid"], "status": record["status"],
                        "cluster": self.cluster(pid), "createdAt": record["createdAt"], "tags": spec.get("tags", []),
                        "spec": {"type": spec["type"], "config": config, "pendingActions": []}, **pick(spec, "description", "stageId")})

    def list_addons(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        return self.page(req, [{"id": r["id"], "name": r["spec"]["name"], "appId": f"/{pid}/{r['id']}", "uid": r["uid"],
                                "status": self.advance(r)["status"], "spec": {"type": r["spec"]["type"]}, "tags": r["spec"].get("tags", []),
                                **pick(r["spec"], "description", "stageId")} for r in self.addons.all(pid)], "addons")

    def patch_addon(self, req: Request) -> Response:
        record = self.addon(req)
        if "billing" in req.data:
            self.check_addon_billing(req.data["billing"], record["spec"]["billing"], ADDON_TYPES[record["spec"]["type"]].min_storage)
        return self.ok(self.addon_create_view(req.params["projectId"], self.patch(record, req.data, ADDON_CHANGE_STEPS)))

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
        values = {"HOST": host, "PORT": str(kind.port), "DATABASE": addon_id, "USERNAME": "user", "PASSWORD": secret,
                  "MINIO_ENDPOINT": f"https://{host}", "ACCESS_KEY": uid_of("access", addon_id), "SECRET_KEY": secret,
                  "JDBC_POSTGRES_URI": f"jdbc:postgresql://{host}:{kind.port}/{addon_id}"}
        if self.pg and kind is ADDON_TYPES["postgresql"]:  # the database that stands for the addon on the real server
            values.update(self.pg_login(pid, addon_id))
        return {key: values.get(key, uri) for key in kind.keys}

    def pg_login(self, pid: str, addon_id: str) -> dict:
        """Named after the addon, plus a stable suffix of the project so that two projects' addons never share one."""
        return self.pg.addon_login(f"{addon_id}-{uid_of(pid)[:8]}", uid_of("password", pid, addon_id))

    def upgrades(self, record: dict) -> list:
        """The versions of the type newer than the running one: what the addon can be upgraded to."""
        current, versions = self.addon_version(record), ADDON_TYPES[record["spec"]["type"]].versions
        return [{"version": v, "type": self.upgrade_type(current, v)} for v in (versions[:versions.index(current)] if current in versions else [])]

    @staticmethod
    def upgrade_type(old: str, new: str) -> str:
        old_parts, new_parts = old.split("."), new.split(".")
        return "major" if old_parts[0] != new_parts[0] else "minor" if old_parts[1:2] != new_parts[1:2] else "patch"

    def get_addon_version(self, req: Request) -> Response:
        record = self.addon(req)
        return self.ok({"version": self.addon_version(record), "lifecycleStatus": "active", "upgradeHistory": record.get("upgrades", []),
                        "upgradeTo": self.upgrades(record)})

    def upgrade_addon(self, req: Request) -> Response:
        record, wanted = self.addon(req), req.data["version"]
        current = self.addon_version(record)
        offered = [u["version"] for u in self.upgrades(record)]
        if wanted not in offered:
            raise HttpError(400, f"Version {wanted!r} is not an upgrade of {current} offered for addon {record['id']!r}: {offered}")
        stamp = now_iso()
        record.setdefault("upgrades", []).append({"upgradeId": self.next_id("upgrade"), "previousVersion": current, "newVersion": wanted,
                                                  "upgradeType": self.upgrade_type(current, wanted), "createdAt": stamp,
                                                  "completedAt": stamp, "status": {"status": "completed"}})
        record["spec"]["version"] = wanted
        record.update(status="upgrading", next=["running"], updatedAt=stamp)
        return self.ok({})

    def list_backup_schedules(self, req: Request) -> Response:
        record = self.addon(req)
        schedules = [{"id": uid_of("schedule", record["id"], str(i)), "createdAt": record["createdAt"], "updatedAt": record["updatedAt"],
                      **pick(schedule, "scheduling", "backupType", "retentionTime", "additionalDestinations", "customDestinationId"),
                      **({"backupCompressionType": schedule["compressionType"]} if "compressionType" in schedule else {})}
                     for i, schedule in enumerate(record["spec"].get("backupSchedules", []))]
        return self.page(req, schedules, "schedules")

    def get_addon_credentials(self, req: Request) -> Response:
        values = self.addon_values(req.params["projectId"], self.addon(req)["id"])
        return self.ok({"secrets": pick(values, "USERNAME", "PASSWORD", "ACCESS_KEY", "SECRET_KEY"), "envs": values})

    # -- backups, imports, restores -------------------------------------------------------------------------
    def new_backup(self, req: Request, name: Optional[str], source: str, connection: Optional[str] = None) -> dict:
        """Backups wait in ``scheduled`` while their addon is not running (ENDPOINTS.md §0.3). With ``--pg-target-url``, a
        postgresql import from a ``connection`` string is dumped for real, now: it completes with the dump's size, or
        fails, keeping the tool's message (password scrubbed) as ``error`` in the state, since the API has no field for it."""
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
        backup = self.new_record(bid, None, steps, name=name or bid, source=source, uid=uid_of("backup", bid), addonVersion=self.addon_version(addon),
                                 **data)
        return self.backups.add(f"{pid}/{addon['id']}", backup)

    def backup_view(self, req: Request, backup: dict) -> dict:
        """BackupAddonResponse."""
        addon = self.addon(req)
        self.advance(backup, ready=backup["status"] != "scheduled" or addon["status"] == "running")
        data = {"id": backup["id"], "name": backup["name"], "uid": backup["uid"], "status": backup["status"], "createdAt": backup["createdAt"],
                "config": {"size": str(backup.get("size", 1048576)) if backup["status"] == "completed" else "0", "addonVersion": backup["addonVersion"],
                           "source": {"type": backup["source"]}}}
        if "concludedAt" in backup:
            data["completedAt"] = backup["concludedAt"]
        return data

    def backup_addon(self, req: Request) -> Response:
        return self.ok(self.backup_view(req, self.new_backup(req, (req.data or {}).get("name"), "sameAddon")))

    def import_backup(self, req: Request) -> Response:
        """The import answers an undocumented body (untyped in the SDK): ``{}``; find the backup by ``name``."""
        self.new_backup(req, req.data.get("name"), "liveInstance" if "connectionString" in req.data else "externalDump",
                        req.data.get("connectionString"))
        return self.ok({})

    def list_backups(self, req: Request) -> Response:
        parent = f"{req.params['projectId']}/{self.addon(req)['id']}"
        items = []
        for backup in self.backups.all(parent):
            view = self.backup_view(req, backup)
            config = {"size": view["config"]["size"], "addonVersion": backup["addonVersion"], "source": view["config"]["source"]}
            items.append({**pick(view, "id", "name", "uid", "status", "createdAt"), "completedAt": view.get("completedAt", ""), "config": config})
        return self.page(req, items, "backups")

    def get_backup(self, req: Request) -> Response:
        return self.ok(self.backup_view(req, self.backups.get(f"{req.params['projectId']}/{self.addon(req)['id']}", req.params["backupId"])))

    def restore_backup(self, req: Request) -> Response:
        parent = f"{req.params['projectId']}/{self.addon(req)['id']}"
        backup = self.backups.get(parent, req.params["backupId"])
        if backup["status"] != "completed":
            raise HttpError(409, f"Backup {backup['id']!r} is {backup['status']} and cannot be restored until it has completed")
        steps, data = BACKUP_STEPS, {}
        if self.pg and "dump" in backup:  # a real import: replace the addon's database with it
            try:
                self.pg.restore(backup["dump"], self.pg_login(req.params["projectId"], self.addon(req)["id"]))
            except DataError as exc:
                steps, data["error"] = (BACKUP_STEPS[0], "failed"), str(exc)
                print(f"northflank emulator: restore of {backup['name']!r} failed: {exc}", file=sys.stderr, flush=True)
        restore = self.restores.add(parent, self.new_record(self.next_id("restore"), None, steps, backupId=backup["id"], **data))
        return self.ok({"restoreId": restore["id"]})

    def restore_views(self, req: Request, backup_id: Optional[str]) -> list:
        parent = f"{req.params['projectId']}/{self.addon(req)['id']}"
        return [{"id": r["id"], "backupId": r["backupId"], "status": self.advance(r)["status"], "restoreTimestamp": r["createdAt"],
                 **({"completedAt": r["concludedAt"]} if "concludedAt" in r else {})}
                for r in self.restores.all(parent) if backup_id in (None, r["backupId"])]

    def list_backup_restores(self, req: Request) -> Response:
        self.backups.get(f"{req.params['projectId']}/{self.addon(req)['id']}", req.params["backupId"])
        views = [{k: v for k, v in r.items() if k != "backupId"} for r in self.restore_views(req, req.params["backupId"])]
        return self.page(req, views, "restores")

    def list_addon_restores(self, req: Request) -> Response:
        return self.page(req, self.restore_views(req, None), "restores")

    # -- jobs -----------------------------------------------------------------------------------------------
    @staticmethod
    def job_type(record: dict) -> str:
        return "cron" if "cron" in record["spec"].get("settings", {}) else "manual"

    def job_create_view(self, pid: str, record: dict) -> dict:
        """CreateJobResponse."""
        return {**copy.deepcopy(record["spec"]), "id": record["id"], "appId": f"/{pid}/{record['id']}", "jobType": self.job_type(record),
                "cluster": self.cluster(pid), "status": {}, "createdAt": record["createdAt"], "updatedAt": record["updatedAt"]}

    def save_job(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        record = self.upsert(self.jobs, pid, req, check=lambda body, _existing: self.check_build_source(pid, body.get("deployment", {})))
        return self.ok(self.job_create_view(pid, record))

    def job(self, req: Request) -> dict:
        return self.jobs.get(self.project(req)["id"], req.params["jobId"])

    def get_job(self, req: Request) -> Response:
        """GetJobResponse reshapes the spec: no deployment source, capitalised cron policy, docker paths on vcsData."""
        pid, record = req.params["projectId"], self.job(req)
        spec = record["spec"]
        settings = spec.get("settings", {"backoffLimit": 0})
        data_settings = {"backoffLimit": settings["backoffLimit"], "activeDeadlineSeconds": settings.get("activeDeadlineSeconds") or 0}
        if "cron" in settings:
            cron = settings["cron"]
            data_settings["cron"] = {**({"schedule": cron["schedule"]} if cron.get("schedule") else {}),
                                     "concurrencyPolicy": cron.get("concurrencyPolicy", "allow").capitalize()}
        deployment = spec.get("deployment", {})
        data = {"id": record["id"], "name": spec["name"], "appId": f"/{pid}/{record['id']}", "uid": record["uid"], "projectId": pid,
                "jobType": self.job_type(record), "tags": spec.get("tags", []), "disabledCI": spec.get("disabledCI", False), "disabledCD": False,
                "suspended": settings.get("cron", {}).get("suspended", False), "cluster": self.cluster(pid), "createdAt": record["createdAt"],
                "billing": {"deploymentPlan": spec["billing"]["deploymentPlan"]}, "settings": data_settings,
                "deployment": {**pick(deployment, "buildpack", "docker"),
                               **({"storage": pick(deployment["storage"], "ephemeralStorage", "shmSize")} if "storage" in deployment else {})},
                **pick(spec, "description", "stageId", "buildSettings", "buildConfiguration")}
        if "vcs" in deployment:
            data["vcsData"] = {**pick(deployment["vcs"], "projectUrl", "projectType", "projectBranch", "selfHostedVcsId"), **self.docker_paths(spec)}
        return self.ok(data)

    def list_jobs(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        return self.page(req, [{"id": r["id"], "name": r["spec"]["name"], "appId": f"/{pid}/{r['id']}", "uid": r["uid"], "projectId": pid,
                                "jobType": self.job_type(r), "tags": r["spec"].get("tags", []), "disabledCI": r["spec"].get("disabledCI", False),
                                "disabledCD": False, **pick(r["spec"], "description", "stageId")} for r in self.jobs.all(pid)], "jobs")

    def patch_job(self, req: Request) -> Response:
        return self.ok(self.job_create_view(req.params["projectId"], self.patch(self.job(req), req.data)))

    def delete_job(self, req: Request) -> Response:
        pid, jid = req.params["projectId"], self.job(req)["id"]
        self.jobs.remove(pid, jid)
        self.job_runs.drop(f"{pid}/{jid}")
        return self.ok({})

    def start_job_run(self, req: Request) -> Response:
        record = self.job(req)
        run_id = self.next_id("run")
        run = self.new_record(run_id, req.data or {}, JOB_RUN_STEPS, runName=f"{record['id']}-{run_id.rsplit('-', 1)[1]}",
                              backoffLimit=record["spec"].get("settings", {}).get("backoffLimit", 0))
        self.job_runs.add(f"{req.params['projectId']}/{record['id']}", run)
        return self.ok({"id": run_id, "runName": run["runName"]})

    def job_run_view(self, run: dict) -> dict:
        """GetJobRunResponse."""
        self.advance(run)
        done, success = not run["next"], run["status"] == "SUCCESS"
        return {"id": run["id"], "runName": run["runName"], "status": run["status"], "concluded": done, "startedAt": run["createdAt"],
                "concludedAt": run.get("concludedAt", ""), "active": 0 if done else 1, "succeeded": int(success), "failed": 0,
                "completions": 1, "backoffLimit": run["backoffLimit"]}

    def list_job_runs(self, req: Request) -> Response:
        return self.page(req, [self.job_run_view(r) for r in self.job_runs.all(f"{req.params['projectId']}/{self.job(req)['id']}")], "runs")

    def get_job_run(self, req: Request) -> Response:
        return self.ok(self.job_run_view(self.job_runs.get(f"{req.params['projectId']}/{self.job(req)['id']}", req.params["runId"])))

    # -- volumes --------------------------------------------------------------------------------------------
    @staticmethod
    def volume_view(record: dict) -> dict:
        """CreateVolumeResponse (which has no ``mounts``)."""
        spec = record["spec"]
        return {"id": record["id"], "uid": record["uid"], "name": spec["name"], "spec": spec["spec"], "status": "ready",
                "tags": spec.get("tags", []), "createdAt": record["createdAt"], "updatedAt": record["updatedAt"],
                **pick(spec, "attachedObjects", "backupSchedules")}

    def create_volume(self, req: Request) -> Response:
        pid = self.project(req)["id"]

        def check(body: dict, _existing: Optional[dict]) -> None:
            for obj in body.get("attachedObjects", []):
                (self.services if obj["type"] == "service" else self.jobs).get(pid, obj["id"])

        return self.ok(self.volume_view(self.upsert(self.volumes, pid, req, check=check)))

    def list_volumes(self, req: Request) -> Response:
        return self.page(req, [self.volume_view(r) for r in self.volumes.all(self.project(req)["id"])], None)  # a bare list (§0)

    def get_volume(self, req: Request) -> Response:
        return self.ok(self.volume_view(self.volumes.get(self.project(req)["id"], req.params["volumeId"])))

    def delete_volume(self, req: Request) -> Response:
        self.volumes.remove(self.project(req)["id"], req.params["volumeId"])
        return self.ok({})

    # -- domains and subdomains -----------------------------------------------------------------------------
    @staticmethod
    def check_dns(name: str) -> None:
        """Names under the reserved ``.invalid`` TLD fail DNS verification, so tests can exercise the 400."""
        if name.endswith(".invalid"):
            raise HttpError(400, f"Verification failed: the DNS record for {name} was not found")

    def domain_view(self, record: dict) -> dict:
        """CreateDomainResponse / ListDomainsResponseDomain."""
        return {"name": record["id"], "status": record["status"], "hostname": record["hostname"], "token": record["token"],
                **({"options": pick(record["spec"]["options"], "tlsMode", "minTlsProtocolVersion")} if "options" in record["spec"] else {}),
                **pick(record["spec"], "loadBalancer")}

    def create_domain(self, req: Request) -> Response:
        name = req.data["domain"].lower()
        record = self.new_record(name, req.data, status="pending", hostname=f"nfverify{int(uid_of('dns', name)[:8], 16)}",
                                 token=uid_of("token", name))
        self.domains.add("", record, conflict="The domain is already registered with this account")
        return self.ok(self.domain_view(record))

    def domain(self, req: Request) -> dict:
        return self.domains.get("", req.params["domain"].lower())

    def get_domain(self, req: Request) -> Response:
        record = self.domain(req)
        return self.ok({**self.domain_view(record),
                        "subdomains": [{"name": s["id"], "fullName": s["fullName"]} for s in self.subdomains.all(record["id"])]})

    def list_domains(self, req: Request) -> Response:
        return self.page(req, [self.domain_view(r) for r in self.domains.all("")], "domains")

    def verify_domain(self, req: Request) -> Response:
        record = self.domain(req)
        self.check_dns(record["id"])
        record.update(status="verified", updatedAt=now_iso())
        return self.ok({})

    def delete_domain(self, req: Request) -> Response:
        domain = self.domains.remove("", self.domain(req)["id"])
        for sub in self.subdomains.all(domain["id"]):
            self.unlink_host(sub["fullName"])
        self.subdomains.drop(domain["id"])
        return self.ok({})

    @staticmethod
    def subdomain_view(record: dict) -> dict:
        """AddDomainSubdomainResponse / GetSubdomainResponse."""
        return {"name": record["id"], "fullName": record["fullName"], "recordType": "CNAME", "content": record["content"],
                "verified": record["verified"], **pick(record["spec"], "routingMode", "options")}

    def save_subdomain(self, req: Request) -> Response:
        """POST adds (409 if present); PUT (keyed by ``name``) creates or replaces, as PUT does everywhere."""
        domain = self.domain(req)
        if domain["status"] != "verified":
            raise HttpError(400, f"The domain {domain['id']} has not been verified")
        name = req.data.get("subdomain", req.data.get("name"))
        existing = self.subdomains.find(domain["id"], name)
        if existing and req.method == "POST":
            raise HttpError(409, "The subdomain has already been added to this domain")
        if existing:
            existing.update(spec=req.data, updatedAt=now_iso())
            return self.ok(self.subdomain_view(existing))
        full = domain["id"] if name == "@" else f"{name}.{domain['id']}"
        record = self.new_record(name, req.data, fullName=full, verified=False, content=f"{uid_of('cname', full)[:12]}.dns.northflank.app")
        return self.ok(self.subdomain_view(self.subdomains.add(domain["id"], record)))

    def subdomain(self, req: Request) -> dict:
        return self.subdomains.get(self.domain(req)["id"], req.params["subdomain"])

    def get_subdomain(self, req: Request) -> Response:
        return self.ok(self.subdomain_view(self.subdomain(req)))

    def verify_subdomain(self, req: Request) -> Response:
        record = self.subdomain(req)
        self.check_dns(record["fullName"])
        record.update(verified=True, updatedAt=now_iso())
        return self.ok({})

    def delete_subdomain(self, req: Request) -> Response:
        record = self.subdomains.remove(self.domain(req)["id"], self.subdomain(req)["id"])
        self.unlink_host(record["fullName"])
        return self.ok({})

    def assign_subdomain(self, req: Request) -> Response:
        """Linking a subdomain and listing it in a port's ``domains`` are one state (ENDPOINTS.md §J): the link shows on
        the service GET, and a host routes to one port at a time."""
        record, body = self.subdomain(req), req.data
        if not record["verified"]:
            raise HttpError(400, f"The domain {record['fullName']} has not been verified")
        service = self.services.get(self.projects.get("", body["projectId"])["id"], body["serviceId"])
        port = next((p for p in service["spec"].get("ports", []) if p["name"] == body["portName"]), None)
        if port is None:
            raise HttpError(404, f"Service {service['id']!r} has no port named {body['portName']!r}")
        self.unlink_host(record["fullName"])
        port.setdefault("domains", []).append(record["fullName"])
        service["updatedAt"] = now_iso()
        return self.ok({})

    def unassign_subdomain(self, req: Request) -> Response:
        self.unlink_host(self.subdomain(req)["fullName"])
        return self.ok({})

    def unlink_host(self, host: str) -> None:
        for service in self.services.each():
            for port in service["spec"].get("ports", []):
                if host in port.get("domains", []):
                    port["domains"].remove(host)
                    service["updatedAt"] = now_iso()

    # -- templates and template runs ------------------------------------------------------------------------
    @staticmethod
    def template_view(record: dict) -> dict:
        """CreateTemplateResponseTemplate: ``options`` keeps only ``autorun``; the policy moves to the top level."""
        spec, options = record["spec"], record["spec"].get("options", {})
        return {"id": record["id"], "name": spec["name"], "apiVersion": spec["apiVersion"], "spec": spec["spec"],
                "options": {"autorun": options.get("autorun", False)}, "concurrencyPolicy": options.get("concurrencyPolicy", "allow"),
                "createdAt": record["createdAt"], "updatedAt": record["updatedAt"], **pick(spec, "description", "arguments", "teardownSpec")}

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
            data["templateRun"] = self.template_run_view(self.execute_template(record, options.get("runOnCreationArgumentOverrides", {})))
        return data

    def delete_template(self, req: Request) -> Response:
        """What the template's runs created stays (TEMPLATES.md §4.4)."""
        template = self.templates.remove("", req.params["templateId"])
        self.template_runs.drop(template["id"])
        return self.ok({})

    def get_template(self, req: Request) -> Response:
        return self.ok(self.template_view(self.templates.get("", req.params["templateId"])))

    def list_templates(self, req: Request) -> Response:
        return self.page(req, [{k: v for k, v in self.template_view(r).items() if k not in ("spec", "arguments", "teardownSpec")}
                               | {"options": pick(r["spec"].get("options", {}), "autorun", "concurrencyPolicy")}
                               for r in self.templates.all("")], "templates")

    def run_template(self, req: Request) -> Response:
        record = self.templates.get("", req.params["templateId"])
        return self.ok(self.template_run_view(self.execute_template(record, (req.data or {}).get("arguments", {}))))

    @staticmethod
    def template_run_view(run: dict) -> dict:
        """AbortTemplateRunResponse."""
        return {"id": run["id"], "templateId": run["templateId"], "name": run["name"], "apiVersion": "v1.2", "status": run["status"],
                "concluded": not run["next"], "spec": run["spec"], "arguments": run["arguments"], "refs": run["refs"],
                "createdAt": run["createdAt"], "updatedAt": run["updatedAt"], **pick(run, "description")}

    def list_template_runs(self, req: Request) -> Response:
        template = self.templates.get("", req.params["templateId"])
        return self.page(req, [{**{k: v for k, v in self.template_run_view(self.advance(r)).items() if k not in ("spec", "arguments", "refs")},
                                "startedAt": r["createdAt"], **pick(r, "concludedAt")} for r in self.template_runs.all(template["id"])],
                         "templateRuns")

    def get_template_run(self, req: Request) -> Response:
        template = self.templates.get("", req.params["templateId"])
        return self.ok(self.template_run_view(self.advance(self.template_runs.get(template["id"], req.params["templateRunId"]))))

    def execute_template(self, template: dict, arguments: dict) -> dict:
        """Run the node tree now; the run reports ``running`` and concludes on the next read. Each node gains a
        ``response`` (TEMPLATES.md §7.3); the first failing node fails its workflow and the run."""
        spec = template["spec"]
        args = {**spec.get("arguments", {}), **spec.get("argumentOverrides", {}), **arguments}
        tree, refs = copy.deepcopy(spec["spec"]), {}
        ok = self.execute_node(tree, {}, args, refs)
        run = self.new_record(self.next_id("template-run"), tree, ("running", "success" if ok else "failure"), templateId=template["id"],
                              name=spec["name"], arguments=args, refs=refs, **pick(spec, "description"))
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
            data = self.execute_resource(kind, self.resolve(node.get("spec", {}), args, refs, pipeline=kind == "Pipeline"), context)
        except (HttpError, AssertionError) as exc:
            status, message = (exc.status, exc.message) if isinstance(exc, HttpError) else (400, str(exc))
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
        """Replace ``${args.X}`` and ``${refs.<ref>.<path>}``. Inside a Pipeline node's release-flow and preview templates
        only ``${template.…}`` resolves now; the rest is kept for when the flow runs (TEMPLATES.md §2.2)."""
        if isinstance(value, dict):
            return {k: self.resolve(v, args, refs, deferred or (pipeline and k in ("releaseFlow", "preview")), pipeline) for k, v in value.items()}
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

    # -- pipelines and release flows ------------------------------------------------------------------------
    def upsert_pipeline(self, project_id: Optional[str], spec: dict) -> dict:
        """The Pipeline node is a declarative put: the stages it names get exactly its members (and its release flow,
        when given); stages it omits stay as they are (TEMPLATES.md §4.4)."""
        if not project_id:
            raise HttpError(400, "The Pipeline node has no project context")
        pid = self.projects.get("", project_id)["id"]
        nf_contract.check_rules(nf_contract.PIPELINE_NODE_RULES, spec, "Pipeline node")
        pl_id = derive_id(spec["name"])
        existing = self.pipelines.find(pid, pl_id)
        record = existing or self.new_record(pl_id, {}, stages={}, flows={})
        given = {stage_name(s["name"]): s for s in spec.get("stages", [])}
        stages = {**record["stages"], **{name: s.get("nfObjects", []) for name, s in given.items()}}
        self.check_pipeline_members(pid, pl_id, stages)
        for name, stage in given.items():
            if "releaseFlow" in stage:
                record["flows"][name] = self.new_record(name, stage["releaseFlow"]["spec"])
        record.update(spec={**pick(spec, "description", "preview"), "name": spec["name"]}, stages=stages, updatedAt=now_iso())
        if existing is None:
            self.pipelines.add(pid, record)
        return self.pipeline_view(record)

    def check_pipeline_members(self, pid: str, pl_id: str, stages: dict) -> None:
        """Members exist in the project, do not build from Git themselves, and sit in one stage of one pipeline (TEMPLATES.md §4.3)."""
        stores = {"service": self.services, "job": self.jobs, "addon": self.addons}
        seen = {(m["type"], m["id"]): f"{other['id']} ({stage})" for other in self.pipelines.all(pid) if other["id"] != pl_id
                for stage, members in other["stages"].items() for m in members}
        for stage, members in stages.items():
            for obj in members:
                record = stores[obj["type"]].get(pid, obj["id"])
                if record.get("serviceType") in ("combined", "build") or "vcs" in record["spec"].get("deployment", {}):
                    raise HttpError(400, f"{obj['id']!r} cannot join a pipeline: only resources deployed from a build service or an image can")
                where = seen.setdefault((obj["type"], obj["id"]), f"{pl_id} ({stage})")
                if where != f"{pl_id} ({stage})":
                    raise HttpError(409, f"{obj['type']} {obj['id']!r} already belongs to pipeline {where}")

    @staticmethod
    def pipeline_view(record: dict) -> dict:
        """GetPipelineResponse (which has no ``id``)."""
        members = [{"id": m["id"], "type": m["type"], "stage": stage} for stage in STAGES for m in record["stages"].get(stage, [])]
        return {"name": record["spec"]["name"], "nfObjects": members, **pick(record["spec"], "description", "preview")}

    def pipeline(self, req: Request) -> dict:
        return self.pipelines.get(self.project(req)["id"], req.params["pipelineId"])

    def list_pipelines(self, req: Request) -> Response:
        return self.page(req, [{"id": r["id"], "name": r["spec"]["name"], "createdAt": r["createdAt"], "updatedAt": r["updatedAt"],
                                **pick(r["spec"], "description")} for r in self.pipelines.all(self.project(req)["id"])], "pipelines")

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
        """"Updates a release flow": sets or replaces the stage's flow. The response is undocumented: ``{}``."""
        record, stage = self.pipeline(req), stage_name(req.params["stage"])
        previous = record["flows"].get(stage)
        record["flows"][stage] = self.new_record(stage, copy.deepcopy(req.data))
        if previous:
            record["flows"][stage]["createdAt"] = previous["createdAt"]
        return self.ok({})

    def get_release_flow(self, req: Request) -> Response:
        _record, stage, flow, runs_key = self.flow(req)
        spec, options = flow["spec"], flow["spec"].get("options", {})
        runs = self.flow_runs.all(runs_key)
        return self.ok({**{k: v for k, v in spec.items() if k != "project"}, "stage": stage, "paused": options.get("paused", False),
                        "concurrencyPolicy": options.get("concurrencyPolicy", "allow"), "status": runs[-1]["status"] if runs else "pending",
                        "createdAt": flow["createdAt"], "updatedAt": flow["updatedAt"]})

    def run_release_flow(self, req: Request) -> Response:
        """The run answers the run object (undocumented; the SDK leaves it untyped). It fails when a Release node
        targets something outside the flow's stage (TEMPLATES.md §4.3)."""
        record, stage, flow, runs_key = self.flow(req)
        tree = copy.deepcopy(flow["spec"]["spec"])
        ok = self.check_release_targets(tree, {m["id"] for m in record["stages"].get(stage, [])})
        body = req.data or {}
        run = self.new_record(self.next_id("flow-run"), tree, ("running", "success" if ok else "failure"), arguments=body.get("arguments", {}),
                              **pick(body, "name", "description"))
        return self.ok(self.flow_run_view(self.flow_runs.add(runs_key, run)))

    def check_release_targets(self, node: Any, members: set) -> bool:
        """Marks every offending Release node, not just the first, so the run shows them all."""
        children = node if isinstance(node, list) else list(node.values()) if isinstance(node, dict) else []
        ok = True
        if isinstance(node, dict) and node.get("kind") == "Release":
            target = node.get("spec", {}).get("target", {}).get("id", "")
            if target and "${" not in target and target not in members:
                node["response"] = {"status": "failure", "error": {"code": 400, "message": f"{target!r} is not in this pipeline stage"}}
                ok = False
        for child in children:
            ok = self.check_release_targets(child, members) and ok
        return ok

    @staticmethod
    def flow_run_view(run: dict, summary: bool = False) -> dict:
        """AbortReleaseFlowRunResponse (``summary``: ListReleaseFlowRunsResponseRun)."""
        data = {"id": run["id"], "status": run["status"], "concluded": not run["next"], "createdAt": run["createdAt"], "updatedAt": run["updatedAt"],
                "startedAt": run["createdAt"], **pick(run, "name", "description", "concludedAt")}
        if not summary:
            data.update(apiVersion="v1.2", spec=run["spec"], arguments=run["arguments"])
        return data

    def list_release_flow_runs(self, req: Request) -> Response:
        *_flow, runs_key = self.flow(req)
        return self.page(req, [self.flow_run_view(self.advance(r), summary=True) for r in self.flow_runs.all(runs_key)], "runs")

    def get_release_flow_run(self, req: Request) -> Response:
        *_flow, runs_key = self.flow(req)
        return self.ok(self.flow_run_view(self.advance(self.flow_runs.get(runs_key, req.params["runId"]))))


def add_arguments(parser) -> None:
    parser.add_argument("--state-file", help="JSON state, loaded at start when present and rewritten after every change")
    parser.add_argument("--rate-limit", type=int, default=1000, help="requests per window (Northflank's default: 1000/hour)")
    parser.add_argument("--rate-window", type=float, default=3600.0, help="seconds; the window starts at the first request")
    parser.add_argument("--pg-target-url", help="a PostgreSQL superuser's connection string: postgresql imports from a connection "
                                                "string and their restores then move real data, into one database per addon there")
    parser.add_argument("--pg-bin", help="directory of pg_dump, pg_restore and psql (default: PATH, else the newest /usr/lib/postgresql/*/bin)")
    parser.add_argument("--data-dir", help="where imports are dumped (default: a temporary directory, removed at exit)")


# a signal handler's signature
def exit_on_sigterm(signum, frame) -> None:  # pylint: disable=unused-argument
    sys.exit(0)


def build(args) -> NorthflankEmulator:
    pg, workdir = None, None
    if args.pg_target_url:
        if not args.data_dir:  # the dumps live as long as the emulator, removed at exit
            workdir = tempfile.TemporaryDirectory(prefix="northflank-data-")  # pylint: disable=consider-using-with
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, exit_on_sigterm)  # exit normally, so that the directory is removed
        pg = PostgresData(args.pg_target_url, args.data_dir or workdir.name, args.pg_bin)
    emulator = NorthflankEmulator(rate_limit=args.rate_limit, rate_window=args.rate_window, token=args.token, state_file=args.state_file,
                                  latency_ms=args.latency_ms, fault_rate=args.fault_rate, faults=tuple(f for f in args.faults.split(",") if f),
                                  seed=args.seed, pg=pg)
    emulator.workdir = workdir
    return emulator

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Northflank emulator's machinery: routing, auth, rate limits, contract checks, state and shared helpers.

The resource families (``projects``, ``services``, ...) are mixins of :class:`NorthflankEmulator` (in ``__init__``);
each lists the routes it serves in its own ``routes()``, and this module gathers them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import tempfile
import time
from typing import Any, Callable, Optional

from tests.contract import nf_contract
from tests.emulators import _server
from tests.emulators._server import HttpError, Request, Response
from tests.emulators.northflank.pg import PostgresData, scrub

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
JOB_RUN_STEPS = ("RUNNING", "SUCCESS")  # or RUNNING -> FAILED (POST /_admin/next-outcome)

# Dict[str, Any] maps that PATCH replaces as a whole (anything else nested is merged), and variants that exclude each
# other.
OPAQUE_MAPS = frozenset(
    (
        "runtimeEnvironment",
        "runtimeFiles",
        "buildArguments",
        "buildFiles",
        "dockerSecretMounts",
        "variables",
        "files",
        "templateValues",
        "arguments",
        "spec",
    )
)
EXCLUSIVE = ({"internal", "external"}, {"dockerfile", "buildpack"})


def derive_id(name: str) -> str:
    """Northflank's ID rule (docs/emulators.md, "ID derivation"): lower-case, each space becomes a hyphen."""
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
    """Stages are lower-case in paths and capitalised in bodies
    (https://northflank.com/docs/v1/api/pipelines/get-release-flow); accept either."""
    for s in STAGES:
        if s.lower() == stage.lower():
            return s
    raise HttpError(404, f"Pipeline stage {stage!r} not found (expected one of {', '.join(STAGES)})")


class Store:
    """One kind of resource: ``state[kind][parent][id] = record``. ``parent`` is "" for team-level kinds,
    the project ID for project resources, and "project/owner" for sub-resources (builds, backups, runs)."""

    def __init__(self, emu: "Core", kind: str, noun: str):
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


class Core(_server.Emulator):
    """Everything but the resources: the mixins of :class:`NorthflankEmulator` add those."""

    name = "northflank"

    def __init__(
        self, rate_limit: int = 1000, rate_window: float = 3600.0, pg: Optional[PostgresData] = None, **kwargs
    ):
        self.rate = {"budget": rate_limit, "window": rate_window, "start": None, "used": 0}
        # Reads each record has had at its current status step, while POST /_admin/hold asks for more than one.
        self.held: dict = {}
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
        """(method, SDK path template, handler) of every route served: the ``routes()`` of every family mixin."""
        return [row for cls in type(self).__mro__ if "routes" in vars(cls) for row in vars(cls)["routes"](self)]

    def authenticate(self, req: Request) -> Optional[Response]:
        if not req.path.startswith(self.api_prefix) or req.headers.get("authorization") == f"Bearer {self.token}":
            return None
        return self.error_response(
            HttpError(401, "Unauthorized: missing or invalid API token (expected Authorization: Bearer <token>)")
        )

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
            return self.error_response(
                HttpError(501, f"The emulator does not implement {route.method} {route.template}")
            )
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
        if req.path == "/_admin/next-outcome":
            return self.admin_outcome(req)
        if req.path == "/_admin/hold":
            return self.admin_hold(req)
        if req.path != "/_admin/rate-limit":
            return None
        if req.method == "POST":
            body = req.json() or {}
            self.rate.update(
                budget=int(body.get("budget", self.rate["budget"])),
                window=float(body.get("window_seconds", self.rate["window"])),
                start=None,
                used=0,
            )
        return Response(
            200, {"budget": self.rate["budget"], "window_seconds": self.rate["window"], "used": self.rate["used"]}
        )

    def admin_outcome(self, req: Request) -> Response:
        """``POST /_admin/next-outcome {"project", "job" | "service", "outcome": "FAILED" | "SUCCESS", "count"?}``:
        the next ``count`` (default 1) runs of the job, or rollouts of the service (restart, pause, resume), end so;
        ``GET`` lists what is pending. Kept in the state, so that ``PUT /_admin/state {}`` clears it."""
        outcomes = self.state.setdefault("outcomes", {})
        if req.method == "POST":
            body = req.json() or {}
            kind = "job" if "job" in body else "service"
            outcome = body.get("outcome", "FAILED")
            if outcome not in ("FAILED", "SUCCESS") or not body.get("project") or not body.get(kind):
                expected = 'expected {"project", "job" or "service", "outcome": FAILED or SUCCESS}'
                return Response(400, {"error": expected})
            outcomes[f"{kind}:{body['project']}/{body[kind]}"] = [outcome] * int(body.get("count", 1))
            self.save()
        return Response(200, {"outcomes": outcomes})

    def admin_hold(self, req: Request) -> Response:
        """``POST /_admin/hold {"reads": N}``: from now on every asynchronous status step takes N reads instead of one
        (a long wait, for the progress tests); ``GET`` reads it. Kept in the state: ``PUT /_admin/state {}`` ends it."""
        if req.method == "POST":
            reads = (req.json() or {}).get("reads", 1)
            if not isinstance(reads, int) or reads < 1:
                return Response(400, {"error": 'expected {"reads": N}, N >= 1'})
            self.state["hold_reads"] = reads
            self.held.clear()
            self.save()
        return Response(200, {"reads": self.state.get("hold_reads", 1)})

    def take_outcome(self, kind: str, record: dict) -> Optional[str]:
        """The outcome a test set for this run or rollout (``admin_outcome``), consumed; None for the default."""
        key = next(
            (
                k
                for k in self.state.get("outcomes", {})
                if k.startswith(f"{kind}:")
                and k.endswith(f"/{record['id']}")
                and self.owns(k[len(kind) + 1 :].split("/")[0], kind, record)
            ),
            None,
        )
        if key is None:
            return None
        queue = self.state["outcomes"][key]
        outcome = queue.pop(0)
        if not queue:
            del self.state["outcomes"][key]
        return outcome

    def owns(self, pid: str, kind: str, record: dict) -> bool:
        store = self.jobs if kind == "job" else self.services
        return store.find(pid, record["id"]) is record

    # -- contract -------------------------------------------------------------------------------------------
    def validate(self, req: Request) -> nf_contract.Route:
        """SDK types, documented rules, and the documented page size limit; AssertionError names the field."""
        route = nf_contract.check(req.method, req.path, req.data, query=req.query)
        nf_contract.check_docs_rules(route, req.data)
        self.validate_catalogue(route, req.data)
        if route.endpoint.is_paginated:
            for param, hi in (("per_page", 100), ("page", None)):
                value = req.query.get(param)
                if value is not None and not (value.isdigit() and 1 <= int(value) <= (hi or math.inf)):
                    raise AssertionError(
                        f"{req.method} {route.template}: query {param}={value!r} must be an integer"
                        f" from 1{f' to {hi}' if hi else ''}"
                    )
        return route

    def validate_catalogue(self, route: nf_contract.Route, body: Any) -> None:  # pylint: disable=unused-argument
        """Regions, plans, addon types: the catalogue mixin checks them (AssertionError naming the field)."""

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

    def contract_violation(self, message: str, status: int = 400) -> HttpError:
        """For a handler: a violation found only once the state is known (a reference to nothing, a bound of the stored
        resource) is recorded in the log as ``contract_error``, as ``before()`` records the others; raise the result."""
        self.log[-1]["contract_error"] = message
        return HttpError(status, message)

    def contract_failure(self, entry: dict, status: int, message: str) -> Response:
        entry["contract_error"] = message
        return self.error_response(HttpError(status, message))

    # -- rate limit -----------------------------------------------------------------------------------------
    def consume_rate_limit(self) -> Optional[Response]:
        """The window starts at the first request and resets ``window`` seconds later (https://northflank.com/docs/v1/api/use-the-api#rate-limits)."""
        now, rate = time.time(), self.rate
        if rate["start"] is None or now >= rate["start"] + rate["window"]:
            rate.update(start=now, used=0)
        rate["used"] += 1
        return (
            self.too_many_requests(self.rate_headers()["x-ratelimit-reset"]) if rate["used"] > rate["budget"] else None
        )

    def rate_headers(self) -> dict:
        rate, now = self.rate, time.time()
        reset = math.ceil(rate["start"] + rate["window"] - now) if rate["start"] is not None else int(rate["window"])
        return {
            "x-ratelimit-limit": rate["budget"],
            "x-ratelimit-remaining": max(0, rate["budget"] - rate["used"]),
            "x-ratelimit-reset": max(0, reset),
        }

    def rate_limited_response(self, req: Request) -> Response:
        """An injected 429 (``POST /_admin/faults``) is a transient one: it says the window resets in 1 second, so a
        client's wait-and-retry is exercised without a real wait and without touching the budget."""
        with self.lock:
            return self.too_many_requests(1)

    def too_many_requests(self, reset: int) -> Response:
        budget, window = self.rate["budget"], self.rate["window"]
        resp = self.error_response(
            HttpError(
                429,
                f"Rate limit exceeded: {budget} requests per {window:g} seconds; retry in {reset} seconds",
                details={"limit": budget, "reset": reset},
            )
        )
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
            start = next(
                (i for i, item in enumerate(items) if str(item.get("id", item.get("name"))) > cursor), len(items)
            )
        else:
            start = (int(req.query.get("page", 1)) - 1) * per_page
        chunk = items[start:start + per_page]
        pagination = {"hasNextPage": start + per_page < len(items), "count": len(chunk)}
        if pagination["hasNextPage"]:
            pagination["cursor"] = str(chunk[-1].get("id", chunk[-1].get("name")))
        return Core.ok(chunk if key is None else {key: chunk}, pagination)

    def next_id(self, prefix: str) -> str:
        """Sequential IDs sort in creation order, which keeps cursor pagination stable."""
        self.state["seq"] = self.state.get("seq", 0) + 1
        return f"{prefix}-{self.state['seq']:06d}"

    def advance(self, record: dict, ready: bool = True) -> dict:
        """One status step per read (see module docstring); ``ready=False`` holds the record where it is."""
        if ready and record.get("next") and self.state.get("hold_reads", 1) > 1:
            # POST /_admin/hold: this step lasts that many reads.
            reads = self.held[id(record)] = self.held.get(id(record), 0) + 1
            ready = reads >= self.state["hold_reads"]
            if ready:
                del self.held[id(record)]
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

    def upsert(
        self,
        store: Store,
        parent: str,
        req: Request,
        steps: tuple = (),
        rerun: tuple = (),
        check: Optional[Callable] = None,
        **extra,
    ) -> dict:
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

"""Heroku Platform API emulator: an account from a YAML fixture, checked against Heroku's JSON schema.

Three surfaces on one port, as three hosts on Heroku:

- the Platform API (api.heroku.com) at ``/``: versioned ``Accept`` header (406 without), bearer token
  (401), ``{"id", "message"}`` errors, Range pagination (206 + ``Next-Range``), a token-bucket rate limit
  (``RateLimit-Remaining``, 429 ``rate_limit``). Every route is a link of ``platform-api-schema.json``
  (checked at start-up) and every JSON answer is validated against it: a violation becomes a 500 and
  ``response_error`` on the request's log entry;
- Heroku Scheduler's Dashboard API (particleboard.heroku.com) at ``/particleboard`` (docs/emulators.md);
- Heroku Git (git.heroku.com) at ``/git/<app>.git``: smart HTTP, basic auth with the API key as password.

Writes (the cut-over's freeze and restore, behind the collection's opt-in): ``PATCH /apps/{app}`` (maintenance only),
``PATCH /apps/{app}/formation`` (batch, quantities only) and ``PATCH /apps/{app}/formation/{formation}``; each body is
checked against the link's schema and kept as ``body`` in the request log, whose ``writes`` counts them.

Admin: ``GET|POST /_admin/rate-limit`` reads or sets ``{"size", "per_hour", "remaining"}`` of the bucket.
Documented in docs/emulators.md ("Heroku emulator").
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
import uuid
from typing import Any, Callable, Optional

from tests.contract.heroku_schema import load as load_schema, request_extras
from tests.emulators._server import Emulator, HttpError, Request, Response
from tests.emulators.heroku_fixture import build_state, read
from tests.emulators.heroku_git import HerokuGit

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
ACCEPT = re.compile(r"application/vnd\.heroku\+json\s*;\s*version=([\w.-]+)")
DEFAULT_PAGE, MAX_PAGE = 200, 1000
RANGE = re.compile(
    r"^\s*(?P<field>\w+)\s+(?P<open>[\[\]]?)(?P<first>[^.;]*)\.\.(?P<last>[^;]*?)\s*(?:;\s*(?P<params>[^;]*?))?\s*;?\s*$"
)
RANGE_HELP = "Invalid `Range` header. Please use format like `id ..; max=10, order=desc`."
# Builds range on started_at, which a build object shows as created_at.
RANGE_ALIASES = {"started_at": "created_at"}
ERROR_IDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    406: "not_acceptable",
    409: "conflict",
    416: "requested_range_not_satisfiable",
    422: "invalid_params",
    429: "rate_limit",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
# `resource` of a 404 where Heroku's spelling is known (docs/emulators.md, Heroku "Errors"); otherwise the path
# parameter's name.
RESOURCES = {"attachment": "add_on attachment"}
NOT_ACCEPTABLE = (
    "Please specify a version along with Heroku's API MIME type. For example, `Accept: application/vnd.heroku+json; "
    "version=3`. "
    "(This emulator serves the version=3 variant only.)"
)
NO_ROUTE = (
    "The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), "
    "and did you set your `Accept` header properly?"
)
RATE_LIMITED = {
    "id": "rate_limit",
    "message": "Your account reached the API rate limit\nPlease wait a few minutes before making new requests",
    "url": "https://devcenter.heroku.com/articles/platform-api-reference#rate-limits",
}
JSONAPI = "application/vnd.api+json"
SCHEDULER_JOBS = re.compile(r"^/particleboard/apps/[^/]+/jobs/?$")


class TokenBucket:
    """Heroku's per-account pool: ``size`` tokens at most, refilled continuously at ``per_hour``."""

    def __init__(self, size: int, per_hour: float, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.size, self.per_hour = size, per_hour
        self.tokens, self.stamp = float(size), clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.size, self.tokens + (now - self.stamp) * self.per_hour / 3600.0)
        self.stamp = now

    def take(self) -> bool:
        self._refill()
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    @property
    def remaining(self) -> int:
        self._refill()
        return int(self.tokens)

    def configure(
        self, size: Optional[int] = None, per_hour: Optional[float] = None, remaining: Optional[int] = None
    ) -> dict:
        self._refill()
        if size is not None:
            self.size = int(size)
            self.tokens = float(self.size)  # a resized bucket starts full
        if per_hour is not None:
            self.per_hour = float(per_hour)
        if remaining is not None:
            self.tokens = float(remaining)
        self.tokens = min(self.tokens, float(self.size))
        return self.describe()

    def describe(self) -> dict:
        return {"size": self.size, "per_hour": self.per_hour, "remaining": self.remaining}


def parse_range(header: str, accepted: tuple) -> dict:
    """``id ]abc..; max=10, order=desc`` -> {field, exclusive, first, last, max, desc}; 400 when malformed."""
    match = RANGE.match(header)
    if not match or match.group("field") not in accepted:
        raise HttpError(400, RANGE_HELP + (f" Accepted fields: {', '.join(accepted)}." if match else ""))
    params = dict(part.strip().partition("=")[::2] for part in (match.group("params") or "").split(",") if part.strip())
    params = {key.strip(): value.strip() for key, value in params.items()}
    if (
        set(params) - {"max", "order"}
        or params.get("order", "asc") not in ("asc", "desc")
        or not params.get("max", "1").isdigit()
    ):
        raise HttpError(400, RANGE_HELP)
    return {
        "field": match.group("field"),
        "exclusive": match.group("open") == "]",
        "first": match.group("first").strip(),
        "last": match.group("last").strip(),
        "max": min(MAX_PAGE, max(1, int(params.get("max", DEFAULT_PAGE)))),
        "desc": params.get("order") == "desc",
    }


class HerokuEmulator(Emulator):
    name = "heroku"
    api_prefix = ""  # Heroku's routes are unversioned: /apps/{app}, not /v1/apps/{app}

    def __init__(self, fixture: str, rate_limit: int = 4500, rate_refill: float = 4500, **kwargs):
        self.schema = load_schema()
        self.bucket = TokenBucket(rate_limit, rate_refill)
        # the Git repositories live as long as the emulator, removed at exit
        self.workdir = tempfile.TemporaryDirectory(prefix="heroku-git-")  # pylint: disable=consider-using-with
        spec = read(fixture)
        self.git = HerokuGit(self.workdir.name)
        self.git.build(spec.get("apps", ()))
        self.fixture_state = build_state(spec, self.git.commit_of, self.git.size)
        super().__init__(**kwargs)

    def initial_state(self) -> dict:
        return self.fixture_state

    # -- route registration ------------------------------------------------------------------
    def api(self, method: str, template: str, handler: Callable[[Request], Any]) -> None:
        """A Platform API route: a link of the schema, whose path parameters accept the identities the schema gives
        them."""
        link = self.schema.link(method, template)
        if link is None:
            raise AssertionError(f"{method} {template} is not a link of platform-api-schema.json")
        identities = dict(zip(re.findall(r"\{(\w+)\}", template), link.placeholders))

        def run(req: Request) -> Response:
            req.identity = identities
            body = handler(req)
            return body if isinstance(body, Response) else Response(200, body)

        self.route(method, template, run)

    def get(self, template: str, handler: Callable[[Request], Any]) -> None:
        self.api("GET", template, handler)

    def listing(
        self, template: str, items: Callable[[Request], list], ranges: tuple = ("id",), view: Optional[Callable] = None
    ) -> None:
        """A paginated list: ``ranges`` and the schema's ``ranges`` are the fields a Range may sort on (the first is the
        default);
        ``view(req, page)`` adds what request headers select."""
        link = self.schema.link("GET", template)
        accepted = tuple(dict.fromkeys((*ranges, *(link.ranges if link else ()))))  # a missing link fails in api()
        self.get(template, lambda req: self.page(req, items(req), accepted, view))

    def collection(self, path: str, param: str, items: Callable[[Request], list], noun: str, **listing) -> None:
        """``path`` lists, ``path/{param}`` shows one item of it."""
        self.listing(path, items, **listing)
        view = listing.get("view") or (lambda req, page: page)
        self.get(f"{path}/{{{param}}}", lambda req: view(req, [self.pick(req, param, items(req), noun)])[0])

    def top(self, key: str) -> Callable[[Request], Any]:
        return lambda req: self.state[key]

    def per_app(self, key: str) -> Callable[[Request], Any]:
        return lambda req: self.data(req)[key]

    def setup(self) -> None:
        self.account_routes()
        self.app_routes()
        self.addon_routes()
        self.pipeline_routes()
        self.platform_routes()
        # not the Platform API: other hosts on Heroku, with their own auth (docs/emulators.md)
        self.route("GET", "/particleboard/apps/{app_id}/jobs", self.scheduler_jobs)
        self.route("GET", "/git/{repo}.git/info/refs", self.git_request)
        self.route("POST", "/git/{repo}.git/git-upload-pack", self.git_request)

    def account_routes(self) -> None:
        self.get("/account", self.top("account"))
        self.get("/users/{account}", self.user)
        self.get("/account/rate-limits", lambda req: {"remaining": self.bucket.remaining})
        self.listing("/apps", self.top("apps"), ranges=("id", "name", "updated_at"))
        self.listing("/users/{account}/apps", self.personal_apps, ranges=("id", "name", "updated_at"))
        self.collection("/teams", "team", self.top("teams"), "team")
        self.listing("/teams/{team}/apps", self.team_apps)
        self.get(
            "/teams/apps/{team_app}",
            lambda req: self.team_app(self.pick(req, "team_app", [a for a in self.state["apps"] if a["team"]], "app")),
        )
        self.collection("/spaces", "space", self.top("spaces"), "space")
        self.get(
            "/spaces/{space}/nat",
            lambda req: self.state["space_nats"][self.pick(req, "space", self.state["spaces"], "space")["id"]],
        )

    def app_routes(self) -> None:
        per_app = self.per_app
        self.get("/apps/{app}", self.app)
        self.api("PATCH", "/apps/{app}", self.update_app)
        self.get("/apps/{app}/config-vars", per_app("config_vars"))
        self.collection("/apps/{app}/releases", "release", per_app("releases"), "release", ranges=("id", "version"))
        self.get(
            "/apps/{app}/releases/{release}/config-vars",
            lambda req: self.data(req)["release_config_vars"][self.release(req)["id"]],
        )
        self.get("/apps/{app}/slugs/{slug}", lambda req: self.pick(req, "slug", self.data(req)["slugs"], "slug"))
        # an OCI image comes back as a one-item array (schema: oci-image Info)
        self.get(
            "/apps/{app}/oci-images/{oci_image}",
            lambda req: [self.pick(req, "oci_image", self.data(req)["oci_images"], "OCI image")],
        )
        self.collection("/apps/{app}/builds", "build", per_app("builds"), "build", ranges=("id", "started_at"))
        self.collection("/apps/{app}/formation", "formation", per_app("formation"), "process type ({value})")
        self.api("PATCH", "/apps/{app}/formation", self.update_formation)
        self.api("PATCH", "/apps/{app}/formation/{formation}", self.update_process_type)
        # buildpack installations have no id to range over: always the whole list, in order
        self.get("/apps/{app}/buildpack-installations", per_app("buildpack_installations"))
        for path, param, noun in (
            ("domains", "domain", "domain"),
            ("sni-endpoints", "sni_endpoint", "SNI endpoint"),
            ("features", "feature", "feature"),
            ("log-drains", "log_drain", "log drain"),
            ("webhooks", "webhook", "webhook"),
            ("collaborators", "collaborator", "collaborator"),
        ):
            self.collection(f"/apps/{{app}}/{path}", param, per_app(path.replace("-", "_")), noun)

    def addon_routes(self) -> None:
        self.collection("/addons", "addon", self.top("addons"), "add-on", view=self.addon_view)
        self.collection("/apps/{app}/addons", "addon", self.app_addons, "add-on", view=self.addon_view)
        self.collection(
            "/addon-attachments", "attachment", self.top("attachments"), "add-on attachment", view=self.attachment_view
        )
        self.collection(
            "/apps/{app}/addon-attachments",
            "attachment",
            self.app_attachments,
            "add-on attachment",
            view=self.attachment_view,
        )
        self.listing("/addons/{addon}/addon-attachments", self.addon_attachments, view=self.attachment_view)
        self.collection("/addon-services", "service", self.top("addon_services"), "add-on service")
        self.collection("/addon-services/{service}/plans", "plan", self.service_plans, "plan")
        self.get("/plans/{plan}", lambda req: self.pick(req, "plan", self.state["plans"], "plan"))

    def pipeline_routes(self) -> None:
        self.collection("/pipelines", "pipeline", self.top("pipelines"), "pipeline")
        self.collection("/pipeline-couplings", "coupling", self.top("pipeline_couplings"), "pipeline coupling")
        self.listing(
            "/pipelines/{pipeline}/pipeline-couplings", lambda req: self.of_pipeline(req, "pipeline_couplings")
        )
        self.get(
            "/apps/{app}/pipeline-couplings", lambda req: self.of_app(req, "pipeline_couplings", "pipeline coupling")
        )
        self.get("/apps/{app}/review-app", lambda req: self.of_app(req, "review_apps", "review app"))
        self.listing("/pipelines/{pipeline}/review-apps", lambda req: self.of_pipeline(req, "review_apps"))
        self.get(
            "/review-apps/{review_app}",
            lambda req: self.pick(req, "review_app", self.state["review_apps"], "review app"),
        )
        self.get("/pipelines/{pipeline}/review-app-config", self.review_app_config)

    def platform_routes(self) -> None:
        for path, param, noun in (
            ("regions", "region", "region"),
            ("stacks", "stack", "stack"),
            ("generations", "generation", "generation"),
            ("dyno-sizes", "dyno_size", "dyno size"),
        ):
            self.collection(f"/{path}", param, self.top(path.replace("-", "_")), noun)

    # -- lookups ------------------------------------------------------------------------------
    @staticmethod
    def not_found(noun: str, resource: str) -> HttpError:
        return HttpError(404, f"Couldn't find that {noun}.", "not_found", {"resource": resource})

    def pick(self, req: Request, param: str, items: list, noun: str) -> dict:
        """The item a path parameter names, by any identity the schema gives that parameter (``~``: the one account)."""
        value = req.params[param]
        placeholder = req.identity[param]
        for item in items:
            if value in placeholder.literals or any(str(self.field(item, f)) == value for f in placeholder.fields):
                return item
        raise self.not_found(noun.format(value=value), RESOURCES.get(param, param))

    @staticmethod
    def field(item: dict, name: str) -> Any:
        # a collaborator's email is its user's
        return item["user"]["email"] if name == "email" and "email" not in item else item.get(name)

    def app(self, req: Request) -> dict:
        return self.pick(req, "app", self.state["apps"], "app")

    def data(self, req: Request) -> dict:
        return self.state["app_data"][self.app(req)["id"]]

    def release(self, req: Request) -> dict:
        return self.pick(req, "release", self.data(req)["releases"], "release")

    def user(self, req: Request) -> dict:
        return self.pick(req, "account", [self.state["account"]], "user")

    def personal_apps(self, req: Request) -> list:
        self.user(req)
        return [a for a in self.state["apps"] if a["team"] is None]

    def team_apps(self, req: Request) -> list:
        team = self.pick(req, "team", self.state["teams"], "team")
        return [self.team_app(a) for a in self.state["apps"] if a["team"] and a["team"]["id"] == team["id"]]

    def team_app(self, app: dict) -> dict:
        """An app as ``team-app`` shows it: fewer fields, plus ``joined`` and ``locked``."""
        fields = (
            "archived_at",
            "buildpack_provided_description",
            "build_stack",
            "created_at",
            "git_url",
            "id",
            "internal_routing",
            "maintenance",
            "name",
            "owner",
            "region",
            "released_at",
            "repo_size",
            "slug_size",
            "stack",
            "updated_at",
            "web_url",
        )
        space = app["space"] and {"id": app["space"]["id"], "name": app["space"]["name"]}
        return {
            **{f: app[f] for f in fields},
            "team": {"name": app["team"]["name"]},
            "space": space,
            **self.state["team_apps"][app["id"]],
        }

    def of_app(self, req: Request, key: str, noun: str) -> dict:
        """The single object an app has (pipeline coupling, review app); 404 when it has none."""
        app = self.app(req)
        for item in self.state[key]:
            if item["app"]["id"] == app["id"]:
                return item
        raise self.not_found(noun, noun.replace(" ", "_"))

    def of_pipeline(self, req: Request, key: str) -> list:
        pipeline = self.pick(req, "pipeline", self.state["pipelines"], "pipeline")
        return [item for item in self.state[key] if item["pipeline"]["id"] == pipeline["id"]]

    def review_app_config(self, req: Request) -> dict:
        pipeline = self.pick(req, "pipeline", self.state["pipelines"], "pipeline")
        if pipeline["id"] not in self.state["review_app_configs"]:
            raise self.not_found("review app config", "review_app_config")
        return self.state["review_app_configs"][pipeline["id"]]

    def app_attachments(self, req: Request) -> list:
        app = self.app(req)
        return [a for a in self.state["attachments"] if a["app"]["id"] == app["id"]]

    def app_addons(self, req: Request) -> list:
        # the add-ons attached here, other apps' included
        ids = {a["addon"]["id"] for a in self.app_attachments(req)}
        return [a for a in self.state["addons"] if a["id"] in ids]

    def addon_attachments(self, req: Request) -> list:
        addon = self.pick(req, "addon", self.state["addons"], "add-on")
        return [a for a in self.state["attachments"] if a["addon"]["id"] == addon["id"]]

    def service_plans(self, req: Request) -> list:
        service = self.pick(req, "service", self.state["addon_services"], "add-on service")
        return [p for p in self.state["plans"] if p["addon_service"]["id"] == service["id"]]

    def by_id(self, key: str, item_id: str) -> dict:
        return next(item for item in self.state[key] if item["id"] == item_id)

    # -- header-selected shapes (Accept-Inclusion, Accept-Expansion) ------------------------------------------------
    def attachment_view(self, req: Request, page: list) -> list:
        extras = request_extras(req.headers) & {"config_vars", "addon:plan"}
        if not extras:
            return page
        out = copy.deepcopy(page)
        for att in out:
            if "config_vars" in extras:
                att["config_vars"] = self.state["attachment_config_vars"][att["id"]]
            if "addon:plan" in extras:
                att["addon"]["plan"] = self.by_id("addons", att["addon"]["id"])["plan"]
        return out

    def addon_view(self, req: Request, page: list) -> list:
        extras = request_extras(req.headers) & {"addon_service", "plan"}
        if not extras:
            return page
        out = copy.deepcopy(page)
        for addon in out:
            if "addon_service" in extras:
                addon["addon_service"] = self.by_id("addon_services", addon["addon_service"]["id"])
            if "plan" in extras:
                addon["plan"] = self.by_id("plans", addon["plan"]["id"])
        return out

    # -- the writes: the cut-over's freeze and restore, behind the collection's explicit opt-in -------------------
    def write_body(self, req: Request, template: str) -> dict:
        """The request body, checked against the link's schema; logged (these bodies hold no secret) so tests can see
        each write."""
        try:
            body = req.json()
        except ValueError as exc:
            raise HttpError(400, f"Invalid JSON: {exc}", "bad_request") from exc
        self.log[-1]["body"] = body
        errors = self.schema.check_request("PATCH", template, body)
        if errors:
            raise HttpError(422, "Invalid params: " + "; ".join(errors), "invalid_params")
        return body

    @staticmethod
    def now() -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def update_app(self, req: Request) -> dict:
        """Maintenance mode (the collection's one explicit opt-in write, see docs/cutover.md). Renames and stack changes
        are not the collection's business."""
        app = self.app(req)
        body = self.write_body(req, "/apps/{app}")
        if set(body) != {"maintenance"}:
            raise HttpError(422, "This emulator changes `maintenance` only.", "invalid_params")
        app.update(maintenance=body["maintenance"], updated_at=self.now())
        return app

    def scale(self, req: Request, updates: list) -> list:
        """Quantities of process types (by id or type), all checked before any is changed, as one batch."""
        formation = self.data(req)["formation"]
        found = []
        for update in updates:
            item = next((f for f in formation if update["type"] in (f["type"], f["id"])), None)
            if item is None:
                raise self.not_found(f"process type ({update['type']})", "formation")
            if set(update) - {"type", "quantity"}:
                raise HttpError(422, "This emulator changes `quantity` only.", "invalid_params")
            if update.get("quantity", 0) < 0:
                raise HttpError(422, "Quantity must be zero or more.", "invalid_params")
            found.append((item, update))
        stamp = self.now()
        for item, update in found:
            if "quantity" in update:
                item.update(quantity=update["quantity"], updated_at=stamp)
        return [item for item, _update in found]

    def update_formation(self, req: Request) -> list:
        """Batch update (``ps:scale``): ``{"updates": [{"type", "quantity"}]}``; answers the whole formation."""
        body = self.write_body(req, "/apps/{app}/formation")
        self.scale(req, body["updates"])
        return self.data(req)["formation"]

    def update_process_type(self, req: Request) -> dict:
        body = self.write_body(req, "/apps/{app}/formation/{formation}")
        return self.scale(req, [{"type": req.params["formation"], **body}])[0]

    # -- pagination ------------------------------------------------------------------------------
    def page(self, req: Request, items: list, accepted: tuple, view: Optional[Callable]) -> Response:
        """Heroku ranges: sorted on a field, ``max`` items (200 by default, 1000 at most), 206 + Next-Range while more
        remain."""
        header = req.headers.get("range")
        rng = parse_range(header, accepted) if header else parse_range(f"{accepted[0]} ..", accepted)
        field = rng["field"]
        attr = RANGE_ALIASES.get(field, field)
        convert = int if field == "version" else str

        def key(item: dict):
            return convert(item[attr])

        ordered = sorted(items, key=key, reverse=rng["desc"])
        if rng["first"]:
            # the start bound, inclusive ("[" or none) or exclusive ("]"), then the inclusive end bound
            first = convert(rng["first"])
            ordered = [
                i
                for i in ordered
                if (key(i) < first if rng["desc"] else key(i) > first) or (key(i) == first and not rng["exclusive"])
            ]
        if rng["last"]:
            last = convert(rng["last"])
            ordered = [i for i in ordered if (key(i) >= last if rng["desc"] else key(i) <= last)]
        chunk = ordered[: rng["max"]]
        body = view(req, chunk) if view else chunk
        headers = {"Accept-Ranges": ", ".join(accepted)}
        if chunk:
            headers["Content-Range"] = f"{field} {key(chunk[0])}..{key(chunk[-1])}"
        if len(ordered) == len(chunk):
            return Response(200, body, headers)
        headers["Next-Range"] = f"{field} ]{key(chunk[-1])}..; max={rng['max']}" + (
            ", order=desc" if rng["desc"] else ""
        )
        return Response(206, body, headers)

    # -- Heroku's conventions around every request -------------------------------------------------
    @staticmethod
    def surface(path: str) -> str:
        if path.startswith("/git/"):
            return "git"
        return "scheduler" if path.startswith("/particleboard/") else "api"

    def authenticate(self, req: Request) -> Optional[Response]:
        surface = self.surface(req.path)
        auth = req.headers.get("authorization", "")
        if surface == "git":
            return (
                None
                if self.git_password(auth) == self.token
                else Response(
                    401,
                    raw=b"Unauthorized\n",
                    content_type="text/plain",
                    headers={"WWW-Authenticate": 'Basic realm="Heroku"'},
                )
            )
        if surface == "scheduler":
            return None if auth == f"Bearer {self.token}" else self.jsonapi_error(401, "Unauthorized")
        # the version is checked before the credentials (the references are silent on the order)
        if "3" not in ACCEPT.findall(req.headers.get("accept", "")):
            return self.error_response(HttpError(406, NOT_ACCEPTABLE))
        if auth != f"Bearer {self.token}":
            return self.error_response(HttpError(401, "Invalid credentials provided."))
        return None

    @staticmethod
    def git_password(auth: str) -> Optional[str]:
        """git.heroku.com takes any user name and the API key as password."""
        scheme, encoded = auth.partition(" ")[::2]
        if scheme.lower() != "basic":
            return None
        try:
            return base64.b64decode(encoded, validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return None

    def before(self, req: Request) -> Optional[Response]:
        if self.surface(req.path) == "scheduler" and not (req.method == "GET" and SCHEDULER_JOBS.match(req.path)):
            # another host: its unknown paths answer in its own (JSON:API) error shape, not the Platform API's
            return self.jsonapi_error(404, "Not Found")
        # the rate-limit endpoint itself is free (schema: rate-limit); other hosts have no bucket here
        if self.surface(req.path) != "api" or req.path == "/account/rate-limits":
            return None
        return None if self.bucket.take() else self.rate_limited_response(req)

    def rate_limited_response(self, req: Request) -> Response:
        return Response(429, dict(RATE_LIMITED), headers={"RateLimit-Remaining": "0"})

    def error_response(self, err: HttpError) -> Response:
        if err.message.startswith("No route for"):
            # the framework's 404 or 405: Heroku answers a wrong verb like an unknown path
            err = HttpError(404, NO_ROUTE)
        return Response(
            err.status,
            {"id": err.error_id or ERROR_IDS.get(err.status, "error"), "message": err.message, **(err.details or {})},
        )

    @staticmethod
    def jsonapi_error(status: int, title: str) -> Response:
        return Response(status, {"errors": [{"status": str(status), "title": title}]}, content_type=JSONAPI)

    def after(self, req: Request, resp: Response) -> None:
        """Rate-limit and request-id headers; every JSON answer checked against its contract (a violation: 500 +
        ``response_error``)."""
        surface = self.surface(req.path)
        if surface == "git":
            return
        entry = self.log[-1]
        if surface == "scheduler":
            errors = self.schema.check_scheduler_jobs(resp.body) if resp.status == 200 else []
        elif resp.status >= 400:
            errors = self.schema.check_error(resp.body)
        else:
            errors = self.schema.check_response(
                req.method, entry["route"].split(" ", 1)[1], resp.body, request_extras(req.headers)
            )
        if surface == "api":
            resp.headers.setdefault("RateLimit-Remaining", str(self.bucket.remaining))
            resp.headers["Request-Id"] = req.headers.get("request-id") or str(uuid.uuid4())
        if errors:
            entry["response_error"] = "; ".join(errors[:10])
            entry["status"] = resp.status = 500
            resp.body = {
                "id": "internal_server_error",
                "message": f"The emulator's answer breaks its contract: {entry['response_error']}",
            }
        if resp.body is not None:
            # serialised now, under the lock, so that a later write to the state cannot change what is sent
            resp.raw = json.dumps(resp.body, ensure_ascii=False).encode()

    # -- scheduler and Git ---------------------------------------------------------------------------
    def scheduler_jobs(self, req: Request) -> Response:
        # particleboard takes the app's uuid only (docs/emulators.md)
        app = next((a for a in self.state["apps"] if a["id"] == req.params["app_id"]), None)
        if app is None:
            return self.jsonapi_error(404, "Not Found")
        return Response(200, {"data": self.state["app_data"][app["id"]]["scheduler_jobs"]}, content_type=JSONAPI)

    def git_request(self, req: Request) -> Response:
        if not any(a["name"] == req.params["repo"] for a in self.state["apps"]):
            return Response(404, raw=f"No such app as {req.params['repo']}.\n".encode(), content_type="text/plain")
        return self.git.serve(req, req.params["repo"])

    def admin(self, req: Request) -> Optional[Response]:
        if req.path != "/_admin/rate-limit":
            return None
        if req.method == "POST":
            return Response(200, self.bucket.configure(**(req.json() or {})))
        return Response(200, self.bucket.describe())


def add_arguments(parser) -> None:
    parser.add_argument(
        "--fixture",
        default=os.path.join(FIXTURES, "demo.yml"),
        help="the account, a YAML fixture (default: the demo account)",
    )
    parser.add_argument("--rate-limit", type=int, default=4500, help="size of the request-token bucket")
    parser.add_argument("--rate-refill", type=float, default=4500, help="tokens added back per hour")


# a signal handler's signature
def exit_on_sigterm(signum, frame) -> None:  # pylint: disable=unused-argument
    sys.exit(0)


def build(args) -> HerokuEmulator:
    emulator = HerokuEmulator(
        args.fixture,
        rate_limit=args.rate_limit,
        rate_refill=args.rate_refill,
        token=args.token,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        faults=tuple(f for f in args.faults.split(",") if f),
        seed=args.seed,
    )
    if threading.current_thread() is threading.main_thread():
        # exit normally on SIGTERM, so that the temporary Git repositories are removed
        signal.signal(signal.SIGTERM, exit_on_sigterm)
    return emulator

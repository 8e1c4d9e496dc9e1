# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Northflank API contract: every (method, path, query, JSON body) must match an endpoint of the
official Northflank Python SDK (PyPI ``northflank==2.1.0``) and its request TypedDict, validated
strictly by pydantic v2 (unknown keys, wrong types and wrong enum values are errors).

The SDK carries no regexes or length limits, so ``check_docs_rules`` adds the ones from the API
reference (https://northflank.com/docs/v1/api) for the fields the collection generates. Endpoints the docs call
deprecated are refused unless ``allow_deprecated=True``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import typing
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional
from urllib.parse import parse_qsl, urlsplit

import typing_extensions as te
from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config

import northflank.endpoints as _eps
from northflank import _types as _T
from northflank.endpoint import ApiEndpoint

STRICT = ConfigDict(extra="forbid", strict=True)

# SDK modules (under northflank.endpoints) of the endpoints the docs call deprecated: the endpoints the API reference
# (https://northflank.com/docs/v1/api) marks deprecated, plus the job twins of the granular service endpoints.
_GRANULAR = ("deployment", "health_checks", "runtime_environment")
DEPRECATED_MODULES = frozenset(
    [f"{verb}.{kind}.{part}" for kind in ("service", "job") for verb in ("update", "get") for part in _GRANULAR]
    + [f"update.{kind}.{part}" for kind in ("service", "job") for part in ("build_arguments", "build_options", "build_source")]
    + ["update.service.ports", "get.service.ports", "scale.service", "scale.job", "scale.addon", "suspend.job",
       "delete.secret_link"]
    + [f"{verb}.job.{kind}" for verb in ("create", "put", "patch") for kind in ("cron", "manual")])


@dataclass
class Route:
    method: str            # "POST"
    template: str          # "/v1/projects/{projectId}/services/combined"
    regex: re.Pattern
    endpoint: type         # SDK endpoint class, e.g. CreateServiceCombinedEndpoint
    query_params: frozenset
    body_type: Any         # TypedDict class, typing.Union[...] of them, or None
    response_type: Any     # type of the `data` member of a 2xx response envelope
    deprecated: bool
    adapter: Optional[TypeAdapter] = field(default=None, repr=False)
    response_adapter: Optional[TypeAdapter] = field(default=None, repr=False)

    @property
    def body_name(self) -> Optional[str]:
        return None if self.body_type is None else _type_name(self.body_type)

    @property
    def plain_template(self) -> str:
        """The template without the team-scoped prefix, which keys the docs rules."""
        return self.template.replace("/v1/teams/{teamId}/", "/v1/", 1)


def _type_name(t: Any) -> str:
    if te.get_origin(t) is typing.Union:
        return " | ".join(_type_name(a) for a in te.get_args(t))
    return getattr(t, "__name__", repr(t))


def _template_regex(tpl: str) -> re.Pattern:
    parts = re.split(r"(\{[^}]+\})", tpl)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "/?$")


@lru_cache(maxsize=1)
def routes() -> tuple[Route, ...]:
    """Every (method, template) of the SDK, literal segments first (``/jobs/cron`` before ``/jobs/{jobId}``)."""
    # The generated TypedDicts carry no pydantic config and TypeAdapter refuses config= for TypedDicts, so
    # attach it to every class; nested types are shared between roots, hence all of them.
    for obj in vars(_T).values():
        if te.is_typeddict(obj):
            with_config(STRICT)(obj)
    out: list[Route] = []
    for info in pkgutil.walk_packages(_eps.__path__, _eps.__name__ + "."):
        mod = importlib.import_module(info.name)
        relative = info.name[len(_eps.__name__) + 1:].replace("import_.", "import.").removesuffix(".__init__")
        for cls in vars(mod).values():
            if not (inspect.isclass(cls) and issubclass(cls, ApiEndpoint) and cls.__module__ == mod.__name__):
                continue
            # Request and response types exist only as annotations of the generated call().
            hints = typing.get_type_hints(cls.call, globalns=vars(mod))
            body = hints.get("data") if cls.has_body else None
            resp = typing.get_args(hints["return"])[0]  # ApiCallResponse[X] -> X
            for tpl in cls.path_templates:  # the plain path and its /v1/teams/{teamId}/... twin
                out.append(Route(cls.method.upper(), tpl, _template_regex(tpl), cls, frozenset(cls.query_params),
                                 body, resp, relative in DEPRECATED_MODULES))
    out.sort(key=lambda r: (r.template.count("{"), -len(r.template)))
    return tuple(out)


def triples() -> list[tuple[str, str, Optional[str]]]:
    return [(r.method, r.template, r.body_name) for r in routes()]


def find(method: str, template: str) -> Route:
    """The route of an exact (method, template) pair, for start-up assertions."""
    for r in routes():
        if r.method == method.upper() and r.template == template:
            return r
    raise AssertionError(f"{method} {template}: not an endpoint of the Northflank SDK")


class NotAnEndpoint(AssertionError):
    """No SDK endpoint has this method and path."""


def match(method: str, path: str, allow_deprecated: bool = False) -> Route:
    path = urlsplit(path).path  # a full URL or a bare path
    cands = [r for r in routes() if r.regex.match(path)]
    for r in cands:
        if r.method == method.upper():
            if r.deprecated and not allow_deprecated:
                raise AssertionError(f"{method} {r.template}: deprecated endpoint ({r.endpoint.__name__}); "
                                     "use the type-agnostic or PATCH endpoint instead")
            return r
    raise NotAnEndpoint(f"{method} {path}: not a Northflank endpoint "
                        f"(this path exists for: {sorted({r.method for r in cands}) or 'none'})")


def check(method: str, url: str, body: Any = None, query: Optional[dict] = None, allow_deprecated: bool = False) -> Route:
    """Return the matching route; raise AssertionError naming the offending field(s) otherwise."""
    r = match(method, url, allow_deprecated)
    q = dict(query or {}) | dict(parse_qsl(urlsplit(url).query))
    unknown = set(q) - r.query_params
    if unknown:
        raise AssertionError(f"{method} {r.template}: unknown query params {sorted(unknown)}"
                             f" (allowed: {sorted(r.query_params) or 'none'})")
    if isinstance(body, (bytes, str)):  # a raw wire body, e.g. requests' PreparedRequest.body
        body = json.loads(body) if body else None
    if r.body_type is None:
        if body not in (None, {}):
            raise AssertionError(f"{method} {r.template} takes no JSON body")
        return r
    if r.adapter is None:
        r.adapter = TypeAdapter(r.body_type)
    try:
        r.adapter.validate_python({} if body is None else body)
    except ValidationError as e:
        raise AssertionError(f"{method} {r.template}: body does not match {r.body_name}: {explain(e)}") from None
    return r


# Defects of SDK 2.1.0 response types, patched out of the data before validation so the emulator can answer the
# truth: CreateJobResponse.jobType is Literal["cron"], yet manual jobs exist (GetJobResponse.jobType is manual|cron).
RESPONSE_DEFECTS = {"CreateJobResponse": lambda data: {**data, "jobType": "cron"} if data.get("jobType") == "manual" else data}


def check_response(method: str, url: str, payload: Any) -> None:
    """For the emulator: the ``data`` member of a 2xx envelope must match the SDK response type."""
    r = match(method, url, allow_deprecated=True)
    if r.response_adapter is None:
        r.response_adapter = TypeAdapter(r.response_type)
    data = payload["data"]
    fix = RESPONSE_DEFECTS.get(getattr(r.response_type, "__name__", ""))
    try:
        r.response_adapter.validate_python(fix(data) if fix and isinstance(data, dict) else data)
    except ValidationError as e:
        raise AssertionError(f"{method} {r.template}: response data does not match "
                             f"{_type_name(r.response_type)}: {explain(e)}") from None


# -- readable errors ----------------------------------------------------------------------------
# Pydantic reports a failed Union once per member, with the member's tag in `loc`: a TypedDict name,
# or a tag such as "str", "none", "literal['latest']", "list[...]". At every union we keep only the
# member with the fewest errors, which is the variant the sender most likely meant.
_TAG = re.compile(r"^(none|str|int|float|bool|[a-z-]+\[.*\])$")


def _is_tag(seg: Any) -> bool:
    return isinstance(seg, str) and (te.is_typeddict(getattr(_T, seg, None)) or bool(_TAG.match(seg)))


def _closest(errors: list[dict], depth: int = 0) -> tuple[list[dict], list[str]]:
    """The errors left after keeping only the best member of every union, and the names of the chosen members."""
    done = [e for e in errors if len(e["loc"]) <= depth]
    groups: dict = {}
    for e in errors:
        if len(e["loc"]) > depth:
            groups.setdefault(e["loc"][depth], []).append(e)
    results = {key: _closest(group, depth + 1) for key, group in groups.items()}
    if groups and all(_is_tag(key) for key in groups):  # a union; a member's count is taken after its own unions collapse
        best = min(results, key=lambda key: len(results[key][0]))  # ties: the first member, as declared
        return done + results[best][0], [best] + results[best][1]
    return done + [e for r in results.values() for e in r[0]], [c for r in results.values() for c in r[1]]


def _dotted(loc: tuple) -> str:
    out = ""
    for seg in loc:
        if _is_tag(seg):
            continue
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
    return out or "(body)"


def explain(e: ValidationError) -> str:
    errors, chosen = _closest(e.errors(include_url=False, include_input=False))
    variants = [c for c in chosen if te.is_typeddict(getattr(_T, c, None))]
    prefix = f"closest variant {', '.join(variants)}; " if variants else ""
    return prefix + "; ".join(f"{_dotted(err['loc'])}: {err['msg']} [{err['type']}]" for err in errors)


# -- docs-only rules ----------------------------------------------------------------------------
RESOURCE_NAME = r"^[a-zA-Z]((-|\s)?[a-zA-Z0-9]+((-|\s)[a-zA-Z0-9]+)*)?$"  # project, service, job, addon, volume, pipeline
GROUP_NAME = r"^[a-zA-Z0-9]+((-|\s)[a-zA-Z0-9]+)*$"                     # secret group, template, workflow
PORT_NAME = r"^[a-zA-Z](-?[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*)?$"
BACKUP_NAME = r"^[a-zA-Z0-9]+((-|\s|\/|:)[a-zA-Z0-9]+)*$"
DESCRIPTION = r"^[a-zA-Z0-9.,?\s\\/'\"()[\];`%^&*\-_:!]+$"
SLUG = r"^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$"                                 # tags, stageId, plan IDs

_COMMON = [("description", DESCRIPTION, 0, 200), ("tags[]", SLUG, 3, 100), ("stageId", SLUG, 3, 100),
           ("billing.deploymentPlan", SLUG, 3, 100), ("billing.buildPlan", SLUG, 3, 100)]
_SERVICE = [("ports[].name", PORT_NAME, 1, 8)] + _COMMON
_P = "/v1/projects/{projectId}"


def _create_and_put(path: str, name_rx: str, lo: int, hi: int, extra: list) -> dict:
    return {(m, path): [("name", name_rx, lo, hi)] + extra for m in ("POST", "PUT")}


# (method, plain template) -> [(dotted path, regex, min_len, max_len)]; "ports[].name" walks lists
RULES: dict = {
    **_create_and_put("/v1/projects", RESOURCE_NAME, 3, 39, [("description", DESCRIPTION, 0, 200)]),
    ("PATCH", f"{_P}"): [("description", DESCRIPTION, 0, 200)],
    **{k: v for kind in ("combined", "deployment", "build")
       for k, v in _create_and_put(f"{_P}/services/{kind}", RESOURCE_NAME, 3, 54, _SERVICE).items()},
    **{("PATCH", f"{_P}/services/{kind}/{{serviceId}}"): _SERVICE for kind in ("combined", "deployment", "build")},
    **_create_and_put(f"{_P}/jobs", RESOURCE_NAME, 3, 52, _COMMON),
    ("PATCH", f"{_P}/jobs/{{jobId}}"): _COMMON,
    **_create_and_put(f"{_P}/addons", RESOURCE_NAME, 3, 39, _COMMON),
    **_create_and_put(f"{_P}/secrets", GROUP_NAME, 3, 100, _COMMON),
    ("POST", f"{_P}/volumes"): [("name", RESOURCE_NAME, 3, 39), ("tags[]", SLUG, 3, 100)],
    ("POST", f"{_P}/addons/{{addonId}}/import"): [("name", BACKUP_NAME, 3, 39)],
    ("POST", f"{_P}/addons/{{addonId}}/backups"): [("name", BACKUP_NAME, 3, 39)],
    ("POST", "/v1/templates"): [("name", GROUP_NAME, 3, 100), ("description", DESCRIPTION, 0, 200)],
    ("POST", f"{_P}/pipelines/{{pipelineId}}/release-flows/{{stage}}/runs"):
        [("name", RESOURCE_NAME, 3, 39), ("description", DESCRIPTION, 0, 200)],
}
# The Pipeline template node (https://northflank.com/docs/v1/api/templates/create-template, docs/assumptions.md):
# the name rule is the intersection of the node's and the GET's.
PIPELINE_NODE_RULES = [("name", RESOURCE_NAME, 3, 39), ("description", DESCRIPTION, 0, 200),
                       ("stages[].nfObjects[].id", PORT_NAME, 3, 54)]


def _values(obj: Any, parts: list):
    if not parts:
        yield obj
        return
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        items = obj.get(head[:-2]) if isinstance(obj, dict) else None
        for item in items if isinstance(items, list) else []:
            yield from _values(item, rest)
    elif isinstance(obj, dict) and head in obj:
        yield from _values(obj[head], rest)


def check_docs_rules(route: Route, body: Any) -> None:
    """Raise AssertionError naming the field when a value breaks a documented pattern or length."""
    check_rules(RULES.get((route.method, route.plain_template), []), body, f"{route.method} {route.template}")


def check_rules(rules: list, body: Any, where: str) -> None:
    for path, rx, lo, hi in rules:
        for v in _values(body, path.split(".")):
            if v is None and path == "stageId":  # PATCH may clear the stage with null
                continue
            if not (isinstance(v, str) and re.match(rx, v) and lo <= len(v) <= hi):
                raise AssertionError(f"{where}: {path}={v!r} violates the documented rule {rx} with length {lo}-{hi}")

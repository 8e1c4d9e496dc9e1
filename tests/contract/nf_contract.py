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
    + [
        f"update.{kind}.{part}"
        for kind in ("service", "job")
        for part in ("build_arguments", "build_options", "build_source")
    ]
    + [
        "update.service.ports",
        "get.service.ports",
        "scale.service",
        "scale.job",
        "scale.addon",
        "suspend.job",
        "delete.secret_link",
    ]
    + [f"{verb}.job.{kind}" for verb in ("create", "put", "patch") for kind in ("cron", "manual")]
)


@dataclass
class Route:
    method: str  # "POST"
    template: str  # "/v1/projects/{projectId}/services/combined"
    regex: re.Pattern
    endpoint: type  # SDK endpoint class, e.g. CreateServiceCombinedEndpoint
    query_params: frozenset
    body_type: Any  # TypedDict class, typing.Union[...] of them, or None
    response_type: Any  # type of the `data` member of a 2xx response envelope
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
    _close_job_deployment()
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
                out.append(
                    Route(
                        cls.method.upper(),
                        tpl,
                        _template_regex(tpl),
                        cls,
                        frozenset(cls.query_params),
                        body,
                        resp,
                        relative in DEPRECATED_MODULES,
                    )
                )
    out.sort(key=lambda r: (r.template.count("{"), -len(r.template)))
    return tuple(out)


def _close_job_deployment() -> None:
    """SDK 2.1.0 types a job's ``deployment`` as vcs | external | internal | ``Dict[str, Any]``; the last member lets
    any key through, so a typo (``{"interal": …}``) passes and the job cannot be read back. create-job documents a job
    without a deployment source as one with only the fields the three variants share (buildpack, docker, storage…):
    that is what the open member is replaced with here."""
    variants = (
        _T.CreateJobRequestVcsDeployment,
        _T.CreateJobRequestExternalDeployment,
        _T.CreateJobRequestInternalDeployment,
    )
    hints = [typing.get_type_hints(v, globalns=vars(_T), include_extras=True) for v in variants]
    shared = {k: t for k, t in hints[0].items() if all(k in h for h in hints[1:])}
    no_source = te.TypedDict("CreateJobRequestNoSourceDeployment", shared)  # every shared field is NotRequired already
    with_config(STRICT)(no_source)
    setattr(_T, no_source.__name__, no_source)  # so that readable errors know it for a union member
    closed = te.NotRequired[typing.Union[(*variants, no_source)]]
    for cls in (_T.CreateJobRequest, _T.CreateJobCronRequest, _T.CreateJobManualRequest):
        cls.__annotations__["deployment"] = closed


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
                raise AssertionError(
                    f"{method} {r.template}: deprecated endpoint ({r.endpoint.__name__}); "
                    "use the type-agnostic or PATCH endpoint instead"
                )
            return r
    raise NotAnEndpoint(
        f"{method} {path}: not a Northflank endpoint "
        f"(this path exists for: {sorted({r.method for r in cands}) or 'none'})"
    )


def check(
    method: str, url: str, body: Any = None, query: Optional[dict] = None, allow_deprecated: bool = False
) -> Route:
    """Return the matching route; raise AssertionError naming the offending field(s) otherwise."""
    r = match(method, url, allow_deprecated)
    q = dict(query or {}) | dict(parse_qsl(urlsplit(url).query))
    unknown = set(q) - r.query_params
    if unknown:
        raise AssertionError(
            f"{method} {r.template}: unknown query params {sorted(unknown)}"
            f" (allowed: {sorted(r.query_params) or 'none'})"
        )
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
RESPONSE_DEFECTS = {
    "CreateJobResponse": lambda data: {**data, "jobType": "cron"} if data.get("jobType") == "manual" else data
}


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
        raise AssertionError(
            f"{method} {r.template}: response data does not match {_type_name(r.response_type)}: {explain(e)}"
        ) from None


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
    if groups and all(
        _is_tag(key) for key in groups
    ):  # a union; a member's count is taken after its own unions collapse
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
RESOURCE_NAME = (
    r"^[a-zA-Z]((-|\s)?[a-zA-Z0-9]+((-|\s)[a-zA-Z0-9]+)*)?$"  # project, service, job, addon, volume, pipeline
)
GROUP_NAME = r"^[a-zA-Z0-9]+((-|\s)[a-zA-Z0-9]+)*$"  # secret group, template, workflow
PORT_NAME = r"^[a-zA-Z](-?[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*)?$"
BACKUP_NAME = r"^[a-zA-Z0-9]+((-|\s|\/|:)[a-zA-Z0-9]+)*$"
DESCRIPTION = r"^[a-zA-Z0-9.,?\s\\/'\"()[\];`%^&*\-_:!]+$"
SLUG = r"^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$"  # tags, stageId, plan IDs

_COMMON = [
    ("description", DESCRIPTION, 0, 200),
    ("tags[]", SLUG, 3, 100),
    ("stageId", SLUG, 3, 100),
    ("billing.deploymentPlan", SLUG, 3, 100),
    ("billing.buildPlan", SLUG, 3, 100),
]
_SERVICE = [("ports[].name", PORT_NAME, 1, 8)] + _COMMON
_P = "/v1/projects/{projectId}"


def _create_and_put(path: str, name_rx: str, lo: int, hi: int, extra: list) -> dict:
    return {(m, path): [("name", name_rx, lo, hi)] + extra for m in ("POST", "PUT")}


# (method, plain template) -> [(dotted path, regex, min_len, max_len)]; "ports[].name" walks lists
RULES: dict = {
    **_create_and_put("/v1/projects", RESOURCE_NAME, 3, 39, [("description", DESCRIPTION, 0, 200)]),
    ("PATCH", f"{_P}"): [("description", DESCRIPTION, 0, 200)],
    **{
        k: v
        for kind in ("combined", "deployment", "build")
        for k, v in _create_and_put(f"{_P}/services/{kind}", RESOURCE_NAME, 3, 54, _SERVICE).items()
    },
    **{("PATCH", f"{_P}/services/{kind}/{{serviceId}}"): _SERVICE for kind in ("combined", "deployment", "build")},
    **_create_and_put(f"{_P}/jobs", RESOURCE_NAME, 3, 52, _COMMON),
    ("PATCH", f"{_P}/jobs/{{jobId}}"): _COMMON,
    **_create_and_put(f"{_P}/addons", RESOURCE_NAME, 3, 39, _COMMON),
    **_create_and_put(f"{_P}/secrets", GROUP_NAME, 3, 100, _COMMON),
    ("POST", f"{_P}/volumes"): [("name", RESOURCE_NAME, 3, 39), ("tags[]", SLUG, 3, 100)],
    ("POST", f"{_P}/addons/{{addonId}}/import"): [("name", BACKUP_NAME, 3, 39)],
    ("POST", f"{_P}/addons/{{addonId}}/backups"): [("name", BACKUP_NAME, 3, 39)],
    ("POST", "/v1/templates"): [("name", GROUP_NAME, 3, 100), ("description", DESCRIPTION, 0, 200)],
    ("POST", f"{_P}/pipelines/{{pipelineId}}/release-flows/{{stage}}/runs"): [
        ("name", RESOURCE_NAME, 3, 39),
        ("description", DESCRIPTION, 0, 200),
    ],
}
SUBDOMAIN = (
    r"^\*|^@$|^([0-9a-z]([0-9a-z\-]*[0-9a-z])?\.)*[0-9a-z]([0-9a-z\-]*[0-9a-z])?$"  # add-subdomain; lower case only
)
RULES.update(
    {
        ("POST", "/v1/domains/{domain}/subdomains"): [("subdomain", SUBDOMAIN, 1, 253)],
        ("PUT", "/v1/domains/{domain}/subdomains"): [("name", SUBDOMAIN, 1, 253)],
    }
)
# The Pipeline template node (https://northflank.com/docs/v1/api/templates/create-template, docs/assumptions.md):
# the name rule is the intersection of the node's and the GET's.
PIPELINE_NODE_RULES = [
    ("name", RESOURCE_NAME, 3, 39),
    ("description", DESCRIPTION, 0, 200),
    ("stages[].nfObjects[].id", PORT_NAME, 3, 54),
]


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
    """Raise AssertionError naming the field when a value breaks a documented pattern, length, bound or structure."""
    where = f"{route.method} {route.template}"
    check_rules(RULES.get((route.method, route.plain_template), []), body, where)
    if isinstance(body, dict):
        for check_body in BODY_CHECKS.get((route.method, route.plain_template), ()):
            check_body(body, where)


def check_rules(rules: list, body: Any, where: str) -> None:
    for path, rx, lo, hi in rules:
        for v in _values(body, path.split(".")):
            if v is None and path == "stageId":  # PATCH may clear the stage with null
                continue
            if not (isinstance(v, str) and re.match(rx, v) and lo <= len(v) <= hi):
                raise AssertionError(f"{where}: {path}={v!r} violates the documented rule {rx} with length {lo}-{hi}")


# -- documented rules a pattern cannot express --------------------------------------------------
def _fail(where: str, path: str, message: str) -> None:
    raise AssertionError(f"{where}: {path}{'' if message.startswith('=') else ' '}{message}")


def check_bounds(body: dict, where: str, path: str, lo: int, hi: int) -> None:
    """An integer field within its documented bounds (secret ``priority`` 0-100)."""
    for value in _values(body, path.split(".")):
        if isinstance(value, int) and not lo <= value <= hi:
            _fail(where, path, f"={value} is outside the documented range {lo}-{hi}")


def check_ports(body: dict, where: str) -> None:
    """``ports[]`` (create-deployment-service): numbers 1-65535; names and internal ports unique within the service;
    only HTTP and HTTP/2 ports may be public (TCP and UDP ports are private to the project)."""
    ports = body.get("ports")
    if not isinstance(ports, list):
        return
    names: dict = {}
    numbers: dict = {}
    for i, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        number, name = port.get("internalPort"), port.get("name")
        if isinstance(number, int) and not 1 <= number <= 65535:
            _fail(where, f"ports[{i}].internalPort", f"={number} is not a port number (1-65535)")
        if name in names:
            _fail(
                where,
                f"ports[{i}].name",
                f"={name!r} repeats ports[{names[name]}].name: port names are unique in a service",
            )
        if number in numbers:
            _fail(where, f"ports[{i}].internalPort", f"={number} repeats ports[{numbers[number]}].internalPort")
        names.setdefault(name, i)
        numbers.setdefault(number, i)
        if port.get("public") and port.get("protocol") not in ("HTTP", "HTTP/2"):
            _fail(
                where,
                f"ports[{i}].public",
                f"is true on a {port.get('protocol')} port: only HTTP and HTTP/2 ports can be public",
            )


def check_health_checks(body: dict, where: str) -> None:
    """``healthChecks[]``: an HTTP probe needs ``path``, a TCP or HTTP one a ``port`` in 1-65535, a CMD one ``cmd``."""
    for i, probe in enumerate(body.get("healthChecks") or []):
        if not isinstance(probe, dict):
            continue
        protocol = probe.get("protocol")
        if protocol == "HTTP" and not probe.get("path"):
            _fail(where, f"healthChecks[{i}].path", "is missing: an HTTP probe needs the path it requests")
        if protocol == "CMD" and not probe.get("cmd"):
            _fail(where, f"healthChecks[{i}].cmd", "is missing: a CMD probe needs the command it runs")
        port = probe.get("port")
        if isinstance(port, int) and not 1 <= port <= 65535:
            _fail(where, f"healthChecks[{i}].port", f"={port} is not a port number (1-65535)")


_CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
    ("day of week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)
CRON_MACROS = frozenset(("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"))


def cron_error(expression: str) -> Optional[str]:
    """Why ``expression`` is no cron schedule (five fields, Kubernetes CronJob syntax), or None."""
    if expression.strip().lower() in CRON_MACROS:
        return None
    fields = expression.split()
    if len(fields) != 5:
        return f"has {len(fields)} fields, a cron schedule has 5 (minute hour day-of-month month day-of-week)"
    for text, (label, lo, hi, names) in zip(fields, _CRON_FIELDS):
        for item in text.split(","):
            base, _slash, step = item.partition("/")
            if _slash and not (step.isdigit() and int(step) >= 1):
                return f"has a bad step {item!r} in the {label} field"
            if base == "*":
                continue
            bounds = base.split("-")
            if len(bounds) > 2:
                return f"has a bad range {item!r} in the {label} field"
            values = []
            for b in bounds:
                if b.upper() in names:
                    values.append(names.index(b.upper()) + lo)
                elif b.isdigit() and lo <= int(b) <= hi:
                    values.append(int(b))
                else:
                    return f"has {b!r} in the {label} field ({lo}-{hi}{', or names' if names else ''})"
            if len(values) == 2 and values[0] > values[1]:
                return f"has a backwards range {item!r} in the {label} field"
    return None


def check_job_settings(body: dict, where: str) -> None:
    """``settings.cron.schedule``: a cron expression (create-job: "a cron timer that determines when the job runs")."""
    schedule = (
        ((body.get("settings") or {}).get("cron") or {}).get("schedule")
        if isinstance(body.get("settings"), dict)
        else None
    )
    if isinstance(schedule, str):
        problem = cron_error(schedule)
        if problem:
            _fail(where, "settings.cron.schedule", f"={schedule!r} {problem}")


def check_addon_version(body: dict, where: str) -> None:
    """create-addon: ``version`` is ``latest``, a major or major.minor followed by ``-latest`` (``14-latest``,
    ``14.5-latest``), or an exact version. Whether the type has it is the catalogue's business."""
    version = body.get("version")
    if isinstance(version, str) and not re.match(r"^(latest|\d+(\.\d+)?-latest|\d+(\.\d+){0,2})$", version):
        _fail(
            where, "version", f"={version!r} is not latest, <major>-latest, <major>.<minor>-latest or a version number"
        )


# Release flows (configure-a-release-flow; get-release-flow lists the node kinds a release-flow tree may hold).
FLOW_KINDS = frozenset(
    (
        "Workflow",
        "RolloutStrategy",
        "AddonBackup",
        "AddonImport",
        "Build",
        "JobRun",
        "LoopWorkflow",
        "Action",
        "Condition",
        "Release",
        "Message",
        "LoopData",
        "SecretInheritance",
        "Approval",
        "RunTemplate",
    )
)
NODE_CONDITIONS = {
    "Release": "running",
    "Build": "success",
    "JobRun": "success",
    "AddonBackup": "success",
    "AddonImport": "success",
    "RunTemplate": "success",
}
NODE_KEYS = frozenset(("kind", "spec", "ref", "skipNodeExecution", "condition", "timeoutDuration", "updateMode"))
REFERENCE = re.compile(r".*\$\{.*\}.*")


def _is_ref(value: Any) -> bool:
    return isinstance(value, str) and bool(REFERENCE.match(value))


def _need(spec: dict, where: str, node: str, *fields: str) -> None:
    for name in fields:
        value = spec.get(name)
        if value in (None, "", [], {}):
            _fail(where, f"{node}.spec.{name}", "is required")


def check_flow_node(node: Any, where: str, path: str) -> None:
    """One node of a release-flow tree, and its children: its kind is one a release flow may hold, and it has the
    fields its kind requires. ``${…}`` values are taken as they come: they resolve when the flow runs."""
    if not isinstance(node, dict):
        _fail(where, path, "is not a node (an object with kind and spec)")
    kind = node.get("kind")
    label = f"{path} ({kind})" if isinstance(kind, str) else path
    if kind not in FLOW_KINDS:
        _fail(where, f"{path}.kind", f"={kind!r} is not a release-flow node kind ({', '.join(sorted(FLOW_KINDS))})")
    unknown = sorted(set(node) - NODE_KEYS - {"response", "settings"})
    if unknown:
        _fail(where, label, f"has unknown fields {unknown}")
    spec = node.get("spec")
    if not isinstance(spec, dict):
        _fail(where, f"{label}.spec", "is required (an object)")
    if "condition" in node and node["condition"] != NODE_CONDITIONS.get(kind):
        allowed = NODE_CONDITIONS.get(kind)
        _fail(
            where,
            f"{label}.condition",
            f"={node['condition']!r}: "
            + (f"a {kind} node waits for {allowed!r}" if allowed else f"a {kind} node takes none"),
        )
    if "timeoutDuration" in node:
        value = node["timeoutDuration"]
        if kind != "Release":
            _fail(where, f"{label}.timeoutDuration", "is for Release nodes only")
        if not (_is_ref(value) or (isinstance(value, int) and 30 <= value <= 14400)):
            _fail(where, f"{label}.timeoutDuration", f"={value!r} must be 30-14400 seconds")
    skip = node.get("skipNodeExecution")
    if skip is not None and skip not in ("true", "false") and not _is_ref(skip):
        _fail(where, f"{label}.skipNodeExecution", f'={skip!r} must be "true", "false" or a ${{…}} reference')
    if kind in ("Workflow", "LoopWorkflow"):
        if kind == "Workflow" and spec.get("type") not in ("sequential", "parallel"):
            _fail(where, f"{label}.spec.type", f"={spec.get('type')!r} must be sequential or parallel")
        steps = spec.get("steps", [])
        if not isinstance(steps, list):
            _fail(where, f"{label}.spec.steps", "must be a list of nodes")
        for i, step in enumerate(steps):
            check_flow_node(step, where, f"{path}.spec.steps[{i}]")
    elif kind == "Release":
        check_release_node(spec, where, label)
    elif kind == "JobRun":
        _need(spec, where, label, "jobId")
    elif kind == "Build":
        _need(spec, where, label, "id", "type")
        if spec["type"] not in ("service", "job") and not _is_ref(spec["type"]):
            _fail(where, f"{label}.spec.type", f"={spec['type']!r} must be service or job")
    elif kind in ("AddonBackup", "AddonImport"):
        _need(spec, where, label, "addonId")


def check_release_node(spec: dict, where: str, label: str) -> None:
    """A ``Release`` node: ``type`` build / deployment / registry, the origin that type takes, and a target."""
    release_type = spec.get("type")
    if release_type not in ("build", "deployment", "registry"):
        _fail(where, f"{label}.spec.type", f"={release_type!r} must be build, deployment or registry")
    origin, target = spec.get("origin"), spec.get("target")
    if not isinstance(origin, dict):
        _fail(where, f"{label}.spec.origin", "is required (an object)")
    required = {"build": (), "deployment": ("id", "type"), "registry": ("imagePath",)}[release_type]
    allowed = {
        "build": ("id", "branch", "build"),
        "deployment": ("id", "type"),
        "registry": ("imagePath", "credentials"),
    }[release_type]
    if not origin:
        _fail(where, f"{label}.spec.origin", f"is empty: a {release_type} release needs {' and '.join(allowed)}")
    for name in required:
        if origin.get(name) in (None, ""):
            _fail(where, f"{label}.spec.origin.{name}", f"is required for a {release_type} release")
    unknown = sorted(set(origin) - set(allowed))
    if unknown:
        _fail(
            where,
            f"{label}.spec.origin",
            f"has fields {unknown} that a {release_type} release does not take (it takes {list(allowed)})",
        )
    if release_type == "deployment" and origin["type"] not in ("service", "job") and not _is_ref(origin["type"]):
        _fail(where, f"{label}.spec.origin.type", f"={origin['type']!r} must be service or job")
    if not isinstance(target, dict) or not target.get("id"):
        _fail(where, f"{label}.spec.target.id", "is required: the service or job the release deploys to")
    unknown = sorted(set(target) - {"id", "type"})
    if unknown:
        _fail(where, f"{label}.spec.target", f"has unknown fields {unknown}")
    if "type" in target and target["type"] not in ("service", "job") and not _is_ref(target["type"]):
        _fail(where, f"{label}.spec.target.type", f"={target['type']!r} must be service or job")


def check_release_flow(body: dict, where: str, path: str = "") -> None:
    """A release-flow document (update-release-flow, or a Pipeline node's ``stages[].releaseFlow.spec``):
    ``apiVersion`` v1.2, and a tree rooted in a Workflow node."""
    prefix = f"{path}." if path else ""
    if body.get("apiVersion") != "v1.2":
        _fail(where, f"{prefix}apiVersion", f"={body.get('apiVersion')!r} must be 'v1.2'")
    root = body.get("spec")
    if not isinstance(root, dict) or root.get("kind") != "Workflow":
        _fail(where, f"{prefix}spec", "must be a Workflow node: a release flow's tree has a Workflow at its root")
    check_flow_node(root, where, f"{prefix}spec")


def check_pipeline_node(spec: dict, where: str) -> None:
    """The Pipeline template node (create-template): the documented name rules, stage names, member types, and the
    release flow of each stage."""
    check_rules(PIPELINE_NODE_RULES, spec, where)
    for i, stage in enumerate(spec.get("stages") or []):
        if not isinstance(stage, dict):
            _fail(where, f"stages[{i}]", "is not an object")
        if stage.get("name") not in ("Development", "Staging", "Production"):
            _fail(where, f"stages[{i}].name", f"={stage.get('name')!r} must be Development, Staging or Production")
        for j, obj in enumerate(stage.get("nfObjects") or []):
            if not isinstance(obj, dict) or obj.get("type") not in ("service", "job", "addon"):
                kind = obj.get("type") if isinstance(obj, dict) else obj
                _fail(where, f"stages[{i}].nfObjects[{j}].type", f"={kind!r} must be service, job or addon")
            if not obj.get("id"):
                _fail(where, f"stages[{i}].nfObjects[{j}].id", "is required")
        flow = stage.get("releaseFlow")
        if flow is not None:
            if (
                not isinstance(flow, dict)
                or flow.get("kind") != "ReleaseFlow"
                or not isinstance(flow.get("spec"), dict)
            ):
                _fail(where, f"stages[{i}].releaseFlow", 'must be {"kind": "ReleaseFlow", "spec": {…}}')
            check_release_flow(flow["spec"], where, f"stages[{i}].releaseFlow.spec")


_SERVICE_CHECKS = (check_ports, check_health_checks)
_JOB_CHECKS = (check_health_checks, check_job_settings)
_SECRET_CHECKS = (lambda body, where: check_bounds(body, where, "priority", 0, 100),)
# (method, plain template) -> checks(body, where), each raising AssertionError naming the field
BODY_CHECKS: dict = {
    **{
        (m, f"{_P}/services/{kind}"): _SERVICE_CHECKS
        for kind in ("combined", "deployment", "build")
        for m in ("POST", "PUT")
    },
    **{
        ("PATCH", f"{_P}/services/{kind}/{{serviceId}}"): _SERVICE_CHECKS
        for kind in ("combined", "deployment", "build")
    },
    **{(m, f"{_P}/jobs"): _JOB_CHECKS for m in ("POST", "PUT")},
    ("PATCH", f"{_P}/jobs/{{jobId}}"): _JOB_CHECKS,
    **{(m, f"{_P}/secrets"): _SECRET_CHECKS for m in ("POST", "PUT")},
    **{(m, f"{_P}/secrets/{{secretId}}"): _SECRET_CHECKS for m in ("POST", "PATCH")},
    **{(m, f"{_P}/addons"): (check_addon_version,) for m in ("POST", "PUT")},
    ("POST", f"{_P}/pipelines/{{pipelineId}}/release-flows/{{stage}}"): (check_release_flow,),
}

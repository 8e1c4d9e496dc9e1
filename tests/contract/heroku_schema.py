"""Heroku Platform API contract: every response body must validate against Heroku's published JSON
hyper-schema (``tests/contract/schemas/heroku-platform-api-v3.json``, the ``version=3`` variant; its provenance and
licence are in ``tests/contract/schemas/README.md``; another copy can be given with ``HEROKU_SCHEMA``).

A route such as ``GET /apps/{app}/domains/{domain}`` is matched to the schema link with the same href
shape (``/apps/{(#/definitions/app/definitions/identity)}/domains/{(...)}``) and the body is checked
with jsonschema (draft 4) against the link's ``targetSchema``, or the link's definition when the
link has none. Two conventions of Heroku's schema tooling (prmd) that jsonschema does not know are
applied first:

- ``strictProperties: true``: every listed property is required and no other property is allowed;
- formats: ``uuid``, ``email`` and ``date-time`` are checked. ``uri`` is not: the schema itself puts
  it on bare hostnames (``domain.hostname``).

The schema cannot express the shapes that request headers select (as the Heroku CLI sends them; see
``docs/emulators.md``), so those are modelled here as *extras* (see ``EXTRAS``): e.g. ``Accept-Inclusion: config_vars``
adds the attachment's ``config_vars``, typed with the schema's own definitions. Error bodies have no schema
definition; ``ERROR_SCHEMA`` follows https://devcenter.heroku.com/articles/platform-api-reference#errors.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable, Optional
from urllib.parse import unquote

import jsonschema

SCHEMA_PATH = os.environ.get(
    "HEROKU_SCHEMA", os.path.join(os.path.dirname(__file__), "schemas", "heroku-platform-api-v3.json")
)

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
PLACEHOLDER = re.compile(r"\{([^}]*)\}")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["id", "message"],
    "properties": {
        "id": {"type": "string", "pattern": r"^[a-z_]+$"},
        "message": {"type": "string"},
        "url": {"type": "string"},
        "resource": {"type": "string"},
    },
    "additionalProperties": False,
}

# Heroku Scheduler's Dashboard API (particleboard) is not in the Platform API schema: its job list as
# docs/emulators.md describes it (JSON:API; every 10 min at 0, hourly at a multiple of 10, daily at a multiple of 30
# minutes).
SCHEDULER_JOBS_SCHEMA = {
    "type": "object",
    "required": ["data"],
    "additionalProperties": False,
    "properties": {
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "type", "attributes"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": r"^\d+$"},
                    "type": {"enum": ["jobs"]},
                    "attributes": {
                        "type": "object",
                        "required": ["command", "dyno-size", "every", "at", "ran-at", "created-at"],
                        "additionalProperties": False,
                        "properties": {
                            "command": {"type": "string"},
                            "dyno-size": {"type": "string"},
                            "every": {"enum": [10, 60, 1440]},
                            "at": {"type": "integer", "minimum": 0, "maximum": 1410},
                            "ran-at": {"type": ["string", "null"], "format": "date-time"},
                            "created-at": {"type": "string", "format": "date-time"},
                        },
                    },
                },
            },
        }
    },
}

# Header-selected shapes: token -> (definition, dotted property path, schema of the added/replaced property).
EXTRAS = {
    # Accept-Inclusion on attachments (CLI src/lib/addons/resolve.ts): the config var names this attachment sets.
    "config_vars": ("add-on-attachment", "config_vars", {"$ref": "#/definitions/add-on/definitions/config_vars"}),
    "addon:plan": ("add-on-attachment", "addon.plan", {"$ref": "#/definitions/add-on/definitions/plan"}),
    # Accept-Expansion on add-ons (CLI src/commands/addons/index.ts): full objects instead of {id, name}.
    "addon_service": ("add-on", "addon_service", {"$ref": "#/definitions/add-on-service"}),
    "plan": ("add-on", "plan", {"$ref": "#/definitions/plan"}),
}


def header_tokens(value: Optional[str]) -> frozenset:
    """``addon:plan, config_vars`` -> {"addon:plan", "config_vars"}."""
    return frozenset(t.strip() for t in (value or "").split(",") if t.strip())


def request_extras(headers: dict) -> frozenset:
    """The extras a request selects with ``Accept-Inclusion`` / ``Accept-Expansion`` (header names lower-cased)."""
    inclusion = header_tokens(headers.get("accept-inclusion")) & {"config_vars", "addon:plan"}
    expansion = header_tokens(headers.get("accept-expansion")) & {"addon_service", "plan"}
    return inclusion | expansion


def shape(href: str) -> str:
    """``/apps/{app}/domains/{domain}`` and the schema's encoded hrefs -> ``/apps/{}/domains/{}``."""
    return PLACEHOLDER.sub("{}", unquote(href))


@dataclass(frozen=True)
class Placeholder:
    """What one path parameter accepts: object fields (``id``, ``name``...) and literal values (``~``)."""

    fields: tuple
    literals: tuple


@dataclass(frozen=True)
class Link:
    target: dict
    request: Optional[dict]
    ranges: tuple
    placeholders: tuple


def resolve(root: dict, ref: str) -> Any:
    """The node a local ``$ref`` (``#/definitions/app/definitions/id``) points to."""
    node = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _strict(node: Any) -> None:
    """prmd's ``strictProperties: true`` as plain JSON schema, in place, everywhere."""
    if isinstance(node, dict):
        if node.get("strictProperties") is True and "properties" in node:
            node["required"] = sorted(set(node.get("required", ())) | set(node["properties"]))
            node["additionalProperties"] = False
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)


def _inline(node: Any, root: dict, memo: dict, stack: tuple = ()) -> Any:
    """``node`` with each ``$ref`` it validates with replaced by what it points to (draft 4 ignores a $ref's siblings):
    validation runs about three times faster without reference lookups. Only the keywords that hold subschemas are
    followed (the schema has a dangling $ref in a non-standard ``identity``); a $ref met again inside its own
    expansion stays a $ref."""
    if isinstance(node, list):
        return [_inline(v, root, memo, stack) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if ref is not None:
        if ref in stack:
            return node
        if ref not in memo:
            memo[ref] = _inline(resolve(root, ref), root, memo, (*stack, ref))
        return memo[ref]
    out = dict(node)
    for key in ("properties", "patternProperties", "dependencies"):
        if isinstance(node.get(key), dict):
            out[key] = {name: _inline(v, root, memo, stack) for name, v in node[key].items()}
    for key in ("items", "additionalItems", "additionalProperties", "not", "anyOf", "allOf", "oneOf"):
        if key in node:
            out[key] = _inline(node[key], root, memo, stack)
    return out


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(("uuid", "email"))

    @checker.checks("date-time", raises=ValueError)
    def date_time(value):
        if not isinstance(value, str):
            return True
        if not RFC3339.match(value):
            raise ValueError("not an RFC 3339 timestamp")
        datetime.fromisoformat(value)
        return True

    return checker


class HerokuSchema:
    def __init__(self, path: str = SCHEMA_PATH):
        with open(path, encoding="utf-8") as fh:
            self.raw = json.load(fh)
        self.checker = _format_checker()
        self._roots: dict = {}
        self._validators: dict = {}
        self._item_errors: dict = {}
        self.links: dict = {}
        for name, definition in self.raw["definitions"].items():
            for link in definition.get("links", ()):
                key = (link["method"], shape(link["href"]))
                # a few shapes carry several links (e.g. two titles of GET /teams/{}/addons); the first answers
                self.links.setdefault(
                    key,
                    Link(
                        target=link.get("targetSchema") or {"$ref": f"#/definitions/{name}"},
                        request=link.get("schema"),
                        ranges=tuple(link.get("ranges", ())),
                        placeholders=tuple(self._placeholder(p) for p in PLACEHOLDER.findall(unquote(link["href"]))),
                    ),
                )

    # -- links ----------------------------------------------------------------------------
    def _placeholder(self, text: str) -> Placeholder:
        ref = text.strip("()")
        fields, literals = [], []

        def walk(r):
            node = resolve(self.raw, r)
            if "anyOf" in node:
                for option in node["anyOf"]:
                    walk(option["$ref"])
            elif "$ref" in node:
                walk(node["$ref"])
            elif "enum" in node:
                literals.extend(node["enum"])
            else:
                fields.append(r.rsplit("/", 1)[1])

        walk(ref)
        return Placeholder(tuple(fields), tuple(literals))

    def link(self, method: str, route: str) -> Optional[Link]:
        return self.links.get((method.upper(), shape(route)))

    # -- validation -----------------------------------------------------------------------
    def _root(self, extras: frozenset) -> tuple:
        """The schema as jsonschema reads it, with the properties of ``extras``: (root, its validator, $ref memo)."""
        if extras not in self._roots:
            root = copy.deepcopy(self.raw)
            for token in sorted(extras):
                definition, path, schema = EXTRAS[token]
                node = root["definitions"][definition]
                *parents, leaf = path.split(".")
                for part in parents:
                    node = node["properties"][part]
                node["properties"][leaf] = schema
                node["required"] = sorted(set(node.get("required", ())) | {leaf})
            _strict(root)
            self._roots[extras] = (root, jsonschema.Draft4Validator(root, format_checker=self.checker), {})
        return self._roots[extras]

    def errors(self, schema: dict, body: Any, extras: Iterable = ()) -> list:
        """Readable messages (``at $[0].owner: 'email' is a required property``), empty when valid."""
        extras = frozenset(extras)
        if isinstance(body, list) and set(schema) == {"items", "type"}:
            # lists are read page after page, their items again one by one: validate each distinct item once
            found = []
            for n, item in enumerate(body):
                key = (extras, json.dumps(schema["items"], sort_keys=True), json.dumps(item, sort_keys=True))
                if key not in self._item_errors:
                    self._item_errors[key] = self.errors(schema["items"], item, extras)
                found += [f"at $[{n}]{message.removeprefix('at $')}" for message in self._item_errors[key]]
            return found
        key = (extras, json.dumps(schema, sort_keys=True))
        if key not in self._validators:
            root, validator, memo = self._root(extras)
            self._validators[key] = validator.evolve(schema=_inline(schema, root, memo))
        found = sorted(self._validators[key].iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
        return [f"at {e.json_path}: {e.message}" for e in found]

    def check_response(self, method: str, route: str, body: Any, extras: Iterable = ()) -> list:
        link = self.link(method, route)
        if link is None:
            return [f"{method} {route} is not a link of the schema"]
        return self.errors(link.target, body, extras)

    def check_request(self, method: str, route: str, body: Any) -> list:
        """A request body against the link's ``schema`` (links without one take no body)."""
        link = self.link(method, route)
        if link is None:
            return [f"{method} {route} is not a link of the schema"]
        return self.errors(link.request or {"type": "null"}, body)

    def _plain(self, schema: dict, body: Any) -> list:
        validator = jsonschema.Draft4Validator(schema, format_checker=self.checker)
        return [f"at {e.json_path}: {e.message}" for e in validator.iter_errors(body)]

    def check_error(self, body: Any) -> list:
        return self._plain(ERROR_SCHEMA, body)

    def check_scheduler_jobs(self, body: Any) -> list:
        return self._plain(SCHEDULER_JOBS_SCHEMA, body)


@lru_cache(maxsize=None)
def load(path: str = SCHEMA_PATH) -> HerokuSchema:
    return HerokuSchema(path)

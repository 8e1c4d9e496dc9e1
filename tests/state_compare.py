"""Compare two Northflank emulator states (``GET /_admin/state``) with what legitimately differs between runs taken out.

Two migrations of the same account must leave the same resources with the same specs; they may differ in:

- timestamps (``createdAt``, ``updatedAt``, ``concludedAt``, any ISO-8601 time): replaced by ``<time>``;
- generated IDs (``template-run-000001``: a prefix and the emulator's sequence number, and the ``uid``/``sha`` hashes
  derived from them): replaced by ``<prefix>-<n>``. A map keyed by generated IDs becomes a sorted list of its records,
  so
  two template runs stay two records: a duplicate shows;
- the emulator's sequence counter (``seq``);
- how far an asynchronous resource has moved along its statuses (each read moves it one step, and retries read more):
  ``status`` and ``next`` become ``final_status``, the status the resource is heading to (a failed run stays failed).

``normalise(state)`` does that; ``differences(a, b)`` lists the paths where two normalised states differ;
``generated_records(state)`` counts the records with generated IDs per kind (runs, builds, backups...).
"""

from __future__ import annotations

import json
import re
from typing import Any

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")
GENERATED_ID = re.compile(r"^([a-z]+(?:-[a-z]+)*)-\d{6}$")
TIME_KEYS = frozenset(("createdAt", "updatedAt", "concludedAt", "time", "startedAt", "finishedAt"))
DROPPED_TOP = frozenset(("seq",))


def _id_placeholder(value: str) -> str:
    return GENERATED_ID.sub(r"\1-<n>", value)


def normalise(value: Any, _key: str = "") -> Any:
    if isinstance(value, dict):
        if value and all(isinstance(k, str) and GENERATED_ID.match(k) for k in value):
            # keyed by generated IDs: keep every record, in an order that does not depend on the IDs
            return sorted((normalise(v) for v in value.values()), key=lambda r: json.dumps(r, sort_keys=True))
        out = {}
        generated = isinstance(value.get("id"), str) and bool(GENERATED_ID.match(value["id"]))
        for key, item in value.items():
            if key in TIME_KEYS or key == "next":
                continue
            if key == "status" and isinstance(value.get("next"), list):
                out["final_status"] = value["next"][-1] if value["next"] else item
                continue
            if generated and key in ("uid", "sha"):
                out[key] = "<hash>"
                continue
            out[_id_placeholder(key) if GENERATED_ID.match(key) else key] = normalise(item, key)
        return out
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        if TIME.match(value):
            return "<time>"
        if GENERATED_ID.match(value):
            return _id_placeholder(value)
    return value


def normalise_state(state: dict) -> dict:
    return normalise({k: v for k, v in state.items() if k not in DROPPED_TOP})


def differences(a: Any, b: Any, path: str = "") -> list:
    """Paths (``templates..x.spec.name``) where the normalised ``a`` and ``b`` differ; [] when they are the same."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            sub = f"{path}.{key}" if path else key
            if key not in a:
                out.append(f"{sub}: only in the second")
            elif key not in b:
                out.append(f"{sub}: only in the first")
            else:
                out.extend(differences(a[key], b[key], sub))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items against {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {json.dumps(a)[:80]} != {json.dumps(b)[:80]}"]


def compare(expected: dict, actual: dict) -> list:
    """Differences between two raw emulator states, after normalisation."""
    return differences(normalise_state(expected), normalise_state(actual))


def generated_records(state: dict) -> dict:
    """``{kind: count}`` of records with generated IDs (template runs, builds, job runs, backups...)."""
    counts: dict = {}

    def walk(kind: str, value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("id"), str) and GENERATED_ID.match(value["id"]):
                counts[kind] = counts.get(kind, 0) + 1
                return
            for item in value.values():
                walk(kind, item)

    for kind, value in state.items():
        if kind not in DROPPED_TOP:
            walk(kind, value)
    return counts

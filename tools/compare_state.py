"""Compare two Northflank emulator states (``northflank-state.json``), ids and timestamps aside.

    python tools/compare_state.py build/demo/northflank-state.json /tmp/before/northflank-state.json

Exits 0 when both hold the same resources with the same settings; otherwise prints each difference (path, both values)
and exits 1. What a run cannot decide is left out of the comparison: generated ids (``uid``), times (``createdAt``,
``updatedAt``, ``concludedAt``, anything ending in ``At``), the emulator's sequence counter (``seq``), and the lifecycle
an addon or build moves through while it is read (``status`` and ``next`` of stored records, which advance with time).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

IGNORED_KEYS = {"uid", "seq", "status", "next"}


def ignored(key: str) -> bool:
    return key in IGNORED_KEYS or (key.endswith("At") and key[:1].islower())


def normalise(value):
    """The state without what a run cannot decide."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if not ignored(k)}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def differences(left, right, path="") -> list:
    """``[(path, left, right)]`` of every leaf that differs; a missing key shows as ``<absent>``."""
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right)):
            found += differences(left.get(key, "<absent>"), right.get(key, "<absent>"), "%s/%s" % (path, key))
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [d for i, (a, b) in enumerate(zip(left, right)) for d in differences(a, b, "%s[%d]" % (path, i))]
    return [] if left == right else [(path or "/", left, right)]


def load(path: Path):
    return normalise(json.loads(Path(path).read_text(encoding="utf-8")))


def compare(left_file: Path, right_file: Path) -> list:
    return differences(load(left_file), load(right_file))


def main(argv: list) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    found = compare(Path(argv[0]), Path(argv[1]))
    for path, left, right in found:
        print("%s: %s != %s" % (path, json.dumps(left)[:200], json.dumps(right)[:200]))
    print("same state (ids and timestamps aside)" if not found else "%d differences" % len(found))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

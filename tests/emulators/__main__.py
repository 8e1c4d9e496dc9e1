"""``python -m tests.emulators {heroku,northflank} --port PORT ...``: start one emulator in the foreground."""

from __future__ import annotations

import argparse
import importlib
import sys

from tests.emulators import _server

KINDS = ("heroku", "northflank")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulators")
    sub = parser.add_subparsers(dest="kind", required=True)
    for kind in KINDS:
        module = importlib.import_module(f"tests.emulators.{kind}")
        p = sub.add_parser(kind, help=module.__doc__.splitlines()[0])
        _server.common_arguments(p)
        module.add_arguments(p)
    args = parser.parse_args(argv)
    module = importlib.import_module(f"tests.emulators.{args.kind}")
    _server.run(module.build(args), args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Northflank API emulator: every request is checked against the official Northflank SDK's types.

A real HTTP server (see ``_server``) answering the ``/v1`` routes the collection uses, as
Northflank's API reference (https://northflank.com/docs/v1/api) describes them. What the references leave open, and
what this emulator chose, is listed in ``docs/emulators.md``. In short:

- every ``/v1`` request passes ``nf_contract.check`` (SDK 2.1.0 TypedDicts, strict) and the documented
  name/port/description rules; a violation answers 400 and is recorded as ``contract_error`` in the log;
- every 2xx ``data`` passes ``nf_contract.check_response``; a mismatch is an emulator bug (500, ``response_error``);
- IDs are derived from names; POST on an existing ID is 409, PUT creates or replaces, PATCH merges;
- asynchronous resources move one status step per read (GET of the resource or of a list holding it),
  so tests poll a known number of times and never sleep;
- ``x-ratelimit-*`` headers on every response; 429 beyond the hourly budget (``--rate-limit``, ``--rate-window``);
- with ``--pg-target-url``, a postgresql addon's import from a connection string and its restore move real data
  (``pg``); the source password is never kept, in the state or in the request log.

The package: ``core`` holds the machinery (routing, auth, rate limits, faults, contract checks, state); each resource
family is a mixin in a module of its own (``catalogue``, ``projects``, ``services``, ``secrets``, ``addons``, ``jobs``,
``volumes``, ``domains``, ``templates``, ``pipelines``); ``pg`` moves real PostgreSQL data.
"""

from __future__ import annotations

import signal
import sys
import tempfile
import threading

from tests.emulators.northflank.addons import Addons
from tests.emulators.northflank.catalogue import Catalogue
from tests.emulators.northflank.core import Core
from tests.emulators.northflank.domains import Domains
from tests.emulators.northflank.jobs import Jobs
from tests.emulators.northflank.pg import PostgresData
from tests.emulators.northflank.pipelines import Pipelines
from tests.emulators.northflank.projects import Projects
from tests.emulators.northflank.secrets import SecretGroups
from tests.emulators.northflank.services import Services
from tests.emulators.northflank.templates import Templates
from tests.emulators.northflank.volumes import Volumes


class NorthflankEmulator(
    Catalogue, Projects, Services, SecretGroups, Addons, Jobs, Volumes, Domains, Templates, Pipelines, Core
):
    """The emulator: the machinery of ``Core`` and the routes of every resource family."""


def add_arguments(parser) -> None:
    parser.add_argument(
        "--state-file", help="JSON state, loaded at start when present and rewritten after every change"
    )
    parser.add_argument(
        "--rate-limit", type=int, default=1000, help="requests per window (Northflank's default: 1000/hour)"
    )
    parser.add_argument(
        "--rate-window", type=float, default=3600.0, help="seconds; the window starts at the first request"
    )
    parser.add_argument(
        "--pg-target-url",
        help="a PostgreSQL superuser's connection string: postgresql imports from a connection "
        "string and their restores then move real data, into one database per addon there",
    )
    parser.add_argument(
        "--pg-bin",
        help="directory of pg_dump, pg_restore and psql (default: PATH, else the newest /usr/lib/postgresql/*/bin)",
    )
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
    emulator = NorthflankEmulator(
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        token=args.token,
        state_file=args.state_file,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        faults=tuple(f for f in args.faults.split(",") if f),
        seed=args.seed,
        pg=pg,
    )
    emulator.workdir = workdir
    return emulator

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real data for the Northflank emulator's PostgreSQL imports and restores (``--pg-target-url``).

An import from a connection string runs ``pg_dump --format=custom --no-owner --no-acl`` against the source into the
emulator's data directory; a restore of that import runs ``pg_restore --no-owner --no-acl`` into a database that stands
for the addon, on the server of ``--pg-target-url`` (the addon's own login role owns it). Both run with libpq's own
parsing of the connection string; the password is handed to them in ``PGPASSWORD``, never on a command line, and is
scrubbed from every message kept.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from typing import Optional
from urllib.parse import quote, unquote, urlsplit

# libpq URIs: scheme://[user[:password]@]host...; the password runs to the last "@" (hosts never hold one).
_URI = re.compile(
    r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/?#]*)(?::(?P<password>.*))?@(?P<rest>[^@]*)$", re.S
)
# key=value connection strings: password=secret or password='se cret'
_KEYWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)
_QUERY = re.compile(r"([?&]password=)[^&#]*", re.I)
MASK = "********"
TIMEOUT = 300


class DataError(Exception):
    """A dump or restore failed; the message is the tool's, with every password scrubbed."""


CLIENT_TOOLS = ("pg_dump", "pg_restore", "psql")


def find_bin(tools: tuple = CLIENT_TOOLS, given: Optional[str] = None) -> Optional[str]:
    """A directory holding all of PostgreSQL's ``tools``: ``given``, else the directory on PATH of the first one, else
    the
    newest ``/usr/lib/postgresql/<major>/bin`` (Debian keeps the server's programs off PATH)."""
    if given:
        return given
    on_path = shutil.which(tools[0])
    candidates = [os.path.dirname(on_path)] if on_path else []
    versions = [p for p in glob.glob("/usr/lib/postgresql/*/bin") if os.path.basename(os.path.dirname(p)).isdigit()]
    candidates += sorted(versions, key=lambda p: int(os.path.basename(os.path.dirname(p))), reverse=True)
    for directory in candidates:
        if all(os.access(os.path.join(directory, tool), os.X_OK) for tool in tools):
            return directory
    return None


def secrets_of(conn: str) -> list:
    """Every form in which ``conn``'s password may show up: as written (percent-encoded in a URI) and decoded."""
    found = []
    if "://" in conn:
        m = _URI.match(conn)
        values = ([m.group("password")] if m and m.group("password") else []) + [
            k.group(0).split("=", 1)[1] for k in _QUERY.finditer(conn)
        ]
    else:
        values = [k.group(2) for k in _KEYWORD.finditer(conn)]
    for value in values:
        found += [value, value.strip("'"), unquote(value)]
    return sorted({s for s in found if s}, key=len, reverse=True)


def scrub(text: str, *conns: str) -> str:
    """``text`` with the password of each connection string (in any form) masked, and so is any password it spells
    out."""
    for conn in conns:
        for secret in secrets_of(conn):
            text = text.replace(secret, MASK)
    m = _URI.match(text)
    if m and m.group("password"):
        text = f"{m.group('scheme')}{m.group('user')}:{MASK}@{m.group('rest')}"
    text = _QUERY.sub(lambda k: k.group(1) + MASK, text)
    return text if "://" in text else _KEYWORD.sub(lambda k: k.group(1) + MASK, text)


def split_password(conn: str) -> tuple:
    """(connection string without its password, the password or None). Only URIs are split; libpq reads a password
    given in ``PGPASSWORD`` when the string has none."""
    m = _URI.match(conn)
    if not m or m.group("password") is None:
        return conn, None
    return f"{m.group('scheme')}{m.group('user')}@{m.group('rest')}", unquote(m.group("password"))


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostgresData:
    """The real side of postgresql imports and restores: dumps under ``data_dir``, addon databases on ``target_url``."""

    def __init__(self, target_url: str, data_dir: str, bin_dir: Optional[str] = None):
        self.bin_dir = find_bin(CLIENT_TOOLS, bin_dir)
        if not self.bin_dir:
            raise SystemExit(
                "northflank emulator: --pg-target-url needs pg_dump, pg_restore and psql; "
                "give their directory with --pg-bin"
            )
        self.target_url, self.data_dir = target_url, data_dir
        os.makedirs(data_dir, exist_ok=True)
        target = urlsplit(split_password(target_url)[0])
        self.host, self.port = target.hostname or "127.0.0.1", target.port or 5432

    def _run(self, tool: str, args: list, conn: str, *scrub_also: str) -> None:
        dsn, password = split_password(conn)
        env = dict(os.environ, PGCONNECT_TIMEOUT="5", PGAPPNAME="northflank-emulator")
        env.pop("PGPASSWORD", None)
        if password is not None:
            env["PGPASSWORD"] = password
        try:
            proc = subprocess.run(
                [os.path.join(self.bin_dir, tool), *args, f"--dbname={dsn}"],
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DataError(scrub(f"{tool}: {exc}", conn, *scrub_also)) from None
        if proc.returncode != 0:
            raise DataError(
                scrub(
                    (proc.stderr or proc.stdout).strip() or f"{tool} exited with {proc.returncode}", conn, *scrub_also
                )
            )

    def dump(self, conn: str, backup_id: str) -> tuple:
        """pg_dump the source into ``<data_dir>/<backup_id>.dump``: (file name, size in bytes)."""
        name = f"{backup_id}.dump"
        path = os.path.join(self.data_dir, name)
        try:
            self._run("pg_dump", ["--format=custom", "--no-owner", "--no-acl", f"--file={path}"], conn)
        except DataError:
            if os.path.exists(path):
                os.remove(path)
            raise
        return name, os.path.getsize(path)

    def addon_login(self, name: str, password: str) -> dict:
        """Connection details of the database (and login role of the same ``name``) that stands for an addon."""
        quoted = quote(name, safe="")
        return {
            "HOST": self.host,
            "PORT": str(self.port),
            "DATABASE": name,
            "USERNAME": name,
            "PASSWORD": password,
            "POSTGRES_URI": f"postgresql://{quoted}:{password}@{self.host}:{self.port}/{quoted}",
            "JDBC_POSTGRES_URI": f"jdbc:postgresql://{self.host}:{self.port}/{name}",
        }

    def restore(self, dump_name: str, login: dict) -> None:
        """Replace the addon's database with the dump (a restore drops what was there), owned by the addon's role."""
        role, db = quote_ident(login["USERNAME"]), quote_ident(login["DATABASE"])
        create_role = (
            f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {quote_literal(login['USERNAME'])}) THEN "
            f"CREATE ROLE {role} LOGIN; END IF; END$$"
        )
        statements = [
            create_role,
            f"ALTER ROLE {role} LOGIN PASSWORD {quote_literal(login['PASSWORD'])}",
            f"DROP DATABASE IF EXISTS {db} WITH (FORCE)",
            f"CREATE DATABASE {db} OWNER {role}",
        ]
        args = ["-X", "-q", "-v", "ON_ERROR_STOP=1"]
        for sql in statements:  # one transaction each: CREATE/DROP DATABASE cannot run inside one
            args += ["-c", sql]
        self._run("psql", args, self.target_url, login["PASSWORD"])
        self._run(
            "pg_restore",
            [
                "--no-owner",
                "--no-acl",
                "--exit-on-error",
                "--single-transaction",
                os.path.join(self.data_dir, dump_name),
            ],
            login["POSTGRES_URI"],
            self.target_url,
        )

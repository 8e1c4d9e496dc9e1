# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL through the ``psql`` binary of the controller (package postgresql-client), so that the collection needs no
database driver: ansible-core, requests and pyyaml stay its only Python dependencies.

Connection strings are secrets. Each psql run gets its connection from two temporary files in a private directory
(mode 0700, files 0600, removed after the run): a connection service file (``PGSERVICEFILE``) with every parameter but
the password, and a password file (``PGPASSFILE``). Nothing of the connection string is on psql's command line (visible
in the process list) or in its environment, and the PG* variables of the controller's environment are not passed on, so
the connection string alone decides where psql connects. Messages are scrubbed of the password before they are returned.

Both forms libpq accepts are parsed: URIs (``postgres://user:pass@host:5432/db?sslmode=require``, as Heroku's
DATABASE_URL, percent-decoded once) and keyword/value strings (``host=h dbname=d password='a b'``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading

try:
    from urllib.parse import unquote
except ImportError:  # pragma: no cover
    from urllib import unquote  # type: ignore

FIELD = "\x1f"  # psql's field separator: no name holds it
SERVICE = "herokumigrate"
URI = re.compile(r"^(postgres|postgresql)://(?P<rest>.*)$", re.S)
KEYWORD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*")
MASK = "********"
INSTALL_HINT = (
    "install PostgreSQL's client (Debian/Ubuntu: apt-get install postgresql-client; RHEL: dnf install postgresql) "
    "or set psql_path"
)


class PostgresError(Exception):
    """psql could not run or a statement failed; the message never holds the password."""


def connection_argument_spec():
    """The psql options of every module that reaches PostgreSQL (documented in each module)."""
    return dict(
        psql_path=dict(type="path"),
        connect_timeout=dict(type="int", default=10),
    )


# -- connection strings ---------------------------------------------------------------------------
def parse(conn):
    """A libpq connection string as ``{keyword: value}``, the password included. Fails with a message that holds no part
    of it."""
    if not isinstance(conn, str) or not conn.strip():
        raise PostgresError("the connection string is empty")
    match = URI.match(conn.strip())
    return _parse_uri(match.group("rest")) if match else _parse_keywords(conn)


def _parse_uri(rest):
    params = {}
    rest, _sep, query = rest.partition("?")
    # the password may hold '@' and '/' unencoded: the user part runs to the last '@'
    userinfo, at, hostpart = rest.rpartition("@")
    if not at:
        userinfo, hostpart = "", rest
    hostlist, slash, dbname = hostpart.partition("/")
    if userinfo:
        user, colon, password = userinfo.partition(":")
        if user:
            params["user"] = unquote(user)
        if colon:
            params["password"] = unquote(password)
    if slash and dbname:
        params["dbname"] = unquote(dbname)
    hosts, ports = [], []
    for spec in (h for h in hostlist.split(",") if h) if hostlist else ():
        if spec.startswith("["):
            host, _bracket, tail = spec[1:].partition("]")
            port = tail[1:] if tail.startswith(":") else ""
        else:
            host, _colon, port = spec.partition(":")
        if port and not port.isdigit():
            raise PostgresError("the connection string has an invalid port (expected digits after the host's ':')")
        hosts.append(unquote(host))
        ports.append(port)
    if hosts:
        params["host"] = ",".join(hosts)
    if any(ports):
        params["port"] = ",".join(ports)
    for pair in (p for p in query.split("&") if p):
        key, eq, value = pair.partition("=")
        if not eq:
            raise PostgresError("the connection string's query holds a parameter without '=': use key=value")
        key, value = unquote(key), unquote(value)
        if key == "ssl" and value == "true":  # JDBC's spelling, which libpq accepts too
            key, value = "sslmode", "require"
        params[key] = value
    return params


def _parse_keywords(conn):
    params, pos = {}, 0
    while pos < len(conn):
        if conn[pos:].strip() == "":
            break
        match = KEYWORD.match(conn, pos)
        if not match:
            raise PostgresError("the connection string is neither a postgres:// URI nor keyword=value pairs")
        key, pos = match.group(1), match.end()
        value = []
        if conn[pos:pos + 1] == "'":
            pos += 1
            while True:
                if pos >= len(conn):
                    raise PostgresError("the connection string has an unterminated quoted value")
                char = conn[pos]
                if char == "\\" and pos + 1 < len(conn):
                    value.append(conn[pos + 1])
                    pos += 2
                    continue
                pos += 1
                if char == "'":
                    break
                value.append(char)
        else:
            while pos < len(conn) and not conn[pos].isspace():
                if conn[pos] == "\\" and pos + 1 < len(conn):
                    pos += 1
                value.append(conn[pos])
                pos += 1
        params[key] = "".join(value)
    if not params:
        raise PostgresError("the connection string is empty")
    return params


def secrets_of(conn):
    """Every form in which ``conn``'s password could show up: decoded and as written."""
    found = []
    try:
        password = parse(conn).get("password")
    except PostgresError:
        password = None
    if password:
        found.append(password)
    for match in re.finditer(r":([^:@/]+)@", conn or ""):
        found.append(match.group(1))
    return sorted(set(s for s in found if len(s) >= 3), key=len, reverse=True)


def scrub(text, secrets):
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def describe(params):
    """``user@host:port/dbname`` for messages: no password."""
    return "%s@%s:%s/%s" % (
        params.get("user", ""),
        params.get("host", "localhost"),
        params.get("port", "5432"),
        params.get("dbname", ""),
    )


# -- SQL quoting ------------------------------------------------------------------------------------
def ident(name):
    return '"%s"' % name.replace('"', '""')


def literal(value):
    return "'%s'" % value.replace("'", "''")


def parse_list_setting(value):
    """``"$user", public, heroku_ext`` (how PostgreSQL shows search_path) -> ['$user', 'public', 'heroku_ext']."""
    items, current, quoted, i = [], [], False, 0
    value = value or ""
    while i < len(value):
        char = value[i]
        if quoted:
            if char == '"' and value[i + 1:i + 2] == '"':
                current.append('"')
                i += 1
            elif char == '"':
                quoted = False
            else:
                current.append(char)
        elif char == '"':
            quoted = True
        elif char == ",":
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        i += 1
    tail = "".join(current).strip()
    if tail or items:
        items.append(tail)
    return [item for item in items if item != ""]


# -- psql -------------------------------------------------------------------------------------------
def find_psql(given=None):
    path = given or shutil.which("psql")
    if not path or not os.access(path, os.X_OK):
        raise PostgresError("psql was not found%s: %s" % (" at %s" % given if given else " on PATH", INSTALL_HINT))
    return path


def _passfile_field(value):
    return value.replace("\\", "\\\\").replace(":", "\\:")


class Psql(object):
    """One database reached through psql. ``query(sql)`` returns the rows of every statement's result, as lists of
    strings."""

    def __init__(self, conn, label, psql_path=None, connect_timeout=10):
        self.label = label
        self.secrets = secrets_of(conn)
        try:
            self.params = parse(conn)
        except PostgresError as exc:
            raise PostgresError("%s: %s" % (label, exc))
        self.psql = find_psql(psql_path)
        self.params.setdefault("connect_timeout", str(connect_timeout))
        self.params.setdefault("application_name", "herokumigrate")
        for key, value in self.params.items():
            if "\n" in value or "\r" in value:
                raise PostgresError("%s: the connection string's %s holds a line break" % (label, key))

    def where(self):
        return "%s (%s)" % (self.label, describe(self.params))

    def query(self, sql, timeout=None):
        workdir = tempfile.mkdtemp(prefix="herokumigrate-psql-")  # mode 0700
        try:
            env = dict((k, v) for k, v in os.environ.items() if not k.startswith("PG"))
            service = os.path.join(workdir, "pg_service.conf")
            self._write(
                service,
                "[%s]\n%s\n"
                % (SERVICE, "\n".join("%s=%s" % (k, v) for k, v in sorted(self.params.items()) if k != "password")),
            )
            env.update(PGSERVICEFILE=service, PGSERVICE=SERVICE, PGSYSCONFDIR=workdir)
            if self.params.get("password") is not None:
                passfile = os.path.join(workdir, "pgpass")
                self._write(passfile, "*:*:*:*:%s\n" % _passfile_field(self.params["password"]))
                env["PGPASSFILE"] = passfile
            else:
                env["PGPASSFILE"] = os.devnull
            cmd = [self.psql, "-X", "-q", "-A", "-t", "-0", "-F", FIELD, "-v", "ON_ERROR_STOP=1", "-f", "-"]
            try:
                proc = subprocess.run(
                    cmd,
                    input=sql.encode("utf-8"),
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise PostgresError("%s: psql did not finish within %s seconds" % (self.where(), timeout))
            except OSError as exc:
                raise PostgresError("could not run %s: %s; %s" % (self.psql, exc, INSTALL_HINT))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if proc.returncode != 0:
            lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            # libpq names our temporary password file after a failed login: nothing the user can act on
            message = scrub(
                "\n".join(line for line in lines if not line.startswith("password retrieved from file")), self.secrets
            )
            raise PostgresError("%s: %s" % (self.where(), message or "psql exited with %d" % proc.returncode))
        out = proc.stdout.decode("utf-8", "replace")
        return [record.strip("\n").split(FIELD) for record in out.split("\0") if record.strip("\n")]

    @staticmethod
    def _write(path, text):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)


def query_all(jobs, timeout=None):
    """``[(psql, sql), ...]`` run at the same time (a source and a target), results in order; the first failure is
    raised."""
    results, errors = [None] * len(jobs), [None] * len(jobs)

    def run(i, db, sql):
        try:
            results[i] = db.query(sql, timeout)
        except PostgresError as exc:
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i, db, sql)) for i, (db, sql) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results

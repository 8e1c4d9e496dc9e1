# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway PostgreSQL server for data migration tests (project standard: a real server, never a fake).

``postgres_server`` (session-scoped) initdb's a cluster into a temporary directory and starts it with ``pg_ctl`` on a
free port of 127.0.0.1 and a unix socket in that directory: password (SCRAM) authentication over TCP, trust on the
socket, superuser ``postgres``. It is stopped and removed at the end of the session.

PostgreSQL refuses to run as root, so as root (CI) the cluster belongs to the ``postgres`` OS user that the Debian
package creates, and initdb/pg_ctl run through ``runuser -u postgres``; the client tools run as anyone. The binaries are
found on PATH or in ``/usr/lib/postgresql/<major>/bin`` (Debian keeps them off PATH). When they are missing, root
installs them with
``tools/system-deps.sh``; anyone else gets a skip that says so.

Use it from a test module with ``from tests.integration.postgres import postgres_server  # noqa: F401``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional
from urllib.parse import quote

import pytest

from tests.emulators.northflank.pg import find_bin, split_password
from tests.helpers import ROOT

SUPERUSER = "postgres"
ROOT_RUNS_AS = "postgres"  # the OS user of Debian's postgresql package


TOOLS = ("pg_ctl", "initdb", "psql", "pg_dump", "pg_restore")


def pg_bin() -> Optional[str]:
    return find_bin(TOOLS)


def ensure_installed() -> str:
    """The directory of initdb, pg_ctl, psql, pg_dump and pg_restore; installs PostgreSQL as root if it is missing."""
    found = pg_bin()
    if found is None and os.geteuid() == 0:
        subprocess.run(["bash", str(ROOT / "tools" / "system-deps.sh")], check=True)
        found = pg_bin()
        if found is None:
            pytest.fail("tools/system-deps.sh ran as root but installed no PostgreSQL (pg_ctl not found)")
    if found is None:
        pytest.skip("PostgreSQL is not installed and only root may install it: run `sudo tools/system-deps.sh` "
                    "(apt-get install postgresql) for the data migration tests")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One cluster: ``url(user, password, db)`` builds connection strings, ``psql()`` runs SQL."""

    def __init__(self, bin_dir: str):
        self.bin_dir = bin_dir
        self.password = "admin-" + os.urandom(8).hex()
        self.dir = Path(tempfile.mkdtemp(prefix="herokumigrate-pg-"))
        self.data = self.dir / "data"
        self.as_user: list = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(ROOT_RUNS_AS)
            except KeyError:
                pytest.fail(
                    f"running as root, PostgreSQL needs an OS user to run as: there is no {ROOT_RUNS_AS!r} user"
                )
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", ROOT_RUNS_AS, "--"]
        self.port = 0
        self.started = False

    def _server_cmd(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], capture_output=True, text=True, check=False, timeout=120)

    def start(self) -> "PostgresServer":
        pwfile = self.dir / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        if self.as_user:
            shutil.chown(pwfile, ROOT_RUNS_AS, ROOT_RUNS_AS)
        init = self._server_cmd(
            os.path.join(self.bin_dir, "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        )
        pwfile.unlink()
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        for _attempt in range(3):  # another process may take the free port between the probe and the start
            self.port = free_port()
            options = (
                f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c max_connections=30 -c shared_buffers=16MB"
            )
            started = self._server_cmd(
                os.path.join(self.bin_dir, "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.dir / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            )
            if started.returncode == 0:
                self.started = True
                return self
            time.sleep(0.2)
        log = (
            (self.dir / "server.log").read_text(encoding="utf-8", errors="replace")
            if (self.dir / "server.log").exists()
            else ""
        )
        raise RuntimeError(f"pg_ctl start failed:\n{started.stdout}\n{started.stderr}\n{log[-2000:]}")

    def stop(self) -> None:
        if self.started:
            self._server_cmd(
                os.path.join(self.bin_dir, "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
            )
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- clients ----------------------------------------------------------------------------
    def url(self, user: str = SUPERUSER, password: Optional[str] = None, db: str = "postgres") -> str:
        """A libpq URI; the user and the password are percent-encoded, as a Heroku DATABASE_URL would need them to
        be."""
        secret = self.password if password is None and user == SUPERUSER else password
        auth = quote(user, safe="") + (":" + quote(secret, safe="") if secret is not None else "")
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{quote(db, safe='')}"

    def psql(self, sql: str, url: Optional[str] = None, db: str = "postgres", check: bool = True) -> str:
        """Run ``sql`` (one or more statements, one transaction per statement) and return the unaligned, tuples-only
        output. The password goes through PGPASSWORD, never on the command line."""
        url = url or self.url(db=db)
        dsn, password = split_password(url)
        env = dict(os.environ, PGCONNECT_TIMEOUT="5")
        env.pop("PGPASSWORD", None)
        if password is not None:
            env["PGPASSWORD"] = password
        proc = subprocess.run(
            [os.path.join(self.bin_dir, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", f"--dbname={dsn}"],
            input=sql,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"psql failed ({proc.returncode}): {proc.stderr}")
        return proc.stdout


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer(ensure_installed())
    try:
        yield server.start()
    finally:
        server.stop()

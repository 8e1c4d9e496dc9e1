# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""northflank_data_verify and northflank_data_search_path against a real PostgreSQL server, over TLS (sslmode=require,
as Heroku's DATABASE_URL): a Heroku-like source (extensions in heroku_ext, a citext column, several schemas, a
partitioned table, sequences past 1, a few MB of rows, heroku_ext on the database's search_path) is dumped and restored
with pg_dump/pg_restore as the cut-over does, then verified through ansible-playbook (targets/data_verify) at -vvv
--diff."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.helpers import run_playbook
from tests.integration.postgres import ROOT_RUNS_AS, postgres_server  # noqa: F401 - the fixture  # pylint: disable=unused-import

PLAYBOOK = str(Path(__file__).parent / "targets" / "data_verify" / "main.yml")
MARKER = "NEVER-PRINT"
SOURCE_USER, SOURCE_DB = "u8heroku", "d8heroku"
TARGET_USER = "nf8addon"
SOURCE_PASSWORD = "s0urce@pa:ss/w%41-NEVER-PRINT-8"
TARGET_PASSWORD = "t4rget pa'ss\\-NEVER-PRINT-9"

SEED = r"""
CREATE SCHEMA heroku_ext;
CREATE EXTENSION citext WITH SCHEMA heroku_ext;
CREATE EXTENSION hstore WITH SCHEMA heroku_ext;
CREATE SCHEMA billing;
CREATE SCHEMA audit;
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email heroku_ext.citext NOT NULL UNIQUE,
  name text NOT NULL,
  prefs heroku_ext.hstore,
  created_at timestamptz NOT NULL DEFAULT '2024-02-29 23:59:59.123456+00'
);
CREATE TABLE posts (id bigserial PRIMARY KEY, user_id bigint REFERENCES users (id), title text, body text,
  score float8);
CREATE TABLE billing.invoices (
  id serial PRIMARY KEY, user_id bigint REFERENCES users (id), amount numeric(14, 4), paid_at timestamptz, data jsonb,
  raw bytea, period interval, ratio real
);
CREATE SEQUENCE billing.invoice_number_seq START 1000;
CREATE TABLE audit.events (id bigint GENERATED ALWAYS AS IDENTITY, at date NOT NULL, payload jsonb)
  PARTITION BY RANGE (at);
CREATE TABLE audit.events_2024 PARTITION OF audit.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE audit.events_2025 PARTITION OF audit.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO users (email, name, prefs) VALUES
  ('Zoe@Example.com', 'Zoë Ünïcødé', 'lang=>fr'), ('taro@example.jp', '山田 太郎', NULL),
  ('rocket@example.com', 'Rocket 🚀', 'a=>1, b=>2'),
  ('quotes@example.com', E'O''Brien "the \\ backslash"\ttab\nnewline', '');
INSERT INTO users (email, name) SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 500) AS g;
-- about 6 MB: 3000 posts of 2 kB
INSERT INTO posts (user_id, title, body, score)
  SELECT 1 + g % 500, 'post ' || g, repeat(md5(g::text), 64), g / 7.0 FROM generate_series(1, 3000) AS g;
INSERT INTO billing.invoices (user_id, amount, paid_at, data, raw, period, ratio)
  SELECT 1 + g % 500, g * 1.2345, '2024-01-01 00:00:00+00'::timestamptz + g * interval '37 minutes',
         jsonb_build_object('n', g, 'tags', ARRAY['x', 'y']),
         decode(md5(g::text), 'hex'), g * interval '1 second', 1.0 / g
  FROM generate_series(1, 5000) AS g;
SELECT setval('billing.invoice_number_seq', 4242);
INSERT INTO audit.events (at, payload)
  SELECT DATE '2024-06-01' + g % 400, jsonb_build_object('g', g) FROM generate_series(1, 2000) AS g;
"""
TABLES = ["audit.events_2024", "audit.events_2025", "billing.invoices", "public.posts", "public.users"]
CITEXT_QUERY = "SELECT count(*) FROM users WHERE email = 'ZOE@EXAMPLE.COM'"


def tls_on(server) -> None:
    """A self-signed certificate for the test server, so that the modules connect with sslmode=require as to Heroku."""
    data = server.data
    subprocess.run(
        [
            "openssl",
            "req",
            "-new",
            "-x509",
            "-days",
            "2",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(data / "server.key"),
            "-out",
            str(data / "server.crt"),
        ],
        check=True,
        capture_output=True,
    )
    os.chmod(data / "server.key", 0o600)
    if server.as_user:
        for name in ("server.key", "server.crt"):
            shutil.chown(data / name, ROOT_RUNS_AS, ROOT_RUNS_AS)
    server.psql("ALTER SYSTEM SET ssl = on; SELECT pg_reload_conf();")
    time.sleep(0.5)


def tls_off(server) -> None:
    server.psql("ALTER SYSTEM RESET ssl; SELECT pg_reload_conf();")


def tool(server, name: str, *args: str, password: str) -> float:
    """Run pg_dump or pg_restore (the password in PGPASSWORD); the seconds it took."""
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    proc = subprocess.run(
        [os.path.join(server.bin_dir, name), *args],
        env={**env, "PGPASSWORD": password},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, f"{name} failed: {proc.stderr}"
    return time.monotonic() - started


@pytest.fixture(scope="module")
def databases(postgres_server, tmp_path_factory):  # noqa: F811 - the fixture imported above
    server = postgres_server
    tls_on(server)
    server.psql(
        f"CREATE ROLE {SOURCE_USER} LOGIN PASSWORD '{SOURCE_PASSWORD}'; "
        f"CREATE DATABASE {SOURCE_DB} OWNER {SOURCE_USER};"
        f"CREATE ROLE {TARGET_USER} LOGIN PASSWORD '{TARGET_PASSWORD.replace(chr(39), chr(39) * 2)}';"
        f"CREATE DATABASE target8 OWNER {TARGET_USER}; CREATE DATABASE altered8 OWNER {TARGET_USER};"
    )
    url = {
        "source": server.url(SOURCE_USER, SOURCE_PASSWORD, SOURCE_DB) + "?sslmode=require",
        "target": server.url(TARGET_USER, TARGET_PASSWORD, "target8") + "?sslmode=require",
        "altered": server.url(TARGET_USER, TARGET_PASSWORD, "altered8") + "?sslmode=require",
        "wrong": server.url(SOURCE_USER, "wrong-NEVER-PRINT-10", SOURCE_DB) + "?sslmode=require",
        "not_owner": server.url(SOURCE_USER, SOURCE_PASSWORD, "target8") + "?sslmode=require",
    }
    server.psql(SEED, url=url["source"])
    # as on Heroku: heroku_ext is on the database's search_path
    server.psql(f'ALTER DATABASE {SOURCE_DB} SET search_path = "$user", public, heroku_ext')
    dump = tmp_path_factory.mktemp("data-verify") / "source.dump"
    host = ["--host=127.0.0.1", f"--port={server.port}"]
    timings = {
        "dump": tool(
            server,
            "pg_dump",
            *host,
            f"--username={SOURCE_USER}",
            "--format=custom",
            "--no-owner",
            "--no-acl",
            f"--file={dump}",
            SOURCE_DB,
            password=SOURCE_PASSWORD,
        )
    }
    for db in ("target8", "altered8"):
        timings["restore"] = tool(
            server,
            "pg_restore",
            *host,
            f"--username={TARGET_USER}",
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            f"--dbname={db}",
            str(dump),
            password=TARGET_PASSWORD,
        )
    server.psql("UPDATE billing.invoices SET amount = amount + 0.0001 WHERE id = 4321", url=url["altered"])
    timings["dump_bytes"] = dump.stat().st_size
    timings["database_bytes"] = int(server.psql(f"SELECT pg_database_size('{SOURCE_DB}')").strip())
    yield {"url": url, "timings": timings}
    server.psql(
        f"DROP DATABASE IF EXISTS {SOURCE_DB} WITH (FORCE); DROP DATABASE IF EXISTS target8 WITH (FORCE);"
        f"DROP DATABASE IF EXISTS altered8 WITH (FORCE); "
        f"DROP ROLE IF EXISTS {SOURCE_USER}; DROP ROLE IF EXISTS {TARGET_USER};"
    )
    tls_off(server)


@pytest.fixture(scope="module")
def run(databases, tmp_path_factory):
    results = tmp_path_factory.mktemp("data-verify-results") / "results.json"
    env = {f"{name.upper()}_URL": value for name, value in databases["url"].items()}
    started = time.monotonic()
    result = run_playbook(PLAYBOOK, env, "-vvv", "--diff", "-e", f"verify_results_file={results}")
    return {"result": result, "seconds": time.monotonic() - started, "results": json.loads(results.read_text())}


def test_the_target_is_verified_and_fixed(postgres_server, databases, run):  # noqa: F811
    assert "failed=0" in run["result"].stdout
    verified = run["results"]["verified"]
    assert [t["name"] for t in verified["tables"]] == TABLES
    assert {t["name"]: t["rows_source"] for t in verified["tables"]} == {
        "audit.events_2024": 1070,
        "audit.events_2025": 930,
        "billing.invoices": 5000,
        "public.posts": 3000,
        "public.users": 504,
    }
    assert [s["name"] for s in verified["sequences"]] == [
        "audit.events_id_seq",
        "billing.invoice_number_seq",
        "billing.invoices_id_seq",
        "public.posts_id_seq",
        "public.users_id_seq",
    ]
    assert {e["name"]: e["target"] for e in verified["extensions"]}["citext"].endswith(" in heroku_ext")
    assert databases["timings"]["database_bytes"] > 5_000_000


def test_citext_compares_as_citext_after_the_fix(postgres_server, databases, run):  # noqa: F811
    """A new session on the fixed target finds heroku_ext's operators; the altered copy (not fixed) compares as text."""
    url = databases["url"]
    assert postgres_server.psql(CITEXT_QUERY, url=url["source"]).strip() == "1"
    assert postgres_server.psql(CITEXT_QUERY, url=url["target"]).strip() == "1"
    assert postgres_server.psql(CITEXT_QUERY, url=url["altered"]).strip() == "0"


def test_the_connections_used_tls(postgres_server, databases, run):  # noqa: F811
    """sslmode=require was honoured: psql refuses a server without TLS, so the comparisons above went over TLS."""
    assert postgres_server.psql("SHOW ssl").strip() == "on"
    assert (
        postgres_server.psql(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", url=databases["url"]["source"]
        ).strip()
        == "t"
    )


def test_no_secret_in_the_output(databases, run):
    # psql's temporary service and password files are gone
    assert not glob.glob(os.path.join(tempfile.gettempdir(), "herokumigrate-psql-*"))
    output = run["result"].stdout + run["result"].stderr
    leaked = [line for line in output.splitlines() if MARKER in line]
    assert not leaked, "secrets printed:\n" + "\n".join(leaked[:5])
    for url in databases["url"].values():
        assert url not in output and url.split("@", 1)[0] not in output
    for password in (SOURCE_PASSWORD, TARGET_PASSWORD):
        assert quote(password, safe="") not in output


def test_timings(databases, run, capsys):
    """Printed with -s: the measurements docs/cutover.md extrapolates from."""
    timings = databases["timings"]
    restored = run["results"]["verified"]["summary"]
    with capsys.disabled():
        print(
            f"\ndatabase {timings['database_bytes'] / 1e6:.1f} MB, dump {timings['dump_bytes'] / 1e6:.1f} MB; "
            f"pg_dump {timings['dump']:.2f} s, "
            f"pg_restore {timings['restore']:.2f} s, verify {restored['seconds']:.2f} s ({restored['rows']} rows); "
            f"playbook {run['seconds']:.1f} s"
        )
    assert restored["seconds"] > 0

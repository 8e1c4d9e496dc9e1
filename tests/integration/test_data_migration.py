# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data migration against a real PostgreSQL server: a seeded "Heroku Postgres" database goes through northflank_addon
and northflank_addon_import (ansible-playbook, targets/data_migration) into the Northflank emulator, which dumps and
restores for real (--pg-target-url), and the addon's database then holds exactly the source's rows.

The source password holds ``@ : / %`` (percent-encoded in the URL, as libpq needs) and a marker that must never appear
in the playbook output at -vvv, the emulator's state file, its request log or its stderr."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import requests

from tests.emulators.northflank import NorthflankEmulator
from tests.emulators.northflank.pg import scrub, secrets_of, split_password
from tests.helpers import EmulatorProcess, run_playbook
from tests.integration.postgres import free_port, postgres_server  # noqa: F401 - the fixture  # pylint: disable=unused-import

PLAYBOOK = str(Path(__file__).parent / "targets" / "data_migration" / "main.yml")
MARKER = "NEVER-PRINT"
SOURCE_USER, SOURCE_DB = "u9heroku", "d9heroku"
# '%41' must reach the server as the three characters, not as 'A': a second decoding would fail the login.
SOURCE_PASSWORD = "h3r0ku@pass:w/rd%41-NEVER-PRINT-1"
WRONG_PASSWORD = "wrong@pass:w/rd%41-NEVER-PRINT-2"
PROJECT, ADDON = "it-data", "app-db"
TABLES = ["public.posts", "public.users"]

SEED = r"""
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email {email_type} NOT NULL UNIQUE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT '2024-02-29 23:59:59.123456+00'
);
CREATE TABLE posts (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  title text,
  body text,
  tags text[],
  meta jsonb,
  price numeric(14, 4),
  raw bytea
);
CREATE INDEX posts_user_id ON posts (user_id);
CREATE VIEW post_counts AS SELECT user_id, count(*) AS n FROM posts GROUP BY user_id;
INSERT INTO users (email, name) VALUES
  ('Zoe@Example.com', 'Zoë Ünïcødé'),
  ('taro@example.jp', '山田 太郎'),
  ('rocket@example.com', 'Rocket 🚀🔥'),
  ('shalom@example.il', 'שלום עליכם'),
  ('quotes@example.com', E'O''Brien "the \\ backslash"\ttab\nnewline');
INSERT INTO posts (user_id, title, body, tags, meta, price, raw) VALUES
  (1, 'Large text', repeat('Ünïcødé ✓ 日本語 🚀 ', 100000), ARRAY['a', 'b,c', 'd"e'], '{{"k": [1, 2.5, null, "ü"]}}',
   1234567890.1234, decode('00ff10', 'hex')),
  (2, '', NULL, '{{}}', 'null', -0.0001, ''),
  (3, NULL, E'line1\r\nline2\\.', NULL, '{{"nested": {{"deep": {{"x": "🚀"}}}}}}', NULL, NULL);
INSERT INTO posts (user_id, title, body)
  SELECT 1 + g % 5, 'post ' || g, md5(g::text) FROM generate_series(1, 2000) AS g;
"""


@pytest.mark.parametrize(
    "conn, kept",
    [
        (
            "postgres://u1abc:p%40ss%3Aw%2Frd%25x@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d9xyz?sslmode=require",
            "postgres://u1abc:********@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d9xyz?sslmode=require",
        ),
        ("postgres://u:p@ss:w/rd@h:5432/db", "postgres://u:********@h:5432/db"),
        (
            "postgresql://h/db?user=u&password=s3cr%40t&sslmode=require",
            "postgresql://h/db?user=u&password=********&sslmode=require",
        ),
        ("host=h user=u password='a b c' dbname=d", "host=h user=u password=******** dbname=d"),
        ("postgres://h:5432/db", "postgres://h:5432/db"),
    ],
)
def test_the_emulator_masks_every_form_of_a_source_password(conn, kept):
    """What the request log keeps of an import (and how tool messages are scrubbed), without a server."""
    logged = NorthflankEmulator.loggable({"name": "heroku-import-1", "connectionString": conn})
    assert logged == {"name": "heroku-import-1", "connectionString": kept}
    for secret in secrets_of(conn):
        assert secret not in scrub(f"pg_dump: error: {conn} said {secret} and {unquote(secret)}", conn)
    assert NorthflankEmulator.loggable({"importUrl": "https://s3/b.dump?Signature=x"}) == {
        "importUrl": "https://s3/b.dump?********"
    }


def test_the_password_reaches_libpq_decoded_once():
    assert split_password("postgres://u9:h3r0ku%40pass%3Aw%2Frd%2541@127.0.0.1:5432/d9") == (
        "postgres://u9@127.0.0.1:5432/d9",
        "h3r0ku@pass:w/rd%41",
    )
    assert split_password("host=h password=x") == ("host=h password=x", None)


def assert_no_secret(where: str, text: str) -> None:
    leaked = [line for line in text.splitlines() if MARKER in line]
    assert not leaked, f"a source password shows in {where}:\n" + "\n".join(leaked[:5])


def table_rows(server, url: str, table: str) -> str:
    return server.psql(f"COPY (SELECT * FROM {table} ORDER BY id) TO STDOUT", url=url)


@pytest.fixture(scope="module")
def source(postgres_server):  # noqa: F811 - the fixture imported above
    """A Heroku-like database: owned by its own login role, extensions in ``heroku_ext`` (when citext is available)."""
    server = postgres_server
    server.psql(
        f"CREATE ROLE {SOURCE_USER} LOGIN PASSWORD '{SOURCE_PASSWORD}'; "
        f"CREATE DATABASE {SOURCE_DB} OWNER {SOURCE_USER};"
    )
    citext = server.psql("SELECT count(*) FROM pg_available_extensions WHERE name = 'citext'").strip() == "1"
    url = server.url(SOURCE_USER, SOURCE_PASSWORD, SOURCE_DB)
    ext = "CREATE SCHEMA heroku_ext; CREATE EXTENSION citext WITH SCHEMA heroku_ext;" if citext else ""
    server.psql(ext + SEED.format(email_type="heroku_ext.citext" if citext else "text"), url=url)
    yield {"url": url, "citext": citext}
    server.psql(f"DROP DATABASE IF EXISTS {SOURCE_DB} WITH (FORCE); DROP ROLE IF EXISTS {SOURCE_USER};")


@pytest.fixture(scope="module")
def emulator(postgres_server, tmp_path_factory):  # noqa: F811
    """The Northflank emulator moving real data: dumps in ``data``, the addon's database on the same server."""
    work = tmp_path_factory.mktemp("data-migration")
    server = EmulatorProcess(
        "northflank",
        "--state-file",
        str(work / "state.json"),
        "--data-dir",
        str(work / "data"),
        "--pg-target-url",
        postgres_server.url(),
        "--pg-bin",
        postgres_server.bin_dir,
    )
    server.work = work
    yield server
    server.proc.terminate()
    _out, err = server.proc.communicate(timeout=10)
    assert_no_secret("the emulator's stderr", err)
    server.stop()


@pytest.fixture(scope="module")
def migrated(source, emulator):
    """The first run of the playbook: the addon is created, the database imported and restored."""
    result = run_playbook(
        PLAYBOOK, {**emulator.env(), "HEROKU_DATABASE_URL": source["url"]}, "-vvv", "-e", "expect=import"
    )
    return result


def addon_url(emulator) -> str:
    """The addon's connection string, as Northflank gives it to apps."""
    resp = requests.get(
        f"{emulator.url}/v1/projects/{PROJECT}/addons/{ADDON}/credentials",
        headers={"Authorization": f"Bearer {emulator.token}"},
        timeout=10,
    )
    resp.raise_for_status()
    return resp.json()["data"]["envs"]["POSTGRES_URI"]


def check_clean(emulator, output: str) -> None:
    """No password in the playbook output, the state file or the request log; no request broke the API contract."""
    assert_no_secret("the playbook output", output)
    assert_no_secret("the emulator's state file", (emulator.work / "state.json").read_text(encoding="utf-8"))
    log = emulator.requests()
    assert_no_secret("the emulator's request log", json.dumps(log, ensure_ascii=False))
    assert not [e for e in log["requests"] if e.get("contract_error")]


def test_the_addon_holds_exactly_the_source_rows(postgres_server, source, emulator, migrated):  # noqa: F811
    server, target = postgres_server, addon_url(emulator)
    assert "127.0.0.1" in target and source["url"] != target
    tables = (
        "SELECT schemaname || '.' || tablename FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
    )
    assert server.psql(tables, url=target).split() == server.psql(tables, url=source["url"]).split() == TABLES
    for table in TABLES:
        rows = table_rows(server, source["url"], table)
        assert rows.count("\n") > 4
        assert table_rows(server, target, table) == rows, f"{table} differs after the migration"
    for query in (
        "SELECT last_value FROM users_id_seq",
        "SELECT last_value FROM posts_id_seq",
        "SELECT user_id, n FROM post_counts ORDER BY 1",
        "SELECT length(body) FROM posts WHERE id = 1",
    ):
        assert server.psql(query, url=target) == server.psql(query, url=source["url"]), query
    check_clean(emulator, migrated.stdout + migrated.stderr)


def test_the_dump_is_a_custom_format_archive_whose_size_is_reported(emulator, migrated):
    backups = [
        b
        for b in emulator.state()["backups"][f"{PROJECT}/{ADDON}"].values()
        if b["name"] == "heroku-import-postgresql-cubic-12345"
    ]
    assert len(backups) == 1 and backups[0]["status"] == "completed"
    dump = emulator.work / "data" / backups[0]["dump"]
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump --format=custom
    assert backups[0]["size"] == dump.stat().st_size > 10_000
    assert (
        f"'size': '{dump.stat().st_size}'" in migrated.stdout or f'"size": "{dump.stat().st_size}"' in migrated.stdout
    )


def test_heroku_ext_extensions_come_across(postgres_server, source, emulator, migrated):  # noqa: F811
    if not source["citext"]:
        pytest.skip(
            "the citext extension is not available on this PostgreSQL (postgresql-contrib): heroku_ext not tested"
        )
    target = addon_url(emulator)
    assert (
        postgres_server.psql(
            "SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'citext'", url=target
        ).strip()
        == "heroku_ext"
    )
    # citext still compares without case: the column kept its type from the extension's schema. Its operators are found
    # only with heroku_ext on the search_path, which (a database or role setting) no dump carries: the app must set it.
    query = "SET search_path = public, heroku_ext; SELECT name FROM users WHERE email = 'ZOE@EXAMPLE.COM'"
    assert (
        postgres_server.psql(query, url=target).strip()
        == postgres_server.psql(query, url=source["url"]).strip()
        == "Zoë Ünïcødé"
    )


def test_a_rerun_imports_nothing_again(source, emulator, migrated):
    emulator.clear_log()
    result = run_playbook(
        PLAYBOOK, {**emulator.env(), "HEROKU_DATABASE_URL": source["url"]}, "-vvv", "-e", "expect=none"
    )
    log = emulator.requests()
    assert log["writes"] == 0, log["counts"]
    assert "changed=0" in result.stdout
    check_clean(emulator, result.stdout + result.stderr)


def test_a_wrong_password_fails_the_import_with_the_tools_message(postgres_server, source, emulator, migrated):  # noqa: F811
    wrong = postgres_server.url(SOURCE_USER, WRONG_PASSWORD, SOURCE_DB)
    result = run_playbook(
        PLAYBOOK,
        {**emulator.env(), "HEROKU_DATABASE_URL": wrong},
        "-vvv",
        "-e",
        "expect=failure",
        "-e",
        "import_name=heroku-import-retry",
        check=False,
    )
    assert result.returncode != 0
    assert (
        "import 'heroku-import-retry' into addon 'app-db' failed: Northflank reports import status 'failed'"
        in result.stdout
    )
    backup = next(
        b for b in emulator.state()["backups"][f"{PROJECT}/{ADDON}"].values() if b["name"] == "heroku-import-retry"
    )
    assert backup["status"] == "failed" and "dump" not in backup
    assert f'password authentication failed for user "{SOURCE_USER}"' in backup["error"]
    check_clean(emulator, result.stdout + result.stderr)
    # the addon still holds the first import
    assert table_rows(postgres_server, addon_url(emulator), "public.users") == table_rows(
        postgres_server, source["url"], "public.users"
    )


def test_an_unreachable_server_fails_the_import(emulator, migrated):
    url = f"postgres://{SOURCE_USER}:{quote(SOURCE_PASSWORD, safe='')}@127.0.0.1:{free_port()}/{SOURCE_DB}"
    resp = requests.post(
        f"{emulator.url}/v1/projects/{PROJECT}/addons/{ADDON}/import",
        json={"name": "heroku-import-down", "connectionString": url},
        headers={"Authorization": f"Bearer {emulator.token}"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    backup = next(
        b for b in emulator.state()["backups"][f"{PROJECT}/{ADDON}"].values() if b["name"] == "heroku-import-down"
    )
    assert backup["status"] == "in-progress" and backup["next"] == ["failed"]
    assert "Connection refused" in backup["error"]
    check_clean(emulator, "")

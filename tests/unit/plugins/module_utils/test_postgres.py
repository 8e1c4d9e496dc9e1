"""module_utils/postgres.py without a server: connection strings as libpq reads them (decoded once), the search_path
setting's list syntax, and scrubbing. The psql runs themselves are tested against a real server
(tests/integration/test_data_verify.py)."""

from __future__ import annotations

import pytest

from ansible_collections.herokumigrate.northflank.plugins.module_utils.postgres import (
    PostgresError, describe, parse, parse_list_setting, scrub, secrets_of)


@pytest.mark.parametrize(
    "conn, expected",
    [
        (
            "postgres://u1abc:p%40ss%3Aw%2Frd%25x@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d9xyz?sslmode=require",
            {
                "user": "u1abc",
                "password": "p@ss:w/rd%x",
                "host": "ec2-1-2-3-4.compute-1.amazonaws.com",
                "port": "5432",
                "dbname": "d9xyz",
                "sslmode": "require",
            },
        ),
        (
            "postgres://u:p@ss:w/rd@h:5432/db",
            {"user": "u", "password": "p@ss:w/rd", "host": "h", "port": "5432", "dbname": "db"},
        ),
        (
            "postgresql://h1:5432,[::1]:5433/db?ssl=true&application_name=x%20y",
            {"host": "h1,::1", "port": "5432,5433", "dbname": "db", "sslmode": "require", "application_name": "x y"},
        ),
        ("postgresql://%2Fvar%2Frun%2Fpostgresql/db", {"host": "/var/run/postgresql", "dbname": "db"}),
        ("host=h user=u password='a b\\'c' dbname=d", {"host": "h", "user": "u", "password": "a b'c", "dbname": "d"}),
        ("host = h  port=5432 password=x\\ y", {"host": "h", "port": "5432", "password": "x y"}),
    ],
)
def test_connection_strings(conn, expected):
    assert parse(conn) == expected


@pytest.mark.parametrize(
    "conn, message",
    [
        ("", "empty"),
        ("not a connection string", "neither a postgres:// URI"),
        ("host='unterminated", "unterminated"),
        ("postgres://u:secret-pw@h:port/db", "invalid port"),
        ("postgres://h/db?sslmode", "without '='"),
    ],
)
def test_bad_connection_strings_fail_without_the_string(conn, message):
    with pytest.raises(PostgresError, match=message) as err:
        parse(conn)
    assert "secret-pw" not in str(err.value)


def test_secrets_are_scrubbed_in_every_form():
    conn = "postgres://u:s3cr%40t%3Apw@h:5432/db"
    assert set(secrets_of(conn)) == {"s3cr@t:pw", "s3cr%40t%3Apw"}
    assert scrub("failed for s3cr@t:pw and s3cr%40t%3Apw", secrets_of(conn)) == "failed for ******** and ********"
    assert describe(parse(conn)) == "u@h:5432/db"


@pytest.mark.parametrize(
    "value, expected",
    [
        ('"$user", public, heroku_ext', ["$user", "public", "heroku_ext"]),
        ('public,"Odd ""Name""", x', ["public", 'Odd "Name"', "x"]),
        ("", []),
    ],
)
def test_list_settings(value, expected):
    assert parse_list_setting(value) == expected

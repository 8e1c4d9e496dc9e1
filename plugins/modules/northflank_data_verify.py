#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_data_verify
short_description: Verify that a PostgreSQL database on Northflank holds exactly the data of its Heroku source
version_added: 1.0.0
description:
  - Compares two PostgreSQL databases, the Heroku source and the Northflank target of a data cut-over, table by table,
    and fails naming every table, sequence and extension that differs.
  - "Per table (every ordinary table and partition outside the system schemas and outside extensions): the row count,
    and a checksum of the content: the sum, over all rows, of the MD5 of each row's text. The sum does not depend on the
    order of the rows, needs no sort and constant memory (one sequential scan per table), and a changed, missing or
    extra row changes it. Both sides are read with the same output settings (UTC, ISO dates, exact floats, hex bytea) in
    one read-only, repeatable-read transaction each, source and target at the same time. Partitioned tables are compared
    partition by partition; views are not data, and materialized views are not compared (a restore refreshes them, so
    they may rightly differ from a stale source)."
  - Sequences are compared by their last value, extensions by name and schema (a different version is reported, not a
    failure), and the C(search_path) a new session gets (Heroku puts extensions such as citext in schema C(heroku_ext),
    found through it; see M(herokumigrate.northflank.northflank_data_search_path)).
  - Returns verdicts and names only, never a value of the data or a connection string. Reads only; never changes
    anything.
  - Needs C(psql) (package C(postgresql-client)) on the host the module runs on; see O(psql_path). The connection
    strings reach psql through temporary files of mode 0600, removed after each run, never through its command line.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.postgres
options:
  source:
    description:
      - Connection string of the source database (Heroku's C(DATABASE_URL)), as a URI or as keyword=value pairs.
    type: str
    required: true
  target:
    description:
      - Connection string of the target database (the Northflank addon's C(POSTGRES_URI) or its external connection
        string).
    type: str
    required: true
  checks:
    description:
      - What to compare. V(rows) counts rows; V(content) also checksums every row (a full read of every table).
    type: list
    elements: str
    choices: [rows, content, sequences, extensions, search_path]
    default: [rows, content, sequences, extensions, search_path]
  schemas:
    description:
      - Compare only the tables and sequences of these schemas. Default, every schema but PostgreSQL's own.
    type: list
    elements: str
    default: []
  exclude_tables:
    description:
      - Tables not to compare, as C(schema.table).
    type: list
    elements: str
    default: []
  fail_on_difference:
    description:
      - Fail when anything differs. With V(false) the differences are only returned.
    type: bool
    default: true
  query_timeout:
    description:
      - Seconds each database may take to answer all its queries.
    type: int
    default: 3600
notes:
  - The Northflank connection options (O(api_token)...) are accepted, and unused, so that C(module_defaults) for
    C(group/herokumigrate.northflank.northflank) apply to this module as to the others of the group.
  - The checksums rely on both servers printing values the same way, which holds between PostgreSQL 12 and later
    versions (floats print differently before 12).
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    description: Reports no diff; it changes nothing.
    support: none
"""

EXAMPLES = r"""
- name: Verify the restored data before switching the app
  herokumigrate.northflank.northflank_data_verify:
    source: "{{ heroku_database_url }}"
    target: "{{ northflank_postgres_uri }}"
  register: verified

- name: Count rows only (fast, for a first look at a very large database)
  herokumigrate.northflank.northflank_data_verify:
    source: "{{ heroku_database_url }}"
    target: "{{ northflank_postgres_uri }}"
    checks: [rows, sequences, extensions]
    exclude_tables: [public.sessions]
    fail_on_difference: false
"""

RETURN = r"""
tables:
  description: One verdict per table of either side, by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: C(schema.table).
      type: str
    verdict:
      description: V(same), V(rows differ), V(content differs), V(missing in target) or V(only in target).
      type: str
    rows_source:
      description: Rows in the source (null when the table is not there).
      type: int
    rows_target:
      description: Rows in the target (null when the table is not there).
      type: int
  sample: [{name: public.users, verdict: same, rows_source: 1200, rows_target: 1200}]
sequences:
  description: One verdict per sequence (V(same), V(differs), V(missing in target), V(only in target)); values are not
    returned.
  returned: always
  type: list
  elements: dict
  sample: [{name: public.users_id_seq, verdict: same}]
extensions:
  description: Each extension with its version and schema on both sides (null where it is not installed), and a verdict.
  returned: always
  type: list
  elements: dict
  sample: [{name: citext, verdict: same, source: "1.6 in heroku_ext", target: "1.6 in heroku_ext"}]
search_path:
  description: The search_path of a new session on each side, and a verdict.
  returned: always
  type: dict
  sample: {verdict: same, source: '"$user", public, heroku_ext', target: '"$user", public, heroku_ext'}
differences:
  description: Everything that differs, one line each, names only. Empty when the databases match.
  returned: always
  type: list
  elements: str
  sample: ["table public.users: content differs"]
summary:
  description: Counts, and the seconds the comparison took.
  returned: always
  type: dict
  sample: {tables: 12, tables_differ: 0, rows: 120000, sequences: 10, extensions: 3, differences: 0, seconds: 4.2}
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils import northflank, postgres
from ansible_collections.herokumigrate.northflank.plugins.module_utils.postgres import ident, literal

SYSTEM_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
)
NOT_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "AND d.objid = c.oid AND d.deptype = 'e')"
)
# The same text for the same values on both sides, whatever each server's or database's defaults.
SESSION = (
    "SET search_path = pg_catalog; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
    "SET extra_float_digits = 3; SET bytea_output = 'hex'; SET lc_monetary = 'C'; SET statement_timeout = 0;\n"
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n"
)


def catalog_sql(schemas):
    only = " AND n.nspname IN (%s)" % ", ".join(literal(s) for s in schemas) if schemas else ""
    return "\n".join(
        (
            # a new session's search_path, read before anything sets it
            "SELECT 'search_path', pg_catalog.current_setting('search_path');",
            SESSION,
            "SELECT 'table', n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND %s AND %s%s ORDER BY 2, 3;" % (SYSTEM_SCHEMAS, NOT_EXTENSION, only),
            "SELECT 'sequence', n.nspname, c.relname, coalesce(pg_sequence_last_value(c.oid)::text, '') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'S' AND %s AND %s%s ORDER BY 2, 3;"
            % (SYSTEM_SCHEMAS, NOT_EXTENSION, only),
            "SELECT 'extension', e.extname, e.extversion, n.nspname "
            "FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 2;",
            "COMMIT;",
        )
    )


def tables_sql(tables, content):
    """One row per table: name, rows and (with ``content``) the two 64-bit halves of the sum of the rows' MD5s."""
    lines = [SESSION]
    for schema, table in tables:
        source = "%s.%s" % (ident(schema), ident(table))
        if content:
            lines.append(
                "SELECT %s, count(*), coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint), 0), "
                "coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint), 0) "
                "FROM (SELECT md5(ROW(r.*)::text) AS h FROM %s AS r) AS q;"
                % (literal("%s.%s" % (schema, table)), source)
            )
        else:
            lines.append("SELECT %s, count(*) FROM %s;" % (literal("%s.%s" % (schema, table)), source))
    lines.append("COMMIT;")
    return "\n".join(lines)


def read_catalog(rows):
    found = {"search_path": None, "tables": [], "sequences": {}, "extensions": {}}
    for row in rows:
        kind = row[0]
        if kind == "search_path":
            found["search_path"] = row[1]
        elif kind == "table":
            found["tables"].append((row[1], row[2]))
        elif kind == "sequence":
            found["sequences"]["%s.%s" % (row[1], row[2])] = row[3]
        elif kind == "extension":
            found["extensions"][row[1]] = (row[2], row[3])
    return found


def side_verdict(name, source, target):
    if name not in target:
        return "missing in target"
    if name not in source:
        return "only in target"
    return "same" if source[name] == target[name] else "differs"


def compare(module, source_db, target_db):
    params = module.params
    checks = set(params["checks"])
    excluded = set(params["exclude_tables"])
    timeout = params["query_timeout"]
    src, dst = (
        read_catalog(rows)
        for rows in postgres.query_all(
            [(source_db, catalog_sql(params["schemas"])), (target_db, catalog_sql(params["schemas"]))], timeout
        )
    )
    result = {"tables": [], "sequences": [], "extensions": [], "search_path": {}, "differences": []}
    differences = result["differences"]

    if checks & {"rows", "content"}:
        src_tables = [t for t in src["tables"] if "%s.%s" % t not in excluded]
        dst_tables = [t for t in dst["tables"] if "%s.%s" % t not in excluded]
        content = "content" in checks
        src_rows, dst_rows = postgres.query_all(
            [(source_db, tables_sql(src_tables, content)), (target_db, tables_sql(dst_tables, content))], timeout
        )
        src_stats, dst_stats = dict((r[0], r[1:]) for r in src_rows), dict((r[0], r[1:]) for r in dst_rows)
        for name in sorted(set(src_stats) | set(dst_stats)):
            here, there = src_stats.get(name), dst_stats.get(name)
            if there is None:
                verdict = "missing in target"
            elif here is None:
                verdict = "only in target"
            elif here[0] != there[0]:
                verdict = "rows differ"
            elif content and here[1:] != there[1:]:
                verdict = "content differs"
            else:
                verdict = "same"
            result["tables"].append(
                {
                    "name": name,
                    "verdict": verdict,
                    "rows_source": int(here[0]) if here else None,
                    "rows_target": int(there[0]) if there else None,
                }
            )
            if verdict != "same":
                differences.append("table %s: %s" % (name, verdict))

    if "sequences" in checks:
        for name in sorted(set(src["sequences"]) | set(dst["sequences"])):
            verdict = side_verdict(name, src["sequences"], dst["sequences"])
            result["sequences"].append({"name": name, "verdict": verdict})
            if verdict != "same":
                differences.append("sequence %s: %s" % (name, verdict))

    if "extensions" in checks:
        for name in sorted(set(src["extensions"]) | set(dst["extensions"])):
            here, there = src["extensions"].get(name), dst["extensions"].get(name)
            verdict = side_verdict(name, src["extensions"], dst["extensions"])
            if verdict == "differs":
                # another version of the same extension is expected across servers: only the schema matters
                verdict = "other version" if here[1] == there[1] else "other schema"
            result["extensions"].append(
                {
                    "name": name,
                    "verdict": verdict,
                    "source": "%s in %s" % here if here else None,
                    "target": "%s in %s" % there if there else None,
                }
            )
            if verdict not in ("same", "other version"):
                differences.append("extension %s: %s" % (name, verdict))

    if "search_path" in checks:
        same = postgres.parse_list_setting(src["search_path"]) == postgres.parse_list_setting(dst["search_path"])
        result["search_path"] = {
            "verdict": "same" if same else "differs",
            "source": src["search_path"],
            "target": dst["search_path"],
        }
        if not same:
            differences.append(
                "search_path: source %s, target %s (see northflank_data_search_path)"
                % (src["search_path"], dst["search_path"])
            )
    return result


def main():
    options = northflank.argument_spec()
    options.update(postgres.connection_argument_spec())
    options.update(
        source=dict(type="str", required=True, no_log=True),
        target=dict(type="str", required=True, no_log=True),
        checks=dict(
            type="list",
            elements="str",
            choices=["rows", "content", "sequences", "extensions", "search_path"],
            default=["rows", "content", "sequences", "extensions", "search_path"],
        ),
        schemas=dict(type="list", elements="str", default=[]),
        exclude_tables=dict(type="list", elements="str", default=[]),
        fail_on_difference=dict(type="bool", default=True),
        query_timeout=dict(type="int", default=3600),
    )
    module = AnsibleModule(argument_spec=options, supports_check_mode=True)
    params = module.params
    started = time.time()
    try:
        source_db = postgres.Psql(params["source"], "source", params["psql_path"], params["connect_timeout"])
        target_db = postgres.Psql(params["target"], "target", params["psql_path"], params["connect_timeout"])
        result = compare(module, source_db, target_db)
    except postgres.PostgresError as exc:
        module.fail_json(msg="Could not compare the databases: %s" % exc)
    tables = result["tables"]
    result["summary"] = {
        "tables": len(tables),
        "tables_differ": sum(1 for t in tables if t["verdict"] != "same"),
        "rows": sum(t["rows_source"] or 0 for t in tables),
        "sequences": len(result["sequences"]),
        "extensions": len(result["extensions"]),
        "differences": len(result["differences"]),
        "seconds": round(time.time() - started, 3),
    }
    if result["differences"] and params["fail_on_difference"]:
        module.fail_json(
            msg="The target differs from the source: %s" % "; ".join(result["differences"]), changed=False, **result
        )
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()

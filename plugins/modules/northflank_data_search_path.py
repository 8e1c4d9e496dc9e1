#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_data_search_path
short_description: Put Heroku's heroku_ext schema on a restored database's search_path
version_added: 1.0.0
description:
  - Heroku installs extensions such as C(citext), C(pg_trgm) or C(hstore) in the schema C(heroku_ext) and puts that
    schema on its databases' C(search_path). A dump carries the schema, the extensions and the columns typed with them,
    but not the C(search_path), which is a setting of the database. After a restore elsewhere the types still resolve
    (they are schema-qualified) but their operators and functions are not found, and PostgreSQL quietly falls back to
    C(text)'s; a C(citext) column then compares case-sensitively, C(similarity()) is missing.
  - This module sets C(ALTER DATABASE <db> SET search_path = "$user", public, heroku_ext) (O(search_path)) on the
    target, only when the schema O(if_schema_exists) exists there and the database's setting is not already that.
    Idempotent.
  - The setting applies to new sessions; restart the app (the cut-over switches it afterwards anyway). A setting of the
    connecting role (C(ALTER ROLE ... SET search_path)) would override it; the module then warns.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.postgres
options:
  url:
    description:
      - Connection string of the target database, as its owner (the Northflank addon's admin connection string).
    type: str
    required: true
    aliases: [target]
  search_path:
    description:
      - The search_path the database gets, in order. V($user) is the schema named like the connecting role.
    type: list
    elements: str
    default: ["$user", public, heroku_ext]
  if_schema_exists:
    description:
      - Set the search_path only when this schema exists in the database; nothing to do otherwise (a database that did
        not come from Heroku, or that had no extension there). An empty string sets it unconditionally.
    type: str
    default: heroku_ext
  database:
    description:
      - The database to alter. Default, the one the connection string names.
    type: str
notes:
  - The Northflank connection options (O(api_token)...) are accepted, and unused, so that C(module_defaults) for
    C(group/herokumigrate.northflank.northflank) apply to this module as to the others of the group.
attributes:
  check_mode:
    support: full
    description: Reads the setting and reports what would change; alters nothing.
  diff_mode:
    support: full
    description: The database's search_path setting before and after.
"""

EXAMPLES = r"""
- name: Make heroku_ext's operators found again after the restore
  herokumigrate.northflank.northflank_data_search_path:
    url: "{{ northflank_postgres_uri }}"
"""

RETURN = r"""
database:
  description: The database altered (or that would be).
  returned: always
  type: str
  sample: d9heroku
schema_exists:
  description: Whether O(if_schema_exists) exists (true when it is empty).
  returned: always
  type: bool
before:
  description: The database's own search_path setting before the task, as a list; null when it had none.
  returned: always
  type: list
  elements: str
  sample: null
after:
  description: The database's search_path setting after the task (in check mode, what it would be).
  returned: always
  type: list
  elements: str
  sample: ["$user", public, heroku_ext]
effective:
  description: The search_path a new session of the connecting role gets after the task (not read again in check mode).
  returned: always
  type: str
  sample: '"$user", public, heroku_ext'
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils import northflank, postgres
from ansible_collections.herokumigrate.northflank.plugins.module_utils.postgres import ident, literal


def read(db, database, schema):
    sql = "\n".join(
        (
            "SELECT 'effective', pg_catalog.current_setting('search_path');",
            "SELECT 'database', %s;" % ("pg_catalog.current_database()" if database is None else literal(database)),
            "SELECT 'exists', %s;"
            % (
                "true"
                if not schema
                else "EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s)" % literal(schema)
            ),
            "SELECT 'setting', s.cfg FROM pg_catalog.pg_db_role_setting r "
            "CROSS JOIN LATERAL pg_catalog.unnest(r.setconfig) AS s(cfg) "
            "WHERE r.setrole = 0 AND r.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = %s) "
            "AND s.cfg LIKE 'search\\_path=%%';"
            % ("pg_catalog.current_database()" if database is None else literal(database)),
            "SELECT 'role_setting', s.cfg FROM pg_catalog.pg_db_role_setting r "
            "CROSS JOIN LATERAL pg_catalog.unnest(r.setconfig) AS s(cfg) "
            "WHERE r.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) "
            "AND s.cfg LIKE 'search\\_path=%';",
        )
    )
    found = {"setting": None, "role_setting": None}
    for row in db.query(sql):
        found[row[0]] = row[1]
    found["exists"] = found.get("exists") == "t"
    if found["setting"] is not None:
        found["setting"] = postgres.parse_list_setting(found["setting"].split("=", 1)[1])
    return found


def main():
    options = northflank.argument_spec()
    options.update(postgres.connection_argument_spec())
    options.update(
        url=dict(type="str", required=True, no_log=True, aliases=["target"]),
        search_path=dict(type="list", elements="str", default=["$user", "public", "heroku_ext"]),
        if_schema_exists=dict(type="str", default="heroku_ext"),
        database=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=options, supports_check_mode=True)
    params = module.params
    wanted = [item.strip() for item in params["search_path"] if item.strip()]
    if not wanted:
        module.fail_json(msg="search_path must name at least one schema")
    try:
        db = postgres.Psql(params["url"], "target", params["psql_path"], params["connect_timeout"])
        found = read(db, params["database"], params["if_schema_exists"])
        result = dict(
            changed=False,
            database=found["database"],
            schema_exists=found["exists"],
            before=found["setting"],
            after=found["setting"],
            effective=found["effective"],
        )
        if found["exists"] and found["setting"] != wanted:
            result.update(changed=True, after=wanted)
            if not module.check_mode:
                db.query(
                    "ALTER DATABASE %s SET search_path = %s;"
                    % (ident(found["database"]), ", ".join(ident(s) for s in wanted))
                )
                again = read(db, params["database"], params["if_schema_exists"])
                result.update(after=again["setting"], effective=again["effective"])
                found = again
        if module._diff:
            result["diff"] = {"before": {"search_path": result["before"]}, "after": {"search_path": result["after"]}}
    except postgres.PostgresError as exc:
        message = str(exc)
        if "must be owner of database" in message:
            message += "; connect as the database's owner (the addon's admin connection string)"
        module.fail_json(msg="Could not set the search_path: %s" % message)
    if found["role_setting"] is not None and found["exists"]:
        module.warn(
            "the connecting role has its own search_path (%s), which overrides the database's for its sessions"
            % found["role_setting"].split("=", 1)[1]
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()

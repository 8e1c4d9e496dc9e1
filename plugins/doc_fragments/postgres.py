# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """How the modules that reach PostgreSQL run psql."""

    DOCUMENTATION = r"""
options:
  psql_path:
    description:
      - The C(psql) program to run. Default, C(psql) on E(PATH).
      - C(psql) comes with PostgreSQL's client package (C(postgresql-client) on Debian and Ubuntu, C(postgresql) on
        RHEL); any version from 12 on reaches servers of other versions.
    type: path
  connect_timeout:
    description:
      - Seconds to wait for a connection, unless the connection string sets C(connect_timeout) itself.
    type: int
    default: 10
requirements:
  - psql (PostgreSQL client) on the host the module runs on
notes:
  - Connection strings are URIs (V(postgres://user:password@host:5432/db?sslmode=require), as Heroku and Northflank give
    them, percent-encoded) or keyword=value pairs. Every parameter libpq knows may be given (C(sslmode),
    C(sslrootcert)...); the environment's E(PGHOST), E(PGPASSWORD)... are not used.
  - The password reaches psql in a temporary password file of mode 0600, removed after the run; it is never on a command
    line, in the output or in an error message.
"""

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """What every Northflank resource module shares: state, check mode, diff, idempotency."""

    DOCUMENTATION = r"""
options:
  state:
    description:
      - V(present) creates the resource or updates what differs; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    description: Sends no write request; reports what would be created, changed or deleted.
    support: full
  diff_mode:
    description: Shows the changed keys before and after, with secret values masked.
    support: full
  idempotent:
    description: Compares only what the task sets with what Northflank holds; a re-run that finds nothing different
      sends no write.
    support: full
notes:
  - Secret values (variables, build arguments, connection strings) never appear in the output, the diff or the logs.
"""

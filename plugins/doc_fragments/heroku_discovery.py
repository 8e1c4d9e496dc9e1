# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """Options and attributes of the Heroku discovery modules (``discovery_argument_spec()`` in heroku_discovery.py)."""

    DOCUMENTATION = r"""
options:
  config_var_values:
    description:
      - Return the values of the config vars (of each app). The names and their classes are always returned.
      - The whole task result is then hidden from output, as with C(no_log); register it and use it in later tasks.
    type: bool
    default: false
  scheduler_url:
    description:
      - Base URL of the Heroku Scheduler API used by Heroku's Dashboard (not part of the Platform API).
      - If not set, the environment variable E(HEROKU_SCHEDULER_API_URL) is used, then
        V(https://particleboard.heroku.com).
      - The scheduler is read on a best-effort basis; when it cannot be read the module warns and reports the jobs as
        unknown.
    type: str
    default: https://particleboard.heroku.com
  inventory_snapshot:
    description:
      - What the C(herokumigrate.northflank.heroku) inventory read of the unit, its host variable C(heroku_snapshot)
        (C(read_at), C(from_cache), C(pipeline), and per app C(app), C(formation) and C(pipeline) with the stage).
      - When given, recent enough (O(snapshot_max_age)), not served from the inventory cache and of this app or
        pipeline, it stands for the app, formation, pipeline coupling and pipeline reads, which are then not sent.
        Otherwise it is ignored and everything is read (RV(inventory_snapshot) says why).
    type: dict
  snapshot_max_age:
    description:
      - Age in seconds beyond which O(inventory_snapshot) is ignored and the unit read again. V(0) never uses it.
    type: int
    default: 1800
attributes:
  check_mode:
    description: Reads only, so it runs the same in check mode.
    support: full
  diff_mode:
    description: Reports no diff; it changes nothing.
    support: none
"""

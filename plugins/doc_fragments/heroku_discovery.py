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
attributes:
  check_mode:
    description: Reads only, so it runs the same in check mode.
    support: full
  diff_mode:
    description: Reports no diff; it changes nothing.
    support: none
"""

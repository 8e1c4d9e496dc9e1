# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs northflank_secret_group, in the task's worker process when it would run on this controller anyway
(plugins/plugin_utils/in_process.py)."""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.plugin_utils.in_process import ModuleAction


class ActionModule(ModuleAction):
    pass

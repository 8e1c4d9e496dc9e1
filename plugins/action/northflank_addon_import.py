# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs northflank_addon_import in slices of progress_interval seconds, so that its wait shows as progress lines."""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.plugin_utils.progress import ProgressAction


class ActionModule(ProgressAction):
    pass

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hides the result of heroku_app_info from output when it carries config var values."""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.plugin_utils.secret_result import SecretResultAction


class ActionModule(SecretResultAction):
    pass

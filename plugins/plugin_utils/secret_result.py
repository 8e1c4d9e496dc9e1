# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of modules that can return secrets (Heroku discovery with config var values, addon
credentials): runs the module of the same name and hides its whole result from output when the
option named by ``secret_option`` asks for the secrets. A module cannot mark its own return values
as secret; an action plugin can."""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.herokumigrate.northflank.plugins.plugin_utils.in_process import ModuleAction


class SecretResultAction(ModuleAction):
    _supports_async = False
    # The boolean option that makes the module return secret values.
    secret_option = "config_var_values"

    def run(self, tmp=None, task_vars=None):
        result = super(SecretResultAction, self).run(tmp, task_vars)
        # A failure carries no values, and its message is what the user needs to see.
        if boolean(self._task.args.get(self.secret_option, False), strict=False) and not result.get("failed"):
            result["_ansible_no_log"] = True
        return result

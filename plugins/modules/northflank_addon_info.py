#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_addon_info
short_description: Read a Northflank addon and, on request, its connection details
version_added: 1.0.0
description:
  - Returns an addon of a Northflank project as the API returns it, or nothing when it does not exist.
  - With O(credentials=true), also returns the addon's connection details (C(GET .../credentials)). The whole task
    result is then hidden from output, as with C(no_log), at every verbosity and with C(--diff); register it and use it
    in later tasks, which should carry C(no_log) themselves when they print or pass on the values.
  - Sends only GET requests.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
options:
  project:
    description:
      - ID of the project holding the addon.
    type: str
    required: true
  name:
    description:
      - Name (or ID) of the addon.
    type: str
    required: true
  credentials:
    description:
      - Also return the addon's connection details under RV(credentials). Hides the task's result from output.
    type: bool
    default: false
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so shows no diff.
    support: none
notes:
  - Ansible masks in output only values equal to C(no_log) I(inputs), never values a module returns; that is why the
    result is hidden as a whole by this module's action plugin when it holds credentials.
"""

EXAMPLES = r"""
- name: Read the database addon
  herokumigrate.northflank.northflank_addon_info:
    project: acme-web
    name: acme-web-db
  register: db

- name: Read its connection details (the result is hidden from output)
  herokumigrate.northflank.northflank_addon_info:
    project: acme-web
    name: acme-web-db
    credentials: true
  register: db_access

- name: Use them without printing them
  ansible.builtin.set_fact:
    database_url: "{{ db_access.credentials.envs.POSTGRES_URI }}"
  no_log: true
"""

RETURN = r"""
addon:
  description: The addon as the Northflank API returns it, or V(null) when it does not exist. Holds no credentials.
  returned: always
  type: dict
  sample:
    id: acme-web-db
    name: acme-web-db
    status: running
    spec:
      type: postgresql
credentials:
  description:
    - The addon's connection details as Northflank returns them; C(secrets) holds user names, passwords and keys,
      C(envs) every connection value (for example C(POSTGRES_URI)) under the names a secret group can link.
    - Secret. The task result that holds them is never printed.
  returned: when O(credentials=true) and the addon exists
  type: dict
  sample:
    secrets: {username: "********", password: "********"}
    envs: {HOST: primary.acme-web-db.addon.code.run, PORT: "5432", POSTGRES_URI: "********"}
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_module import NorthflankModule
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import derive_id

ADDON = "/v1/projects/{project}/addons/{addon}"


class AddonInfo(NorthflankModule):
    kind = "addon"

    def _run(self):
        route = dict(project=self.params["project"], addon=derive_id(self.params["name"]))
        addon = self.client.get_or_none(ADDON, **route)
        result = dict(changed=False, addon=addon)
        if addon is not None and self.params["credentials"]:
            result["credentials"] = self.client.get(ADDON + "/credentials", **route)
        return result


def main():
    spec = AddonInfo.spec(
        project=dict(type="str", required=True),
        name=dict(type="str", required=True),
        credentials=dict(type="bool", default=False, no_log=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    AddonInfo(module).run()


if __name__ == "__main__":
    main()

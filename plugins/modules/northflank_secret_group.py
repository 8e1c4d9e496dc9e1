#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_secret_group
short_description: Create, update or delete a Northflank secret group
version_added: 1.0.0
description:
  - Ensures a secret group exists in a Northflank project with the given variables, restrictions and addon links, or is
    absent.
  - Variable values are secrets; they are never printed, and the diff only says which keys were added, removed or
    changed.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.northflank_resource
options:
  project:
    description:
      - ID of the project holding the secret group.
    type: str
    required: true
  name:
    description:
      - Name of the secret group, 3 to 100 letters, digits and single hyphens or spaces.
    type: str
    required: true
  description:
    description:
      - Description of the secret group.
    type: str
  secret_type:
    description:
      - Where the variables are available. V(runtime) for running services and jobs, V(build) as build arguments,
        V(both) for both.
    type: str
    choices: [runtime, build, both]
    default: runtime
  priority:
    description:
      - Priority when several groups set the same variable; the higher one wins.
    type: int
    default: 10
  variables:
    description:
      - The variables of the group, as a map of names to values. Values are secret.
      - The group then holds exactly these variables. Omit to leave the variables of an existing group alone.
    type: dict
  restricted_to:
    description:
      - Services and jobs that inherit the group. Without it, every service and job of the project inherits it.
    type: list
    elements: dict
    suboptions:
      id:
        description: ID of the service or job.
        type: str
        required: true
      type:
        description: Kind of the object.
        type: str
        choices: [service, job]
        default: service
  addon_links:
    description:
      - Connection details of addons exposed through the group, each under its own name and optional aliases.
    type: list
    elements: dict
    suboptions:
      addon:
        description: ID of the addon.
        type: str
        required: true
      keys:
        description: The addon's keys to expose.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description: Name of the key the addon provides, for example V(POSTGRES_URI).
            type: str
            required: true
          aliases:
            description: Further names for the same value, for example V(DATABASE_URL).
            type: list
            elements: str
  tags:
    description:
      - Tags of the secret group.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Runtime variables of the Heroku app, shared by its web and worker services
  herokumigrate.northflank.northflank_secret_group:
    project: acme-web
    name: acme-web-env
    secret_type: runtime
    variables: "{{ heroku_app.config_vars }}"
    restricted_to:
      - id: acme-web-web
      - id: acme-web-worker
    addon_links:
      - addon: acme-web-db
        keys:
          - name: POSTGRES_URI
            aliases: [DATABASE_URL]
  no_log: true
"""

RETURN = r"""
secret_group:
  description: The secret group as Northflank returns it, with every variable value masked.
  returned: when O(state=present)
  type: dict
  sample:
    id: acme-web-env
    name: acme-web-env
    secretType: environment
    secrets:
      variables:
        SECRET_KEY_BASE: "********"
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank import NorthflankError
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import (
    GROUP_NAME, NorthflankResource, check_name, derive_id)

SECRETS = "/v1/projects/{project}/secrets"
SECRET = SECRETS + "/{secret}"
LINK = SECRET + "/addons/{addon}"
SECRET_TYPES = {"runtime": "environment", "build": "arguments", "both": "environment-arguments"}


class SecretGroup(NorthflankResource):
    kind = "secret group"
    result_key = "secret_group"
    secret_paths = ("secrets.variables",)
    exact_paths = ("secrets.variables",)

    def validate(self):
        return check_name(self.params["name"], "secret group", pattern=GROUP_NAME, max_len=100)

    def read(self):
        # Without ``show``, the GET adds the linked addons' values to secrets.variables; ``show=this`` answers only the
        # group's own, which is what the task sets and compares (https://northflank.com/docs/v1/api/secrets/get-secret).
        try:
            return self.client.get(SECRET, query=dict(show="this"), project=self.params["project"], secret=derive_id(self.params["name"]))
        except NorthflankError as exc:
            if exc.status == 404:
                return None
            raise

    def desired(self):
        params = self.params
        body = dict(name=params["name"], description=params["description"],
                    secretType=SECRET_TYPES[params["secret_type"]], priority=params["priority"], tags=params["tags"])
        if params["variables"] is not None:
            body["secrets"] = dict(variables=dict((k, "" if v is None else str(v)) for k,
                                                  v in params["variables"].items()))
        if params["restricted_to"] is not None:
            body["restrictions"] = dict(restricted=bool(params["restricted_to"]),
                                        nfObjects=[dict(id=o["id"], type=o["type"]) for o in params["restricted_to"]])
        if params["addon_links"] is not None:
            body["addonDependencies"] = [dict(addonId=link["addon"],
                                              keys=[dict(keyName=k["name"], aliases=k.get("aliases") or [])
                                                    for k in link["keys"]]) for link in params["addon_links"]]
        return body

    def view(self, current):
        view = dict((k, current.get(k))
                    for k in ("name", "description", "secretType", "priority", "tags", "restrictions"))
        view["secrets"] = dict(variables=(current.get("secrets") or {}).get("variables", {}))
        if self.params["addon_links"] is not None:
            # Addon links are not part of the group's GET: read the link of each addon the task names.
            view["addonDependencies"] = []
            for link in self.params["addon_links"]:
                state = self.client.get_or_none(LINK, project=self.params["project"], secret=current["id"],
                                                addon=link["addon"]) or {}
                keys = [dict(keyName=k["keyName"], aliases=k.get("aliases") or [])
                        for k in state.get("linkedKeys") or []]
                view["addonDependencies"].append(dict(addonId=link["addon"], keys=keys))
        return view

    def create(self, body):
        return self.client.put(SECRETS, body, project=self.params["project"])

    def update(self, body, changes, current):
        keys = set(p.split(".")[0] for p in changes)
        patch = dict((k, body[k]) for k in keys if k in body)
        return self.client.patch(SECRET, patch, project=self.params["project"], secret=current["id"])

    def delete(self, current):
        self.client.delete(SECRET, project=self.params["project"], secret=current["id"])


def main():
    module = AnsibleModule(
        argument_spec=SecretGroup.spec(
            project=dict(type="str", required=True),
            name=dict(type="str", required=True),
            description=dict(type="str"),
            secret_type=dict(type="str", default="runtime", choices=list(SECRET_TYPES)),
            priority=dict(type="int", default=10),
            variables=dict(type="dict", no_log=True),
            restricted_to=dict(type="list", elements="dict", options=dict(
                id=dict(type="str", required=True),
                type=dict(type="str", default="service", choices=["service", "job"]),
            )),
            addon_links=dict(type="list", elements="dict", options=dict(
                addon=dict(type="str", required=True),
                keys=dict(type="list", elements="dict", required=True, no_log=False, options=dict(
                    name=dict(type="str", required=True),
                    aliases=dict(type="list", elements="str"),
                )),
            )),
            tags=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    SecretGroup(module).run()


if __name__ == "__main__":
    main()

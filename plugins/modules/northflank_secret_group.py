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
      - The group then holds exactly these variables (see O(variables_purge)). Omit to leave the variables of an
        existing group alone.
    type: dict
  variables_purge:
    description:
      - With V(true), the group holds exactly O(variables). With V(false), O(variables) are added or updated and the
        group's other variables are kept (the rollback of a cut-over puts the copied connection strings back this way).
    type: bool
    default: true
  remove_variables:
    description:
      - Names of variables the group must not hold; the others are kept (with O(variables) given, they are removed from
        it too). Names only, no values.
      - The switch of a cut-over drops the copied Heroku connection strings (V(DATABASE_URL), V(REDIS_URL)) and links
        the new addons under the same names (O(addon_links) aliases) in one write, since Northflank's variables of a
        group and the aliases of its links share one namespace.
      - A name both here and in O(variables) is refused.
    type: list
    elements: str
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
      - The group then has exactly these links; V([]) unlinks every addon. Omit to leave the links alone.
      - An alias may not be the name of one of the group's own variables (list that variable in O(remove_variables))
        nor an alias of another link; the task fails before any write otherwise.
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

- name: "Cut-over switch: drop the copied Heroku connection string, link the new database under the same name"
  herokumigrate.northflank.northflank_secret_group:
    project: acme-web
    name: acme-web-env
    remove_variables: [DATABASE_URL]
    addon_links:
      - addon: acme-web-db
        keys:
          - name: POSTGRES_URI
            aliases: [DATABASE_URL]

- name: "Rollback: unlink the addon, put the Heroku connection string back, keep every other variable"
  herokumigrate.northflank.northflank_secret_group:
    project: acme-web
    name: acme-web-env
    variables:
      DATABASE_URL: "{{ heroku_database_url }}"
    variables_purge: false
    addon_links: []
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
    GROUP_NAME, NorthflankResource, check_name, derive_id, get_path)

SECRETS = "/v1/projects/{project}/secrets"
SECRET = SECRETS + "/{secret}"
LINK = SECRET + "/addons/{addon}"
SECRET_TYPES = {"runtime": "environment", "build": "arguments", "both": "environment-arguments"}


class SecretGroup(NorthflankResource):
    kind = "secret group"
    result_key = "secret_group"
    secret_paths = ("secrets.variables",)
    exact_paths = ("secrets.variables",)

    current = None

    def validate(self):
        both = sorted(set(self.params["remove_variables"] or []) & set(self.params["variables"] or {}))
        if both:
            return "variables to both set and remove: %s" % ", ".join(both)
        return check_name(self.params["name"], "secret group", pattern=GROUP_NAME, max_len=100)

    def read(self):
        # Without ``show``, the GET adds the linked addons' values to secrets.variables; ``show=this`` answers only the
        # group's own, which is what the task sets and compares (https://northflank.com/docs/v1/api/secrets/get-secret).
        try:
            self.current = self.client.get(SECRET, query=dict(show="this"), project=self.params["project"],
                                           secret=derive_id(self.params["name"]))
        except NorthflankError as exc:
            if exc.status == 404:
                return None
            raise
        return self.current

    def own_variables(self):
        return dict(((self.current or {}).get("secrets") or {}).get("variables") or {})

    def wanted_variables(self):
        """The group's own variables after the task, or None to leave them alone."""
        params = self.params
        if params["variables"] is None and not params["remove_variables"]:
            return None
        given = dict((k, "" if v is None else str(v)) for k, v in (params["variables"] or {}).items())
        if params["variables"] is None or not params["variables_purge"]:
            given = dict(self.own_variables(), **given)
        return dict((k, v) for k, v in given.items() if k not in (params["remove_variables"] or []))

    def desired(self):
        params = self.params
        body = dict(name=params["name"], description=params["description"],
                    secretType=SECRET_TYPES[params["secret_type"]], priority=params["priority"], tags=params["tags"])
        variables = self.wanted_variables()
        if variables is not None:
            body["secrets"] = dict(variables=variables)
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
            view["addonDependencies"] = self.linked(current["id"])
        return view

    def linked(self, secret_id):
        """The group's links: those of the addons the task names, in its order, then any other linked addon.

        Links are not part of the group's GET; its C(/details) lists the linked addons (their values are not read
        further), and C(GET /secrets/{id}/addons/{addonId}) each link's keys and aliases."""
        project = self.params["project"]
        named = [link["addon"] for link in self.params["addon_links"]]
        details = self.client.get(SECRET + "/details", project=project, secret=secret_id) or {}
        others = [a["id"] for a in details.get("addonSecrets") or [] if a.get("id") not in named]
        links = []
        for addon in named + others:
            state = self.client.get_or_none(LINK, project=project, secret=secret_id, addon=addon) or {}
            keys = [dict(keyName=k["keyName"], aliases=k.get("aliases") or []) for k in state.get("linkedKeys") or []]
            if keys or addon in named:
                links.append(dict(addonId=addon, keys=keys))
        return links

    def forbidden_change(self, body, view, changes):
        """An alias shares the namespace of the group's own variables and of the other links' aliases."""
        variables = get_path(body, "secrets.variables")
        taken = dict((name, "a variable of the group") for name in
                     (self.own_variables() if variables is None else variables))
        for dep in body.get("addonDependencies") or []:
            for key in dep["keys"]:
                for alias in key.get("aliases") or []:
                    if alias in taken:
                        return ("alias %s of %s of addon %s is also %s: list it in remove_variables to replace the "
                                "variable by the link" % (alias, key["keyName"], dep["addonId"], taken[alias]))
                    taken[alias] = "an alias of addon %s" % dep["addonId"]
        return None

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
            variables_purge=dict(type="bool", default=True),
            remove_variables=dict(type="list", elements="str", no_log=False),
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

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_project
short_description: Create, update or delete a Northflank project
version_added: 1.0.0
description:
  - Ensures a Northflank project exists in a region (or a BYOC cluster) with the given description and colour, or is
    absent.
  - The project is found by the ID Northflank derives from its name, so re-runs converge and send no write when nothing
    differs.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.northflank_resource
options:
  name:
    description:
      - Name of the project, 3 to 39 letters, digits and single hyphens or spaces, starting with a letter.
      - Its ID is the name in lower case with spaces turned into hyphens.
    type: str
    required: true
  description:
    description:
      - Description of the project, at most 200 characters.
    type: str
  color:
    description:
      - Colour of the project in the Northflank UI, as V(#RGB) or V(#RRGGBB).
    type: str
  region:
    description:
      - Northflank region of the project, for example V(europe-west) or V(us-central).
      - Required to create a project unless O(cluster_id) is set. Cannot change once the project exists.
    type: str
  cluster_id:
    description:
      - ID of a bring-your-own-cloud cluster to create the project in, instead of O(region). Cannot change once the
        project exists.
    type: str
  owner:
    description:
      - The Heroku unit this project is migrated from, for example V(Heroku app acme-web) or V(Heroku pipeline acme).
      - When set, an existing project whose description says it was migrated from another Heroku unit (it starts with
        C(Migrated from Heroku) and not with C(Migrated from) followed by O(owner)) is left alone and the task fails
        with the reason, in check mode too, so that two Heroku units never write the same project. A project with any
        other description (created by hand, for example) is used as before.
      - Give O(description) as C(Migrated from) followed by O(owner) to mark the projects this task creates.
    type: str
  delete_child_objects:
    description:
      - With O(state=absent), also delete the services, jobs, addons and secret groups of the project.
      - Without it, Northflank refuses to delete a project that is not empty.
    type: bool
    default: false
  wait:
    description:
      - Wait until the project's C(lifecycleStatus) is C(created).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the project to be created.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: Ensure the project of the Heroku app acme-web exists
  herokumigrate.northflank.northflank_project:
    name: acme-web
    description: Migrated from Heroku app acme-web
    region: europe-west

- name: The project of the Heroku app acme-web, unless another Heroku unit was migrated into it
  herokumigrate.northflank.northflank_project:
    name: acme-web
    description: Migrated from Heroku app acme-web
    owner: Heroku app acme-web
    region: europe-west

- name: Delete a project and everything in it
  herokumigrate.northflank.northflank_project:
    name: acme-web
    state: absent
    delete_child_objects: true
"""

RETURN = r"""
project:
  description: The project as the Northflank API returns it.
  returned: when O(state=present)
  type: dict
  sample:
    id: acme-web
    name: acme-web
    description: Migrated from Heroku app acme-web
    lifecycleStatus: created
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
  sample: {"GET /v1/projects/{project}": 1}
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import (
    NorthflankResource, check_name, derive_id)

PROJECT = "/v1/projects/{project}"
MARKER = "Migrated from "
HEROKU_MARKER = MARKER + "Heroku "


def owner_conflict(owner, description):
    """Why a project described by ``description`` belongs to another Heroku unit than ``owner``, or None."""
    if not owner or not description or not description.startswith(HEROKU_MARKER):
        return None
    mine = MARKER + owner
    if description == mine or re.match(re.escape(mine) + r"[\s.,;:()]", description):
        return None
    return ("belongs to another Heroku unit (its description: %r), not to %s: it is left alone. Give this unit another "
            "project (herokumigrate_project) or delete that project first" % (description, owner))


class Project(NorthflankResource):
    kind = "project"
    result_key = "project"
    immutable_paths = ("region", "clusterId")

    def validate(self):
        return check_name(self.params["name"], "project", max_len=39)

    @property
    def project_id(self):
        return derive_id(self.params["name"])

    def read(self):
        current = self.client.get_or_none(PROJECT, project=self.project_id)
        if current is not None and self.params["state"] == "present":
            refused = owner_conflict(self.params["owner"], current.get("description"))
            if refused:
                self.fail("project %r (ID %s) %s" % (self.params["name"], current.get("id"), refused))
        return current

    def desired(self):
        params = self.params
        return dict(name=params["name"], description=params["description"], color=params["color"],
                    region=params["region"], clusterId=params["cluster_id"])

    def view(self, current):
        return dict(
            name=current.get("name"),
            description=current.get("description"),
            color=current.get("color"),
            region=(current.get("deployment") or {}).get("region") or current.get("region"),
            clusterId=(current.get("cluster") or {}).get("id") or current.get("clusterId"),
        )

    def create(self, body):
        if not (body.get("region") or body.get("clusterId")):
            self.fail("project %r does not exist yet: set region (or cluster_id) to create it" % body["name"])
        return self.client.put("/v1/projects", body)

    def update(self, body, changes, current):
        patch = dict((k, body[k]) for k in ("description", "color") if k in body)
        return self.client.patch(PROJECT, patch, project=current["id"])

    def wait(self, resource):
        if not self.params["wait"] or resource.get("lifecycleStatus") == "created":
            return resource
        return self.poll(lambda: self.client.get(PROJECT, project=resource["id"]),
                         done=lambda r: r.get("lifecycleStatus") == "created",
                         failed=lambda r: r.get("lifecycleStatus") == "creation_failed",
                         what="creation", timeout=self.params["wait_timeout"])

    def delete(self, current):
        query = {"delete_child_objects": "true"} if self.params["delete_child_objects"] else None
        self.client.delete(PROJECT, query=query, project=current["id"])


def main():
    module = AnsibleModule(
        argument_spec=Project.spec(
            name=dict(type="str", required=True),
            description=dict(type="str"),
            color=dict(type="str"),
            region=dict(type="str"),
            cluster_id=dict(type="str"),
            owner=dict(type="str"),
            delete_child_objects=dict(type="bool", default=False),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=300),
        ),
        mutually_exclusive=[("region", "cluster_id")],
        supports_check_mode=True,
    )
    Project(module).run()


if __name__ == "__main__":
    main()

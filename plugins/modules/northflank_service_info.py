#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_service_info
short_description: Read one Northflank service, or list the services of a project
version_added: 1.0.0
description:
  - With O(name), returns that service in full (an empty list when it does not exist).
  - Without it, lists the services of the project (ID, name, kind, status, tags), following every page.
  - Values of runtime variables and build arguments are masked.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
attributes:
  check_mode:
    description: Only reads; runs the same in check mode.
    support: full
  diff_mode:
    description: Reports no change, so there is no diff.
    support: none
options:
  project:
    description:
      - ID of the project.
    type: str
    required: true
  name:
    description:
      - Name (or ID) of one service to read.
    type: str
  type:
    description:
      - Only services of this kind.
    type: str
    choices: [combined, build, deployment]
  details:
    description:
      - Without O(name), read each listed service in full (one more request per service).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Read the web service of an app
  herokumigrate.northflank.northflank_service_info:
    project: acme-web
    name: acme-web-web
  register: web

- name: The deployment services of a project
  herokumigrate.northflank.northflank_service_info:
    project: acme-web
    type: deployment
  register: services
"""

RETURN = r"""
services:
  description:
    - The services found, in full with O(name) or O(details), otherwise as the list endpoint returns them.
    - Values of runtime variables and build arguments are masked.
  returned: always
  type: list
  elements: dict
  sample:
    - id: acme-web-web
      name: acme-web-web
      serviceType: deployment
      status:
        deployment:
          status: COMPLETED
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_module import NorthflankModule
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import derive_id, mask

SERVICES = "/v1/projects/{project}/services"
SERVICE = SERVICES + "/{service}"
SECRETS = ("runtimeEnvironment", "buildArguments")


class ServiceInfo(NorthflankModule):
    kind = "service"
    doing = "reading"

    def _run(self):
        params = self.params
        if params["name"]:
            one = self.client.get_or_none(SERVICE, project=params["project"], service=derive_id(params["name"]))
            services = [one] if one is not None else []
        else:
            services = self.client.list(SERVICES, "services", project=params["project"])
        if params["type"]:
            services = [s for s in services if s.get("serviceType") == params["type"]]
        if params["details"] and not params["name"]:
            services = [self.client.get(SERVICE, project=params["project"], service=s["id"]) for s in services]
        return dict(changed=False, services=[mask(s, SECRETS) for s in services])


def main():
    spec = ServiceInfo.spec(
        project=dict(type="str", required=True),
        name=dict(type="str"),
        type=dict(type="str", choices=["combined", "build", "deployment"]),
        details=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    ServiceInfo(module).run()


if __name__ == "__main__":
    main()

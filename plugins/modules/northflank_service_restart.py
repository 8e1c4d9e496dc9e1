#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_service_restart
short_description: Restart Northflank services and wait until they are healthy again
version_added: 1.1.0
description:
  - Restarts each of the given combined or deployment services (C(POST /projects/{project}/services/{service}/restart)),
    so that their containers read their runtime variables, and the secret groups they inherit, again. Then, with
    O(wait), waits until every service's rollout has completed.
  - A restart is an action, not a state. The module restarts every time it runs and always reports a change; run it
    only when a restart is wanted (for example with C(when:) after the task that changed the variables, or as a
    handler). In check mode it reads the services and reports the change without restarting.
  - Every service is read before anything is restarted, so that a missing service or a build service fails the task
    before any restart.
  - The rollout counts as completed when C(status.deployment.status) is C(COMPLETED) after the restart; C(FAILED) fails
    the task with the service's name and reason.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.northflank_progress
attributes:
  check_mode:
    description: Reads the services and reports the restart it would make; restarts nothing.
    support: full
  diff_mode:
    description: Nothing to compare; no diff.
    support: none
options:
  project:
    description:
      - ID of the project.
    type: str
    required: true
  services:
    description:
      - Names (or IDs) of the combined or deployment services to restart. They are all restarted first, then waited
        for together.
    type: list
    elements: str
    required: true
  wait:
    description:
      - Wait until every restarted service has rolled out, and fail when one fails.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for all the services together. When it runs out the task fails (the services go on rolling
        out); a re-run restarts them again.
    type: int
    default: 600
  poll_interval:
    description:
      - Seconds before the first status read of a service. Each next wait doubles, up to six times this value (5, 10,
        20, 30, 30... seconds by default), so that a wait costs few of the 1000 requests an hour Northflank allows.
    type: int
    default: 5
seealso:
  - module: herokumigrate.northflank.northflank_service
  - module: herokumigrate.northflank.northflank_secret_group
"""

EXAMPLES = r"""
- name: "Cut-over: the services read the new connection strings"
  herokumigrate.northflank.northflank_service_restart:
    project: acme-web
    services: [acme-web-web, acme-web-worker]
  when: switch is changed
"""

RETURN = r"""
services:
  description: Each service with its rollout status after the restart (C(null) in check mode, or without O(wait)).
  returned: always
  type: list
  elements: dict
  sample:
    - id: acme-web-web
      status: COMPLETED
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_module import (
    NorthflankModule, progress_spec)
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import derive_id

SERVICE = "/v1/projects/{project}/services/{service}"
RESTART = SERVICE + "/restart"
ENDED = ("COMPLETED", "FAILED")


def rollout(service):
    return ((service or {}).get("status") or {}).get("deployment") or {}


class Rollout(object):
    """The rollout a restart started. Right after the POST a read may still show the previous, completed rollout:
    it counts only once its status or its transition time has moved."""

    def __init__(self, transition):
        self.transition, self.moved = transition, False

    def seen(self, service):
        state = rollout(service)
        moved = state.get("status") not in ENDED or state.get("lastTransitionTime") != self.transition
        self.moved = self.moved or moved
        return state

    def settled(self, service):
        completed = self.seen(service).get("status") == "COMPLETED"
        return completed and self.moved

    def failed(self, service):
        state = self.seen(service)
        if self.moved and state.get("status") == "FAILED":
            return "rollout FAILED (%s)" % (state.get("reason") or "no reason given")
        return None


class ServiceRestart(NorthflankModule):
    kind = "service"
    doing = "restarting"

    def validate(self):
        if self.params["poll_interval"] < 1:
            return "poll_interval must be at least 1 second"
        if not self.params["services"]:
            return "services: name at least one service to restart"
        return None

    def _run(self):
        params = self.params
        restarted = self.resume.get("restarted")
        if restarted:
            # The slice before this one (progress_interval) restarted them: wait for those rollouts, restart nothing.
            return self.wait_for(restarted)
        before = {}
        for name in params["services"]:
            sid = derive_id(name)
            current = self.client.get_or_none(SERVICE, project=params["project"], service=sid)
            if current is None:
                self.fail("service %r not found in project %r: nothing was restarted" % (name, params["project"]))
            if current.get("serviceType") == "build":
                self.fail("service %r is a build service and runs nothing to restart: nothing was restarted" % name)
            before[sid] = rollout(current).get("lastTransitionTime")
        if self.module.check_mode:
            return dict(changed=True, services=[dict(id=sid, status=None) for sid in before])
        for sid in before:
            self.client.post(RESTART, None, project=params["project"], service=sid)
        if not params["wait"]:
            return dict(changed=True, services=[dict(id=sid, status=None) for sid in before])
        self.partial = dict(changed=True)
        return self.wait_for(before)

    def wait_for(self, before):
        """Wait for the rollouts the restarts started; ``before`` maps each service to its last transition time before
        the restart (``None`` when it had none). The wait is of all services together, over the slices."""
        params = self.params
        deadline = (self.resume.get("started") or time.time()) + params["wait_timeout"]
        moved = set(self.resume.get("moved") or [])
        done = []
        for sid, transition in before.items():
            watch = Rollout(transition)
            watch.moved = sid in moved
            service = self.poll(lambda sid=sid: self.client.get(SERVICE, project=params["project"], service=sid),
                                watch.settled, watch.failed, what="%s after the restart" % sid,
                                timeout=params["wait_timeout"], deadline=deadline, first=params["poll_interval"],
                                interval=6 * params["poll_interval"], describe=lambda s: rollout(s).get("status"),
                                resume=lambda sid=sid, watch=watch: dict(
                                    restarted=before, started=deadline - params["wait_timeout"],
                                    moved=sorted(moved | set([sid] if watch.moved else []))))
            moved.add(sid)
            done.append(dict(id=sid, status=rollout(service).get("status")))
        return dict(changed=True, services=done)


def main():
    module = AnsibleModule(
        argument_spec=ServiceRestart.spec(
            **progress_spec(),
            project=dict(type="str", required=True),
            services=dict(type="list", elements="str", required=True),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=600),
            poll_interval=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    ServiceRestart(module).run()


if __name__ == "__main__":
    main()

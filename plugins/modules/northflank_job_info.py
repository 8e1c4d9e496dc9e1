#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_job_info
short_description: Read one Northflank job with its recent runs, or list the jobs of a project
version_added: 1.0.0
description:
  - With O(name), returns that job in full (an empty list when it does not exist), and with O(runs) its most recent
    runs.
  - Without it, lists the jobs of the project (ID, name, kind, suspended, tags), following every page.
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
      - Name (or ID) of one job to read.
    type: str
  type:
    description:
      - Only jobs of this kind.
    type: str
    choices: [cron, manual]
  runs:
    description:
      - With O(name), also return up to this many of the job's most recent runs (one more request). V(0) reads none.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Did the release phase succeed?
  herokumigrate.northflank.northflank_job_info:
    project: acme-web
    name: acme-web-release
    runs: 1
  register: release

- name: The cron jobs of a project
  herokumigrate.northflank.northflank_job_info:
    project: acme-web
    type: cron
  register: cron_jobs
"""

RETURN = r"""
jobs:
  description:
    - The jobs found, in full with O(name), otherwise as the list endpoint returns them.
    - Values of runtime variables and build arguments are masked.
  returned: always
  type: list
  elements: dict
  sample:
    - id: acme-web-release
      name: acme-web-release
      jobType: manual
runs:
  description: The most recent runs of the job named by O(name), newest first, when O(runs) is above 0.
  returned: when O(name) and O(runs) are set and the job exists
  type: list
  elements: dict
  sample:
    - id: 5f3c1d2e
      runName: acme-web-release-1-abcde
      status: SUCCESS
      concluded: true
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_module import NorthflankModule
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import derive_id, mask

JOBS = "/v1/projects/{project}/jobs"
JOB = JOBS + "/{job}"
RUNS = JOB + "/runs"
SECRETS = ("runtimeEnvironment", "buildArguments")


class JobInfo(NorthflankModule):
    kind = "job"
    doing = "reading"

    def _run(self):
        params = self.params
        result = dict(changed=False)
        if params["name"]:
            one = self.client.get_or_none(JOB, project=params["project"], job=derive_id(params["name"]))
            jobs = [one] if one is not None else []
            if one is not None and params["runs"] > 0:
                runs = self.client.get(RUNS, query={"per_page": min(params["runs"], 100)}, project=params["project"],
                                       job=one["id"]) or {}
                result["runs"] = (runs.get("runs") or [])[:params["runs"]]
        else:
            jobs = self.client.list(JOBS, "jobs", project=params["project"])
        if params["type"]:
            jobs = [j for j in jobs if j.get("jobType") == params["type"]]
        result["jobs"] = [mask(j, SECRETS) for j in jobs]
        return result


def main():
    spec = JobInfo.spec(
        project=dict(type="str", required=True),
        name=dict(type="str"),
        type=dict(type="str", choices=["cron", "manual"]),
        runs=dict(type="int", default=0),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    JobInfo(module).run()


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_job_run
short_description: Run a Northflank job once per key (a release phase at a cut-over) and wait for it
version_added: 1.1.0
description:
  - Starts one run of an existing job (C(POST /projects/{project}/jobs/{job}/runs)) for a given O(key), and with
    O(wait) waits for it and fails when it fails. A re-run of the task with the same O(key) never starts another run;
    it finds the run of that key and reports it (or waits for it when it is still running).
  - Northflank gives a run no name of the caller's choosing, so the key is kept on the job as a tag,
    C(run-once-<key>-<milliseconds>), written before the run is started. The number is the start time of the newest
    run the job had then (0 if none); the run of the key is the first one started after it. A task interrupted after
    the tag was written and before the run was started starts it on the next try; one interrupted after the run was
    started finds that run. Timestamps compared are Northflank's own, never the controller's clock.
  - A failed run is final for its key; every re-run reports the same failure without running the job again. To run
    it again (after fixing the cause), use another O(key).
  - A task that sets the job's O(herokumigrate.northflank.northflank_job#module:tags) sends the whole list and drops
    these tags; the roles of this collection do not set job tags.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.northflank_progress
attributes:
  check_mode:
    description: Reads the job and its runs and reports whether a run would start; writes nothing.
    support: full
  diff_mode:
    description: No diff; the result says which run belongs to the key.
    support: none
options:
  project:
    description:
      - ID of the project.
    type: str
    required: true
  job:
    description:
      - Name (or ID) of the job, for example V(acme-web-release).
    type: str
    required: true
  key:
    description:
      - What makes this run unique, for example the ID of the cut-over (V(cutover-20260301)). 1 to 60 letters, digits
        and single hyphens.
    type: str
    required: true
  runtime_variables:
    description:
      - Runtime variables for this run only (C(runtimeEnvironment) of the run request), on top of the job's. Values
        are secret. They are sent with the run when it starts, never compared.
    type: dict
  plan:
    description:
      - Compute plan for this run only, for example V(nf-compute-50).
    type: str
  wait:
    description:
      - Wait for the run to end, and fail when it fails.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait. When it runs out the task fails; a re-run with the same O(key) resumes the wait and starts
        nothing.
    type: int
    default: 1800
  poll_interval:
    description:
      - Seconds before the first status read. Each next wait doubles, up to six times this value (5, 10, 20, 30, 30...
        seconds by default), so that a long run costs few of the 1000 requests an hour Northflank allows.
    type: int
    default: 5
seealso:
  - module: herokumigrate.northflank.northflank_job
  - module: herokumigrate.northflank.northflank_job_info
"""

EXAMPLES = r"""
- name: "Cut-over: the release phase, once, against the new database"
  herokumigrate.northflank.northflank_job_run:
    project: acme-web
    job: acme-web-release
    key: "{{ cutover_id }}"
  register: release
"""

RETURN = r"""
job_run:
  description:
    - The run of the key, with its status (C(RUNNING), C(SUCCESS) or C(FAILED)) and whether this task started it.
    - C(null) in check mode when the run would start now.
  returned: always
  type: dict
  sample:
    id: 5f3c1d2e
    runName: acme-web-release-1-abcde
    status: SUCCESS
    started_by_this_task: true
marker:
  description: The job tag that holds the key.
  returned: always
  type: str
  sample: run-once-cutover-20260301-1764525600123
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
"""

import re
from datetime import datetime

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_module import (
    NorthflankModule, progress_spec)
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import derive_id

JOB = "/v1/projects/{project}/jobs/{job}"
RUNS = JOB + "/runs"
RUN = RUNS + "/{run}"
KEY = re.compile(r"^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$")
PREFIX = "run-once-"
STAMP = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")


def millis(stamp):
    """Milliseconds since the epoch of an ISO 8601 time as Northflank writes it (``2026-03-01T10:00:00.123Z``)."""
    match = STAMP.match(stamp or "")
    if not match:
        return None
    parts = [int(p) for p in match.groups()[:6]]
    fraction = (match.group(7) or "0")[:3].ljust(3, "0")
    offset, zone = 0, match.group(8)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    epoch = datetime(*parts) - datetime(1970, 1, 1)
    return (epoch.days * 86400 + epoch.seconds - offset) * 1000 + int(fraction)


class JobRun(NorthflankModule):
    kind = "job run"
    doing = "running"

    def validate(self):
        params = self.params
        if not KEY.match(params["key"]) or len(params["key"]) > 60:
            return "key %r: use 1 to 60 letters, digits and single hyphens (it is kept as a job tag)" % params["key"]
        if params["poll_interval"] < 1:
            return "poll_interval must be at least 1 second"
        return None

    @property
    def where(self):
        return dict(project=self.params["project"], job=derive_id(self.params["job"]))

    def runs(self):
        return self.client.list(RUNS, "runs", **self.where)

    def _run(self):
        params = self.params
        job = self.client.get_or_none(JOB, **self.where)
        if job is None:
            self.fail("job %r not found in project %r" % (params["job"], params["project"]))
        tags = list(job.get("tags") or [])
        head = "%s%s-" % (PREFIX, params["key"])
        marker = next((t for t in tags if t.startswith(head) and t[len(head):].isdigit()), None)
        runs = self.runs()
        started = False
        if marker is None:
            times = [millis(r.get("startedAt")) for r in runs]
            marker = "%s%d" % (head, max([t for t in times if t is not None] or [0]))
            if self.module.check_mode:
                return dict(changed=True, job_run=None, marker=marker)
            self.client.patch(JOB, dict(tags=tags + [marker]), **self.where)
            run = None
        else:
            run = self.run_of(marker, runs)
            if run is None and self.module.check_mode:
                return dict(changed=True, job_run=None, marker=marker)
        if run is None:
            body = dict(runtimeEnvironment=self.variables(), billing=dict(deploymentPlan=params["plan"]))
            body = dict((k, v) for k, v in body.items() if v and all(x is not None for x in v.values()))
            started = self.client.post(RUNS, body, **self.where) or {}
            run = dict(started, status="RUNNING")
        if params["wait"] and not self.module.check_mode:
            run = self.wait(run)
        elif run.get("status") == "FAILED":
            self.failed(run)
        result = dict(id=run.get("id"), runName=run.get("runName"), status=run.get("status"),
                      started_by_this_task=bool(started))
        return dict(changed=bool(started), job_run=result, marker=marker)

    def variables(self):
        given = self.params["runtime_variables"]
        return None if given is None else dict((k, "" if v is None else str(v)) for k, v in given.items())

    @staticmethod
    def run_of(marker, runs):
        """The first run started after the marker's time."""
        after = int(marker.rsplit("-", 1)[1])
        later = [(millis(r.get("startedAt")), r) for r in runs]
        later = sorted((t, r.get("id"), r) for t, r in later if t is not None and t > after)
        return later[0][2] if later else None

    def wait(self, run):
        if run.get("concluded") and run.get("status") == "SUCCESS":
            return run
        if run.get("concluded"):
            self.failed(run)
        params = self.params
        return self.poll(lambda: self.client.get(RUN, run=run["id"], **self.where),
                         done=lambda r: r.get("concluded") and r.get("status") == "SUCCESS",
                         failed=lambda r: r.get("concluded") and r.get("status") != "SUCCESS" and self.words(r),
                         what="%s of job %s" % (run.get("runName") or run["id"], params["job"]),
                         timeout=params["wait_timeout"], first=params["poll_interval"],
                         interval=6 * params["poll_interval"], describe=lambda r: r.get("status"))

    @staticmethod
    def words(run):
        """What Northflank says of a failed run (GetJobRunResponse has no message: status and attempts)."""
        return ("status %s, %s of %s attempt(s) failed (backoffLimit %s); the run's logs are in Northflank's UI"
                % (run.get("status"), run.get("failed"), 1 + (run.get("backoffLimit") or 0), run.get("backoffLimit")))

    def failed(self, run):
        name = run.get("runName") or run.get("id")
        self.fail("job run %s of job %s for key %s failed: %s; a re-run with this key reports the same failure, use "
                  "another key to run the job again" % (name, self.params["job"], self.params["key"], self.words(run)),
                  job_run=dict(id=run.get("id"), runName=run.get("runName"), status=run.get("status")))


def main():
    module = AnsibleModule(
        argument_spec=JobRun.spec(
            **progress_spec(),
            project=dict(type="str", required=True),
            job=dict(type="str", required=True),
            key=dict(type="str", required=True, no_log=False),
            runtime_variables=dict(type="dict", no_log=True),
            plan=dict(type="str"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=1800),
            poll_interval=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    JobRun(module).run()


if __name__ == "__main__":
    main()

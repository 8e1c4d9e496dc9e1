#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_job
short_description: Create, update, delete or run a Northflank cron or manual job
version_added: 1.0.0
description:
  - Ensures a Northflank job exists with the given source, command, plan, schedule and settings, or is absent;
    optionally starts a run.
  - A job with O(schedule) is a cron job (a Heroku Scheduler entry); without it, a manual job (a Heroku release phase or
    one-off task).
  - The job runs the images of a build service (O(deploy_from)), or builds itself from Git (O(vcs)).
  - The job is found by the ID Northflank derives from its name. It is created with C(PUT /jobs). Settings that C(PATCH
    /jobs/{id}) accepts are updated with a PATCH carrying only the top-level keys that differ. The source, the command
    and the kind of job (cron or manual) are not part of that PATCH; when one of them differs, the whole job is sent
    again with C(PUT /jobs), the create-or-update request of the API.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.northflank_progress
  - herokumigrate.northflank.northflank_resource
  - herokumigrate.northflank.northflank_workload
options:
  name:
    description:
      - Name of the job, 3 to 52 letters, digits and single hyphens or spaces, starting with a letter.
      - Its ID is the name in lower case with spaces turned into hyphens. The name cannot change once the job exists.
    type: str
    required: true
  schedule:
    description:
      - Cron schedule in UTC, five fields (for example V(0 3 * * *)) or a macro such as V(@daily). Makes the job a cron
        job.
      - Without it the job is a manual job; an existing cron job is turned into a manual one.
    type: str
  concurrency_policy:
    description:
      - What a cron job does when the previous run is still going at the next scheduled time. Cron jobs only.
    type: str
    choices: [allow, forbid, replace]
  suspended:
    description:
      - Pause the schedule of a cron job. Cron jobs only.
    type: bool
  backoff_limit:
    description:
      - How often a failed run is retried.
    type: int
    default: 0
  active_deadline_seconds:
    description:
      - Longest time a run may take before it is stopped.
    type: int
  run_on_source_change:
    description:
      - Whether a new build or image starts a run. V(cd-promote) only for promotions through a pipeline.
    type: str
    choices: [never, cd-promote, always]
  update_hidden:
    description:
      - Northflank's C(GET /jobs/{id}) (C(GetJobResponse) of the official SDK) does not return a job's runtime
        variables, build arguments, build plan, O(run_on_source_change), the Git account login or the build service it
        deploys from, so these cannot be compared with what the task sets.
      - V(on_create) sends them when the job is created or sent again whole (see the description); a re-run that finds
        nothing else different sends no write, but a changed value of these alone does not reach Northflank.
      - V(always) sends those that the task sets on every run (runtime variables, build arguments, build plan and
        O(run_on_source_change) with a PATCH; the build service or Git account with a PUT), so changes always reach
        Northflank, at the cost of writes on every run and a task that always reports a change.
      - Whenever Northflank does return one of them, it is compared like any other setting, whatever this option says.
    type: str
    choices: [on_create, always]
    default: on_create
  run:
    description:
      - Start a run of the job (a Heroku release phase) when this task created or changed the job, or when no run of the
        job has succeeded yet and none is running (a task interrupted between creating the job and running it starts the
        run on the next try).
      - A re-run that changes nothing does not start another run; use O(force_run) for that, for example after a new
        build.
      - For a run that must happen exactly once, whatever changed (the release phase of a cut-over), use
        M(herokumigrate.northflank.northflank_job_run) with a key.
    type: bool
    default: false
  force_run:
    description:
      - Start a run on every execution of the task, whether anything changed or not. Not idempotent by design.
    type: bool
    default: false
  run_wait:
    description:
      - Wait for the started run to finish, and fail when it fails.
    type: bool
    default: false
  run_timeout:
    description:
      - Seconds to wait for the run with O(run_wait). Its status is read at most every 30 seconds to spare the API
        budget.
    type: int
    default: 1800
notes:
  - O(plan) and a source (O(deploy_from) or O(vcs) with O(vcs.branch)) are required with O(state=present), because a
    change of the source or the command sends the whole job again.
  - When the whole job is sent again (PUT), options the task does not set may go back to Northflank's defaults.
  - O(buildpack), O(dockerfile), O(build_arguments) and O(build_plan) apply to jobs built from Git (O(vcs)) only.
  - Runtime variables shared with the app's services are better kept in a secret group restricted to the job, which can
    be compared (M(herokumigrate.northflank.northflank_secret_group)).
seealso:
  - module: herokumigrate.northflank.northflank_job_info
  - module: herokumigrate.northflank.northflank_job_run
  - module: herokumigrate.northflank.northflank_service
"""

EXAMPLES = r"""
- name: A Heroku Scheduler entry (daily at 03:00 UTC) as a cron job from the app's build service
  herokumigrate.northflank.northflank_job:
    project: acme-web
    name: acme-web-scheduler-1
    deploy_from:
      build_service: acme-web-builder
      branch: main
    start:
      command: rake cleanup
    plan: nf-compute-20
    schedule: "0 3 * * *"
    concurrency_policy: forbid
    active_deadline_seconds: 3600

- name: The release phase of the Heroku app, run when the job is created or changed
  herokumigrate.northflank.northflank_job:
    project: acme-web
    name: acme-web-release
    deploy_from:
      build_service: acme-web-builder
      branch: main
    start:
      command: bundle exec rake db:migrate
    plan: nf-compute-20
    run: true
    run_wait: true
  register: release

- name: A job that builds itself from Git, with its own variables
  herokumigrate.northflank.northflank_job:
    project: acme-web
    name: acme-reports
    vcs:
      project_url: https://github.com/acme/reports
      branch: main
    dockerfile:
      path: /Dockerfile
    start:
      command: python report.py
    plan: nf-compute-50
    runtime_variables:
      REPORT_BUCKET: acme-reports
  no_log: true
"""

RETURN = r"""
job:
  description:
    - The job as Northflank returns it, with the values of runtime variables and build arguments masked.
    - In check mode, the request body that would have been sent (creation) or the current job (update).
  returned: when O(state=present)
  type: dict
  sample:
    id: acme-web-scheduler-1
    name: acme-web-scheduler-1
    jobType: cron
    billing:
      deploymentPlan: nf-compute-20
    settings:
      backoffLimit: 0
      activeDeadlineSeconds: 3600
      cron:
        schedule: "0 3 * * *"
        concurrencyPolicy: Forbid
changed_paths:
  description: Dotted paths of the settings that differed and were (or, in check mode, would be) updated.
  returned: when an existing job was updated
  type: list
  elements: str
  sample: [settings.cron.schedule]
job_run:
  description:
    - The run started by this task (O(run) or O(force_run)), with its status when O(run_wait) is set.
    - C(null) in check mode, where no run is started.
  returned: when a run was (or, in check mode, would have been) started
  type: dict
  sample:
    id: 5f3c1d2e
    runName: acme-web-release-1-abcde
    status: SUCCESS
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
  sample: {"GET /v1/projects/{project}/jobs/{job}": 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_module import progress_spec
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import (
    NorthflankResource, check_name, derive_id, get_path)
from ansible_collections.herokumigrate.northflank.plugins.module_utils import northflank_workload as workload

JOBS = "/v1/projects/{project}/jobs"
JOB = JOBS + "/{job}"
RUNS = JOB + "/runs"
RUN = RUNS + "/{run}"

# Settings the job's GET does not return (SDK 2.1.0 GetJobResponse): see the option update_hidden.
HIDDEN = ("runtimeEnvironment", "buildArguments", "billing.buildPlan", "settings.runOnSourceChange",
          "deployment.internal", "deployment.vcs.accountLogin", "deployment.vcs.vcsLinkId")
# Top-level keys PATCH /jobs/{id} (PatchJobRequest) takes; anything else needs the whole job again (PUT).
PATCHABLE = ("billing", "buildArguments", "buildConfiguration", "buildSettings", "description", "healthChecks",
             "runtimeEnvironment",
             "settings", "stageId", "tags")
# Keys of the comparison that are not part of any request body.
COMPARED_ONLY = ("jobType",)
GIT_ONLY = ("buildpack", "dockerfile", "build_arguments", "build_plan")
CRON_ONLY = ("concurrency_policy", "suspended")


def set_path(data, path, value):
    parts = path.split(".")
    for part in parts[:-1]:
        data = data.setdefault(part, {})
    data[parts[-1]] = value


class Job(NorthflankResource):
    kind = "job"
    result_key = "job"
    secret_paths = ("runtimeEnvironment", "buildArguments")
    exact_paths = ("runtimeEnvironment", "buildArguments")
    immutable_paths = ("name",)

    @property
    def job_id(self):
        return derive_id(self.params["name"])

    @property
    def image_default(self):
        return "docker" if self.params["dockerfile"] is not None else "buildpack"

    def validate(self):
        params = self.params
        error = check_name(params["name"], "job", max_len=52)
        if error or params["state"] == "absent":
            return error
        if params["vcs"] is None and params["deploy_from"] is None:
            return "set deploy_from (a build service) or vcs (a Git repository): the source of the job"
        if params["plan"] is None:
            return "set plan: the compute plan of the job"
        if params["vcs"] is not None and not params["vcs"].get("branch"):
            return "a job built from Git needs vcs.branch"
        misplaced = [o for o in GIT_ONLY if params["vcs"] is None and params[o] is not None]
        misplaced += [o for o in CRON_ONLY if params["schedule"] is None and params[o] is not None]
        if misplaced:
            return ("%s do(es) not apply here: build options need vcs, concurrency_policy and suspended need schedule"
                    % ", ".join(misplaced))
        return workload.check_start(params["start"], self.image_default)

    def read(self):
        return self.client.get_or_none(JOB, project=self.params["project"], job=self.job_id)

    def desired(self):
        params = self.params
        body = dict(name=params["name"], description=params["description"], tags=params["tags"],
                    stageId=params["stage_id"], jobType="cron" if params["schedule"] is not None else "manual",
                    billing=dict(deploymentPlan=params["plan"], buildPlan=params["build_plan"]))
        settings = dict(backoffLimit=params["backoff_limit"], activeDeadlineSeconds=params["active_deadline_seconds"],
                        runOnSourceChange=params["run_on_source_change"])
        if params["schedule"] is not None:
            settings["cron"] = dict(schedule=params["schedule"], concurrencyPolicy=params["concurrency_policy"],
                                    suspended=params["suspended"])
        body["settings"] = settings
        deployment = workload.start_body(params["start"], self.image_default)
        if params["deploy_from"] is not None:
            deployment["internal"] = workload.internal_body(params["deploy_from"])
        else:
            deployment["vcs"] = workload.vcs_body(params["vcs"], branch_key="projectBranch")
            body["buildSettings"] = workload.build_settings_body(params["buildpack"], params["dockerfile"])
            body["buildArguments"] = workload.string_map(params["build_arguments"])
        body["deployment"] = deployment
        body["runtimeEnvironment"] = workload.string_map(params["runtime_variables"])
        return body

    def view(self, current):
        """The job in the shape of ``desired()``: GetJobResponse keeps some settings elsewhere or not at all."""
        settings = dict(current.get("settings") or {})
        cron = dict(settings.get("cron") or {})
        if cron or current.get("jobType") == "cron":
            if cron.get("concurrencyPolicy"):
                cron["concurrencyPolicy"] = cron["concurrencyPolicy"].lower()  # GET answers Allow / Forbid / Replace
            if "suspended" in current:
                cron.setdefault("suspended", current["suspended"])
            settings["cron"] = cron
        else:
            settings.pop("cron", None)
        deployment = dict(current.get("deployment") or {})
        vcs = current.get("vcsData")
        if vcs and "vcs" not in deployment:
            vcs_keys = ("projectUrl", "projectType", "projectBranch", "accountLogin", "vcsLinkId")
            deployment["vcs"] = dict((k, vcs[k]) for k in vcs_keys if k in vcs)
        view = dict(current, settings=settings, deployment=deployment, tags=current.get("tags") or [],
                    jobType=current.get("jobType") or ("cron" if cron else "manual"))
        return self.fill_hidden(view)

    def fill_hidden(self, view):
        """Settings the GET does not return count as unchanged (update_hidden=on_create) or changed (always)."""
        if self.params["update_hidden"] == "always" or self.params["state"] == "absent":
            return view
        wanted = self.desired()
        deployment = view.get("deployment") or {}
        git_built = "vcs" in deployment or "external" in deployment
        for path in HIDDEN:
            value = get_path(wanted, path)
            if value is None or get_path(view, path) is not None:
                continue
            if path == "deployment.internal" and git_built:
                continue  # the job builds from Git (or runs an image): a build service as source does differ
            if path.startswith("deployment.vcs.") and "vcs" not in deployment:
                continue
            set_path(view, path, value)
        return view

    @staticmethod
    def request_body(body):
        return dict((k, v) for k, v in body.items() if k not in COMPARED_ONLY)

    def create(self, body):
        return self.client.put(JOBS, self.request_body(body), project=self.params["project"])

    def update(self, body, changes, current):
        keys = set(path.split(".")[0] for path in changes)
        if keys - set(PATCHABLE):
            # The source, the command and the kind of job are not part of PatchJobRequest: send the job again whole.
            return self.client.put(JOBS, self.request_body(body), project=self.params["project"])
        patch = dict((k, body[k]) for k in keys if k in body)
        return self.client.patch(JOB, patch, project=self.params["project"], job=current["id"])

    def delete(self, current):
        self.client.delete(JOB, project=self.params["project"], job=current["id"])

    # -- runs -------------------------------------------------------------------------------------
    def needs_run(self, result):
        params = self.params
        if params["force_run"] or result.get("changed"):
            return True
        runs = self.client.get(RUNS, query={"per_page": 100}, project=params["project"], job=self.job_id) or {}
        return not any(r.get("status") in ("SUCCESS", "RUNNING") for r in runs.get("runs") or [])

    def start_run(self):
        params = self.params
        # The slice before this one (progress_interval) started the run: wait for it, start none.
        run = self.resume.get("run") or self.client.post(RUNS, {}, project=params["project"], job=self.job_id) or {}
        if not params["run_wait"]:
            return run
        finished = self.poll(lambda: self.client.get(RUN, project=params["project"], job=self.job_id, run=run["id"]),
                             done=lambda r: r.get("concluded") and r.get("status") == "SUCCESS",
                             failed=lambda r: r.get("concluded") and r.get("status") != "SUCCESS",
                             what="run %s" % (run.get("runName") or run.get("id")), timeout=params["run_timeout"],
                             interval=30, resume=dict(run=dict((k, run.get(k)) for k in ("id", "runName"))))
        return dict(run, status=finished.get("status"))

    def _run(self):
        result = super(Job, self)._run()
        params = self.params
        if params["state"] != "present" or not (params["run"] or params["force_run"]):
            return result
        if self.resume.get("run") or self.needs_run(result):
            result["changed"] = True
            self.partial = dict(result)  # what a wait cut short by progress_interval returns with the run started
            result["job_run"] = None if self.module.check_mode else self.start_run()
        return result


def argument_spec():
    spec = workload.workload_spec()
    spec.update(
        name=dict(type="str", required=True),
        schedule=dict(type="str"),
        concurrency_policy=dict(type="str", choices=["allow", "forbid", "replace"]),
        suspended=dict(type="bool"),
        backoff_limit=dict(type="int", default=0),
        active_deadline_seconds=dict(type="int"),
        run_on_source_change=dict(type="str", choices=["never", "cd-promote", "always"]),
        update_hidden=dict(type="str", default="on_create", choices=["on_create", "always"]),
        run=dict(type="bool", default=False),
        force_run=dict(type="bool", default=False),
        run_wait=dict(type="bool", default=False),
        run_timeout=dict(type="int", default=1800),
    )
    spec.update(progress_spec())
    return Job.spec(**spec)


MODULE_OPTIONS = dict(mutually_exclusive=[("buildpack", "dockerfile"), ("vcs", "deploy_from")])


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **MODULE_OPTIONS)
    Job(module).run()


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans one migration unit and applies its Northflank resources in dependency order, in one task.

Why one task: a task costs Ansible a worker process and templating of its arguments, whatever it does. The role used a
loop task per resource kind (a dozen tasks per unit, most of them skipped or looping over nothing), and for a fleet that
overhead, not the APIs, was most of the run (docs/user-guide.md, "Fleets"). Here the plan is computed once, and each
resource is still applied by its module (northflank_project, northflank_addon, ...), with the same arguments the tasks
gave it, in-process when it would run on this controller anyway (plugins/plugin_utils/in_process.py): check mode, diff
and the modules' ``no_log`` options hold as they did.

The result keeps the shape of the tasks' registered results (``applied``: per kind, a loop's ``results`` with each
item's plan entry under ``item``), which the record (the migration_record filter) reads. Secret values are looked up by
reference from the plan's secrets and passed to the modules' ``no_log`` options only; they are never in the result.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Mapping
from contextlib import contextmanager

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.utils.display import Display

from ansible_collections.herokumigrate.northflank.plugins.filter.migration import migration_plan
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank import (
    argument_spec as northflank_connection_spec,
)
from ansible_collections.herokumigrate.northflank.plugins.module_utils.rate_budget import default_directory
from ansible_collections.herokumigrate.northflank.plugins.plugin_utils.in_process import InProcessAction, preload
from ansible_collections.herokumigrate.northflank.plugins.plugin_utils.progress import run_sliced

display = Display()

MODULE = "herokumigrate.northflank."
# Modules that wait (an addon starting, a template run): run slice by slice, with progress lines.
SLICED = ("northflank_addon", "northflank_job", "northflank_pipeline", "northflank_release_flow")

# ``info`` and ``settings`` (large) are checked to be mappings apart: the validator would copy them deeply.
LARGE = ("info", "settings")
ARGUMENT_SPEC = dict(
    unit=dict(type="dict", required=True),
    scenario=dict(type="str", default=""),
    mode=dict(type="str", required=True),
    git_mirror=dict(type="bool", default=False),
    git_target_token=dict(type="str", default="", no_log=True),
    git_target_username=dict(type="str", default="x-access-token"),
    git_tags=dict(type="bool", default=True),
    git_force=dict(type="bool", default=False),
    wait_for_addons=dict(type="bool", default=False),
    verify_domains=dict(type="bool", default=False),
    poll_interval=dict(type="int", default=10),
    progress_interval=dict(type="int", default=30),
)
# The Northflank connection options (doc fragment herokumigrate.northflank.northflank): those given (by the task, or by
# module_defaults for the group herokumigrate.northflank.northflank) are passed to every Northflank module.
# Without their defaults and environment fallbacks: each module applies those itself.
CONNECTION = {name: {key: value for key, value in option.items() if key in ("type", "no_log")}
              for name, option in northflank_connection_spec().items()}
ARGUMENT_SPEC.update(CONNECTION)


def given(spec, *keys):
    """The entries of ``spec`` among ``keys`` that are set (``default(omit)``)."""
    return {key: spec[key] for key in keys if key in spec}


def truthy(spec, *keys):
    """The entries of ``spec`` among ``keys`` that are not empty (``default(omit, true)``)."""
    return {key: spec[key] for key in keys if spec.get(key)}


def secret(secrets, spec, ref_key, option):
    """``{option: value}`` of the secret the plan entry refers to by ``ref_key``, when it refers to one."""
    ref = spec.get(ref_key)
    return {option: secrets[ref]} if ref else {}


# Per resource kind, in dependency order: the module and its arguments from a plan entry (what the role's tasks gave).
def project_args(spec, ctx):
    return given(spec, "name", "region", "description", "owner")


def addon_args(spec, ctx):
    return dict(given(spec, "project", "name", "type", "tls"), **truthy(spec, "version", "plan", "storage", "replicas"),
                description="Heroku add-on %s (%s)" % (spec.get("heroku_addon"), spec.get("heroku_plan")),
                wait=ctx["wait_for_addons"], progress_interval=ctx["progress_interval"])


def service_args(spec, ctx):
    args = dict(given(spec, "project", "name", "type", "instances", "ports"),
                **truthy(spec, "plan", "build_plan", "vcs", "buildpack", "build_rules", "deploy_from", "start",
                         "health_checks"))
    args.update(secret(ctx["secrets"], spec, "runtime_variables_ref", "runtime_variables"))
    args.update(secret(ctx["secrets"], spec, "build_arguments_ref", "build_arguments"))
    args["description"] = "Heroku %s of %s" % (spec.get("process_type", "build"), ctx["unit"]["name"])
    return args


def job_args(spec, ctx):
    args = dict(given(spec, "project", "name", "plan", "deploy_from", "start"),
                **truthy(spec, "schedule", "concurrency_policy"))
    args.update(secret(ctx["secrets"], spec, "runtime_variables_ref", "runtime_variables"))
    return args


def secret_group_args(spec, ctx):
    args = given(spec, "project", "name", "secret_type", "priority", "restricted_to", "addon_links")
    args["variables"] = ctx["secrets"][spec["variables_ref"]]
    return args


def domain_args(spec, ctx):
    # verify.yml only reads: asking Northflank to verify would count as a change there.
    return dict(given(spec, "domain", "project", "subdomains"),
                verify=ctx["verify_domains"] and ctx["mode"] != "verify")


def pipeline_args(spec, ctx):
    return dict(given(spec, "project", "name", "stages"), poll_interval=ctx["poll_interval"],
                progress_interval=ctx["progress_interval"])


def release_flow_args(spec, ctx):
    return given(spec, "project", "pipeline", "stage", "mode", "build_service", "branch", "targets", "release_phase")


def git_mirror_args(spec, ctx):
    token = {"target_token": ctx["git_target_token"]} if ctx["git_target_token"] else {}
    return dict(app=spec["app"], git_url=spec["source_url"], target_url=spec["target_url"],
                target_username=ctx["git_target_username"], branches=spec["branches"], tags=ctx["git_tags"],
                force=ctx["git_force"], **token)


def read_args(spec, ctx):
    return given(spec, "project", "name")


# (the plan's key, which is also the result's; module; its arguments; the entry's label). git_mirrors first: the
# services find their branch.
STEPS = (
    ("git_mirrors", "heroku_git_mirror", git_mirror_args, "app"),
    ("project", "northflank_project", project_args, "name"),
    ("addons", "northflank_addon", addon_args, "name"),
    ("services", "northflank_service", service_args, "name"),
    ("jobs", "northflank_job", job_args, "name"),
    ("secret_groups", "northflank_secret_group", secret_group_args, "name"),
    ("domains", "northflank_domain", domain_args, "domain"),
    ("pipeline", "northflank_pipeline", pipeline_args, "name"),
    ("release_flows", "northflank_release_flow", release_flow_args, "stage"),
)
# Mode verify: the runtime state of what the plan names, GET requests only.
READS = (
    ("services", "northflank_service_info", read_args, "name"),
    ("addons", "northflank_addon_info", read_args, "name"),
)

preload(*sorted({step[1] for step in STEPS + READS}))


@contextmanager
def domains_lock():
    """One unit at a time registers domains: units of one account often share a registered domain (shop.example and
    api.example), and the second must find the domain the first registered instead of racing it to a second POST."""
    directory = default_directory()
    if directory is None:
        yield
        return
    with open(os.path.join(directory, "domains.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def entries(plan, key):
    """The plan's entries of one kind: a list, or the one entry (project, pipeline), or none."""
    value = plan.get(key)
    if not value:
        return []
    return value if isinstance(value, list) else [value]


def describe(result, kind, label, check_mode):
    """One line for a resource that changed (or would): its kind, name and what changed (paths, never values)."""
    verb = "would change" if check_mode else "changed"
    paths = result.get("changed_paths") or []
    return "%s %s %s%s" % (verb, kind, label, " (%s)" % ", ".join(paths[:6]) if paths else "")


class ActionModule(InProcessAction):
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._arguments()
        unit, info = args["unit"], args["info"]
        migration = info.get("migration") or {}
        result.update(changed=False, plan=None, applied={}, runtime={})
        if migration.get("scenario") == "unsupported":
            result["msg"] = "%s cannot be migrated: %s" % (unit.get("name"), migration.get("reason"))
            return result
        try:
            planned = migration_plan(info, unit.get("name"), unit.get("kind"), args["settings"],
                                     args["scenario"] or None)
        except AnsibleError as exc:
            result.update(failed=True, msg=str(exc.message))
            return result
        plan = planned["plan"]
        result["plan"] = plan
        # The plan (names and settings, no value) as the role's fact, for the cut-over and the rollback.
        result["ansible_facts"] = {"herokumigrate_plan_resources": plan}
        ctx = dict(args, secrets=planned["secrets"], host=(task_vars or {}).get("inventory_hostname", "localhost"),
                   connection={key: args[key] for key in CONNECTION if args.get(key) is not None})
        steps = STEPS if args["git_mirror"] else STEPS[1:]
        diffs = []
        try:
            failed = self._apply_steps(result["applied"], steps, plan, ctx, task_vars, diffs)
            if not failed and args["mode"] == "verify":
                failed = self._apply_steps(result["runtime"], READS, plan, ctx, task_vars, None)
                result["runtime"]["domains"] = result["applied"].get("domains", {})
            if failed:
                result.update(failed=True, msg="; ".join(failed))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        result["changed"] = any(applied.get("changed") for applied in result["applied"].values())
        if diffs:
            result["diff"] = diffs
        return result

    def _arguments(self):
        given = dict(self._task.args)
        large = {key: given.pop(key, None) for key in LARGE}
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(given)
        problems = list(validation.error_messages)
        problems += ["%s must be a mapping" % key for key, value in large.items() if not isinstance(value, Mapping)]
        if problems:
            raise AnsibleActionFail("Invalid arguments: %s" % "; ".join(problems))
        return dict(validation.validated_parameters, **large)

    def _apply_steps(self, into, steps, plan, ctx, task_vars, diffs):
        """Applies the steps in order, up to the first kind with a failure; returns its messages."""
        for key, module, make_args, label in steps:
            failed = self._apply(into, key, entries(plan, key), module, make_args, label, ctx, task_vars, diffs)
            if failed:
                return failed
        return []

    def _apply(self, into, key, specs, module, make_args, label, ctx, task_vars, diffs):
        """Applies the plan's entries of one kind with their module, each change shown as a line as it happens (a
        loop task showed one per item); returns the messages of those that failed."""
        if not specs:
            return []
        single = key == "project"  # the pipeline keeps a loop's shape, as its task had
        results, failed = [], []
        for spec in specs:
            args = make_args(spec, ctx)
            if key == "domains":
                with domains_lock():
                    answer = self._module(module, args, ctx, task_vars)
            else:
                answer = self._module(module, args, ctx, task_vars)
            name = spec.get(label)
            if answer.get("failed"):
                failed.append("%s %s: %s" % (key, name, answer.get("msg") or "failed"))
            elif answer.get("changed") and diffs is not None:
                display.display("[%s] %s" % (ctx["host"], describe(answer, key, name, self._task.check_mode)))
            if diffs is not None and answer.get("diff"):
                for diff in answer["diff"] if isinstance(answer["diff"], list) else [answer["diff"]]:
                    diffs.append(dict(diff, before_header="%s %s" % (key, name), after_header="%s %s" % (key, name)))
            results.append(answer if single else dict(answer, item=spec))
        if single:
            into[key] = results[0]
        else:
            into[key] = dict(results=results, changed=any(r.get("changed") for r in results), failed=bool(failed))
        return failed

    def _module(self, module, args, ctx, task_vars):
        if module.startswith("northflank_"):
            args = dict(args, **ctx["connection"])
        if module in SLICED:
            return run_sliced(self, args, task_vars, module_name=MODULE + module)
        return self._execute_module(module_name=MODULE + module, module_args=args, task_vars=task_vars)

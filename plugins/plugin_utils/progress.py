# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of the modules that wait long (an addon starting, an import and its restore, a template, release-flow
or job run, a restart's rollouts): their waits show as progress lines while the task goes on, without ``async``.

The action runs the module with ``progress_interval`` (default ``DEFAULT_INTERVAL`` seconds). A module still waiting
when its slice is over returns ``waiting: true`` and a ``progress`` of names, IDs and statuses (never a secret); the
action prints one line with Ansible's ``Display`` (from a worker process it reaches the controller through the final
queue, so the line shows live in the terminal, and in AWX and ansible-runner as an event) and runs the module again
with the same arguments plus ``progress_resume``. The module reads before it writes, finds what the slice before
started (the run, the import by name, the restarts), writes nothing again and resumes the wait. The results are
merged (``merge_results``) into the one result of the task.

Everything runs in the worker process of the task: stopping the run (Ctrl-C, SIGTERM) stops the wait, unlike an
``async`` job, which goes on in the background. The task's arguments are passed through as given and never shown; a
task with ``no_log`` shows that it waits, not what for.
"""

from __future__ import annotations

from ansible.utils.display import Display

from ansible_collections.herokumigrate.northflank.plugins.plugin_utils.in_process import InProcessAction

display = Display()

DEFAULT_INTERVAL = 30
# A backstop: a wait ends by its own timeout long before this many slices.
MAX_SLICES = 10000
# Lists in a result that gather what every slice did.
GATHERED = ("changed_paths", "actions", "warnings", "deprecations")


def merge_results(results):
    """One task result from the results of the slices of a wait, in order: the last slice's state and outcome,
    ``changed`` when any slice changed something, the first slice's ``diff`` (with the last ``after`` when a later
    slice made a change of its own), ``api_requests`` and ``waited_seconds`` summed, and the lists of ``GATHERED``
    joined without repeats. ``waiting`` and ``progress`` belong to the slices and are left out."""
    if not results:
        return {}
    merged = dict(results[-1])
    merged.pop("waiting", None)
    merged.pop("progress", None)
    merged["changed"] = any(bool(r.get("changed")) for r in results)
    diffs = [r["diff"] for r in results if r.get("diff")]
    merged.pop("diff", None)
    if diffs:
        merged["diff"] = dict(diffs[0])
        if len(diffs) > 1 and isinstance(diffs[-1], dict) and "after" in diffs[-1]:
            merged["diff"]["after"] = diffs[-1]["after"]
    counts = {}
    for result in results:
        for key, number in (result.get("api_requests") or {}).items():
            counts[key] = counts.get(key, 0) + number
    if counts or "api_requests" in merged:
        merged["api_requests"] = counts
    waited = sum(r.get("waited_seconds") or 0 for r in results)
    if waited:
        merged["waited_seconds"] = round(waited, 1)
    for key in GATHERED:
        gathered = []
        for result in results:
            for item in result.get(key) or []:
                if item not in gathered:
                    gathered.append(item)
        if gathered:
            merged[key] = gathered
    return merged


def progress_line(host, progress, no_log=False):
    """The line shown for a slice that ended waiting: the host, what is waited for, its last status, the seconds."""
    seconds = progress.get("seconds") or 0
    if no_log:
        return "[%s] waiting (details hidden by no_log), %ds" % (host, seconds)
    status = progress.get("status")
    return "[%s] waiting for %s%s, %ds" % (host, progress.get("waiting_for") or "the task",
                                           " (%s)" % status if status else "", seconds)


def run_sliced(action, args, task_vars, module_name=None):
    """Runs a module (the task's, or ``module_name``) slice after slice until it stops waiting, showing a progress line
    for each slice that ended waiting; returns the slices' results merged (``merge_results``)."""
    args = dict(args)
    if args.get("progress_interval") is None:
        args["progress_interval"] = DEFAULT_INTERVAL
    host = (task_vars or {}).get("inventory_hostname", "localhost")
    results = []
    while True:
        answer = action._execute_module(module_name=module_name, module_args=args, task_vars=task_vars)
        results.append(answer)
        if answer.get("failed") or not answer.get("waiting") or len(results) >= MAX_SLICES:
            break
        progress = answer.get("progress") or {}
        display.display(progress_line(host, progress, no_log=action._task.no_log))
        args["progress_resume"] = progress.get("resume") or {}
    return merge_results(results)


class ProgressAction(InProcessAction):
    def run(self, tmp=None, task_vars=None):
        result = super(ProgressAction, self).run(tmp, task_vars)
        if self._task.async_val:
            # The user asked for async: one call, as the normal action makes it (the job reports its own status).
            wrap_async = not self._connection.has_native_async
            args = dict(self._task.args, progress_interval=0)
            result.update(self._execute_module(module_args=args, task_vars=task_vars, wrap_async=wrap_async))
            return result
        result.update(run_sliced(self, self._task.args, task_vars))
        self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of every Northflank module: the client built from the module's options, errors turned
into ``fail_json(msg=..., failure={status, message, id, details, request})``, the requests sent
counted in the result (``api_requests``), input checks before any request, and slow polling.

A wait polled with ``poll()`` may be cut into slices (``progress_interval``; see ``progress_spec``): when the slice is
over, ``poll()`` raises ``StillWaiting`` and ``run()`` exits with ``waiting: true``, a secret-free ``progress`` and what
the module did so far (``self.partial``: ``changed``, ``diff``); the action plugin of the same name shows the progress
and runs the module again with ``progress_resume``, and the module, reading before it writes, resumes the wait.

A module subclasses ``NorthflankModule`` and supplies ``_run()``, which returns the result (without
``api_requests``); ``validate()`` may refuse bad input first. The info modules, ``northflank_domain``
and ``northflank_addon_import`` do so directly. Resources that follow the read -> compare -> write
cycle subclass ``NorthflankResource`` (northflank_resource.py) instead, which adds that cycle.
"""

from __future__ import annotations

import time

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.herokumigrate.northflank.plugins.module_utils.api import (
    HAS_REQUESTS, REQUESTS_IMPORT_ERROR, SliceOver)
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank import (
    NorthflankError, argument_spec as connection_spec, client_from_params)


def state_option():
    """The ``state`` option of the modules that create and delete (documented in the northflank_resource fragment)."""
    return dict(type="str", default="present", choices=["present", "absent"])


def progress_spec():
    """The options of the modules that wait in slices (the northflank_progress doc fragment). Unset means one call:
    the action plugin sets the interval (plugins/plugin_utils/progress.py)."""
    return dict(progress_interval=dict(type="int"), progress_resume=dict(type="dict", no_log=False))


class StillWaiting(Exception):
    """The slice of a wait is over (``poll``): ``progress`` says what is waited for, its status, the seconds waited,
    and under ``resume`` what the next slice needs to find the wait again. Never a secret: names, IDs and statuses."""

    def __init__(self, progress):
        super(StillWaiting, self).__init__(progress.get("waiting_for"))
        self.progress = progress


class NorthflankModule(object):
    kind = "resource"        # the word used in messages (``project``, ``secret group``...)
    doing = "managing"       # for error messages: _info modules are "reading"
    slice_end = None         # see __init__ (waiting in slices)
    resume = {}
    partial = {}
    started = 0.0            # time.time() when the module started

    def __init__(self, module):
        self.module = module
        self.params = module.params
        if not HAS_REQUESTS:
            module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        try:
            # A wait for the shared rate-limit budget shows as a warning while the run goes on (docs/user-guide.md,
            # Fleets).
            self.client = client_from_params(module.params, on_wait=getattr(module, "warn", None))
        except NorthflankError as exc:
            module.fail_json(msg=exc.message)
        # Waiting in slices (progress_interval): when this slice ends, what the next slice resumes, and what this
        # call did before it waited (``changed``, ``diff``), returned with ``waiting: true``.
        self.started = time.time()
        interval = module.params.get("progress_interval") or 0
        self.slice_end = time.time() + interval if interval > 0 else None
        self.client.slice_end = self.slice_end
        self.resume = module.params.get("progress_resume") or {}
        self.partial = {}

    @staticmethod
    def spec(**options):
        """The module's options plus the connection options."""
        spec = connection_spec()
        spec.update(options)
        return spec

    # -- to override ----------------------------------------------------------------------
    def validate(self):
        """Return an error message for bad input, before anything is sent."""
        return None

    def _run(self):
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------
    def fail(self, msg, exc=None, **extra):
        if exc is not None:
            extra["failure"] = exc.to_dict()
        extra.setdefault("api_requests", self.client.counts)
        self.module.fail_json(msg=msg, **extra)

    def poll(self, fetch, done, failed=lambda r: False, what="", timeout=600, interval=10, first=None, describe=None,
             resume=None, deadline=None):
        """Poll ``fetch()`` until ``done`` (or ``failed``), slowly: each poll costs API budget.

        The first wait is ``first`` seconds (default: 2, at most ``interval``); each next one doubles,
        up to ``interval``. ``failed`` may return a message (the API's words) to put in the error;
        ``describe(resource)`` tells what was last seen when the time runs out.

        With ``progress_interval`` the wait ends with the slice (``StillWaiting``) and the next slice resumes it:
        ``resume`` (IDs, never secrets; or a function returning them) is what that slice needs to find the wait again
        (a run this call started). The timeout counts from the start of the wait, over all its slices; ``deadline``
        (a ``time.time()``) replaces it for a wait that is one part of a longer one."""
        label = ("%s %s" % (self.kind, what)).strip()
        resumed = self.resume if self.resume.get("waiting_for") == label else {}
        since = resumed.get("since") or time.time()
        deadline = deadline or since + timeout
        delay = min(interval, 2) if first is None else min(interval, first)
        if resumed.get("delay"):
            # The slice before read last and did not wait: wait first, as the uninterrupted poll would have.
            delay = min(interval, resumed["delay"])
            time.sleep(max(0.0, min(delay, deadline - time.time())))
            delay = min(interval, delay * 2)
        while True:
            try:
                self.client.slice_anywhere = True
                resource = fetch()
            except SliceOver as exc:
                raise StillWaiting(self.progress(label, str(exc), since, 0, resume))
            finally:
                self.client.slice_anywhere = False
            if done(resource):
                return resource
            outcome = failed(resource)
            if outcome:
                self.fail("%s %s failed%s" % (self.kind, what, ": %s" % outcome if isinstance(outcome, str) else ""))
            if time.time() + delay > deadline:
                last = " (last seen: %s)" % describe(resource) if describe else ""
                self.fail("timed out after %ds waiting for %s %s%s; a re-run resumes the wait"
                          % (timeout, self.kind, what, last))
            if self.slice_end is not None and time.time() + delay > self.slice_end:
                raise StillWaiting(self.progress(label, describe(resource) if describe else None, since, delay,
                                                 resume))
            time.sleep(delay)
            delay = min(interval, delay * 2)

    @staticmethod
    def progress(label, status, since, delay, resume):
        """The ``progress`` of a result with ``waiting: true`` (see ``StillWaiting``)."""
        resume = resume() if callable(resume) else resume
        return dict(waiting_for=label, status=status, seconds=int(time.time() - since),
                    resume=dict(resume or {}, waiting_for=label, since=since, delay=delay))

    def pacing(self):
        """``poll()`` keywords from a module's ``wait_timeout`` and ``poll_interval`` options: the first wait is
        ``poll_interval`` and the waits back off to six times it (5 s to 30 s by default), which keeps a long wait to a
        few requests of the hourly budget while tests can poll every second."""
        return dict(timeout=self.params["wait_timeout"], first=self.params["poll_interval"],
                    interval=6 * self.params["poll_interval"])

    # What to do about an error Northflank answered, by status: the API's own words name the field or the resource.
    ADVICE = {
        400: "Northflank refused the value named above: change the option (or herokumigrate_* variable) that sets it, "
        "then re-run",
        402: "Northflank refused for billing: the team's plan or quota does not allow it; raise the quota or choose a "
        "smaller plan, then re-run",
        403: "the API token's role may not %(doing)s %(kind)ss: give the token a role with that permission on the "
        "project, then re-run",
        409: "another resource already holds this name: rename or delete it on Northflank (or override the name), "
        "then re-run",
        429: ("Northflank's rate limit is spent: re-run later; what was created is kept and the re-run goes on from "
              "there"),
    }

    def advice(self, exc):
        text = self.ADVICE.get(getattr(exc, "status", None))
        doing = {"managing": "create or change", "reading": "read"}.get(self.doing, self.doing)
        return "; " + text % dict(doing=doing, kind=self.kind) if text else ""

    def run(self):
        if (self.params.get("progress_interval") or 0) < 0:
            self.module.fail_json(msg="progress_interval must be 0 (no progress) or a number of seconds")
        error = self.validate()
        if error:
            self.module.fail_json(msg=error)
        try:
            result = self._run()
        except NorthflankError as exc:
            context = "Northflank API error while %s %s" % (self.doing, self.kind)
            self.fail(exc.in_context(context) + self.advice(exc), exc)
        except StillWaiting as exc:
            # What this slice did (a write before the wait is a change), and what it waits for.
            result = dict(self.partial, waiting=True, progress=exc.progress)
            result["changed"] = bool(result.get("changed")) or self.client.request_count(writes_only=True) > 0
        except SliceOver as exc:
            # A rate-limit wait before anything was written (ApiClient._wait): the next slice starts over, resuming
            # what this one resumed.
            since = self.resume.get("since") or self.started
            result = dict(waiting=True, changed=False, progress=dict(
                waiting_for="the %s rate limit" % self.client.api_name, status=str(exc),
                seconds=int(time.time() - since), resume=dict(self.resume) or dict(since=since)))
        result["api_requests"] = self.client.counts
        if self.client.waited_seconds:
            result["waited_seconds"] = round(self.client.waited_seconds, 1)
        self.module.exit_json(**result)

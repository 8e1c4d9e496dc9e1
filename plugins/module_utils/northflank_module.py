# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of every Northflank module: the client built from the module's options, errors turned
into ``fail_json(msg=..., failure={status, message, id, details, request})``, the requests sent
counted in the result (``api_requests``), input checks before any request, and slow polling.

A module subclasses ``NorthflankModule`` and supplies ``_run()``, which returns the result (without
``api_requests``); ``validate()`` may refuse bad input first. The info modules, ``northflank_domain``
and ``northflank_addon_import`` do so directly. Resources that follow the read -> compare -> write
cycle subclass ``NorthflankResource`` (northflank_resource.py) instead, which adds that cycle.
"""

from __future__ import annotations

import time

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.herokumigrate.northflank.plugins.module_utils.api import HAS_REQUESTS, REQUESTS_IMPORT_ERROR
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank import (
    NorthflankError, argument_spec as connection_spec, client_from_params)


def state_option():
    """The ``state`` option of the modules that create and delete (documented in the northflank_resource fragment)."""
    return dict(type="str", default="present", choices=["present", "absent"])


class NorthflankModule(object):
    kind = "resource"        # the word used in messages (``project``, ``secret group``...)
    doing = "managing"       # for error messages: _info modules are "reading"

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

    def poll(self, fetch, done, failed=lambda r: False, what="", timeout=600, interval=10, first=None, describe=None):
        """Poll ``fetch()`` until ``done`` (or ``failed``), slowly: each poll costs API budget.

        The first wait is ``first`` seconds (default: 2, at most ``interval``); each next one doubles,
        up to ``interval``. ``failed`` may return a message (the API's words) to put in the error;
        ``describe(resource)`` tells what was last seen when the time runs out."""
        deadline = time.time() + timeout
        delay = min(interval, 2) if first is None else min(interval, first)
        while True:
            resource = fetch()
            if done(resource):
                return resource
            outcome = failed(resource)
            if outcome:
                self.fail("%s %s failed%s" % (self.kind, what, ": %s" % outcome if isinstance(outcome, str) else ""))
            if time.time() + delay > deadline:
                last = " (last seen: %s)" % describe(resource) if describe else ""
                self.fail("timed out after %ds waiting for %s %s%s; a re-run resumes the wait"
                          % (timeout, self.kind, what, last))
            time.sleep(delay)
            delay = min(interval, delay * 2)

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
        error = self.validate()
        if error:
            self.module.fail_json(msg=error)
        try:
            result = self._run()
        except NorthflankError as exc:
            context = "Northflank API error while %s %s" % (self.doing, self.kind)
            self.fail(exc.in_context(context) + self.advice(exc), exc)
        result["api_requests"] = self.client.counts
        if self.client.waited_seconds:
            result["waited_seconds"] = round(self.client.waited_seconds, 1)
        self.module.exit_json(**result)

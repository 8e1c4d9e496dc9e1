# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of the Northflank resource modules that follow the read -> compare -> write cycle (project,
secret group, addon, service, job, pipeline, release flow): check mode, diff with secrets masked, and
one result shape. It extends ``NorthflankModule`` (northflank_module.py: client, errors, request
counts, polling), which the modules outside that cycle (info, domain, import) use directly.

A module subclasses ``NorthflankResource`` and supplies:

- ``kind``: the word used in messages (``project``, ``secret group``...);
- ``read()``: the resource as the API returns it, or None when it does not exist;
- ``desired()``: the request body built from what the user set (unset options left out);
- ``view(current)``: the current resource in the shape of ``desired()``, for comparison;
- ``create(body)``, ``update(body, changes, current)``, ``delete(current)``: the writes;
- optionally ``wait(resource)`` (settle an asynchronous change) and ``forbidden_change(...)``
  (refuse a change the API cannot make, such as a decrease).

The base class compares only what the user set (``differences``), writes only when something
differs, and in check mode writes nothing while still reporting what would change.
"""

from __future__ import annotations

import re

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_module import (
    NorthflankModule, state_option)

MASK = "********"
# Name rules of the Northflank API reference (the SDK types cannot express them).
RESOURCE_NAME = re.compile(r"^[a-zA-Z]((-|\s)?[a-zA-Z0-9]+((-|\s)[a-zA-Z0-9]+)*)?$")
GROUP_NAME = re.compile(r"^[a-zA-Z0-9]+((-|\s)[a-zA-Z0-9]+)*$")


def derive_id(name):
    """Northflank derives IDs from names: lower-case, each space becomes a hyphen."""
    return name.lower().replace(" ", "-")


def check_name(name, kind, pattern=RESOURCE_NAME, min_len=3, max_len=39):
    """An error message for a name Northflank would reject, or None."""
    if not (min_len <= len(name) <= max_len) or not pattern.match(name):
        return ("%s name %r is not valid on Northflank: use %d to %d letters, digits and single hyphens or spaces, "
                "starting with a letter" % (kind, name, min_len, max_len))
    return None


def prune(value):
    """Drop None values (options the user did not set), recursively."""
    if isinstance(value, dict):
        return dict((k, prune(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def get_path(data, path):
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def differences(desired, current, path="", exact=()):
    """Dotted paths where ``current`` does not hold what ``desired`` sets.

    Dicts are compared key by key on the keys the user set, so fields the API adds are not
    differences; paths in ``exact`` (maps of variables) must match as a whole; lists must match
    element by element (order matters: buildpacks, ports, stages)."""
    if isinstance(desired, dict) and path not in exact:
        if not isinstance(current, dict):
            return [path or "."]
        out = []
        for key, value in desired.items():
            sub = "%s.%s" % (path, key) if path else key
            out.extend(differences(value, current.get(key), sub, exact))
        return out
    if isinstance(desired, list) and isinstance(current, list) and len(desired) == len(current):
        if all(not differences(d, c, path, exact) for d, c in zip(desired, current)):
            return []
        return [path]
    return [] if desired == current else [path]


def mask(data, secret_paths):
    """A copy of ``data`` with the values of the secret maps (and secret scalars) replaced."""
    if not secret_paths or not isinstance(data, dict):
        return data
    out = dict(data)
    for path in secret_paths:
        head, _sep, rest = path.partition(".")
        if head not in out or out[head] is None:
            continue
        if rest:
            out[head] = mask(out[head], [rest])
        elif isinstance(out[head], dict):
            out[head] = dict((k, MASK) for k in out[head])
        else:
            out[head] = MASK
    return out


def mask_changed_secrets(before, after, secret_paths):
    """Masked before/after in which a changed secret value still shows as changed, never its value."""
    before_m, after_m = mask(before, secret_paths), mask(after, secret_paths)
    for path in secret_paths:
        old, new = get_path(before, path), get_path(after, path)
        if isinstance(old, dict) and isinstance(new, dict):
            target = get_path(after_m, path)
            for key, value in new.items():
                if key in old and old[key] != value:
                    target[key] = MASK + " (changed)"
        elif old is not None and new is not None and old != new and "." not in path:
            after_m[path] = MASK + " (changed)"
    return before_m, after_m


def pick(data, paths):
    """Only the top-level keys named by ``paths`` (for a compact diff)."""
    keys = sorted(set(p.split(".")[0] for p in paths))
    return dict((k, data.get(k)) for k in keys if isinstance(data, dict) and k in data)


class NorthflankResource(NorthflankModule):
    secret_paths = ()       # dotted paths of secret values (maps or scalars), masked in output and diff
    exact_paths = ()        # dotted paths compared as a whole (maps of variables)
    immutable_paths = ()    # dotted paths that cannot change once created
    result_key = "resource"  # key of the resource in the module result

    @staticmethod
    def spec(**options):
        """The module's options plus the connection options and ``state``."""
        return NorthflankModule.spec(state=state_option(), **options)

    # -- to override ----------------------------------------------------------------------
    def read(self):
        raise NotImplementedError

    def desired(self):
        raise NotImplementedError

    def view(self, current):
        return current

    def create(self, body):
        raise NotImplementedError

    def update(self, body, changes, current):
        raise NotImplementedError

    def delete(self, current):
        raise NotImplementedError

    def wait(self, resource):
        """Wait for an asynchronous create or update to settle; returns the settled resource.

        Also called on an existing resource that needs no change (outside check mode), so that a
        re-run after an interrupted wait ends where an uninterrupted run would."""
        return resource

    def forbidden_change(self, body, view, changes):
        """An error message when the API cannot make these changes (a decrease it refuses, a version
        it offers no upgrade to, an option missing to create), or None. Called before any write, in
        check mode too; ``view`` is None and ``changes`` empty when the resource would be created."""
        return None

    # -- the cycle ------------------------------------------------------------------------
    def _run(self):
        check = self.module.check_mode
        current = self.read()
        if self.params["state"] == "absent":
            if current is None:
                return dict(changed=False)
            before = mask(self.view(current), self.secret_paths)
            if not check:
                self.delete(current)
            return dict(changed=True, diff=dict(before=before, after={}))

        body = prune(self.desired())
        if current is None:
            refused = self.forbidden_change(body, None, [])
            if refused:
                self.fail(refused)
            self.partial = {"changed": True, "diff": dict(before={}, after=mask(body, self.secret_paths))}
            result = body if check else self.wait(self.create(body))
            return dict(self.partial, **{self.result_key: mask(result, self.secret_paths)})

        view = self.view(current)
        changes = differences(body, view, exact=self.exact_paths)
        frozen = [p for p in changes if any(p == i or p.startswith(i + ".") for i in self.immutable_paths)]
        if frozen:
            self.fail("cannot change %s of existing %s %r (Northflank does not allow it): delete and recreate it, "
                      "or keep the current value" % (", ".join(frozen), self.kind, body.get("name")))
        if not changes:
            settled = current if check else self.wait(current)
            return {"changed": False, self.result_key: mask(settled, self.secret_paths)}
        refused = self.forbidden_change(body, view, changes)
        if refused:
            self.fail(refused)
        before, after = mask_changed_secrets(pick(view, changes), pick(body, changes), self.secret_paths)
        # What a wait cut short by progress_interval returns (northflank_module.py): the change is made.
        self.partial = {"changed": True, "diff": dict(before=before, after=after), "changed_paths": changes}
        result = current if check else self.wait(self.update(body, changes, current))
        return dict(self.partial, **{self.result_key: mask(result, self.secret_paths)})

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: heroku_app_state
short_description: Read, freeze and restore a Heroku app's maintenance mode and dyno quantities
version_added: 1.0.0
description:
  - Reads a Heroku app's maintenance mode and the quantity of each process type of its formation, and sets them when
    asked. This is how a cut-over freezes the app on Heroku (maintenance on, dynos scaled to zero, so nothing writes to
    its database while the data moves) and how a rollback restores it exactly as it was.
  - These are the only writes the collection ever makes to Heroku. The module refuses to make them unless
    O(allow_heroku_writes=true) (the role variable C(herokumigrate_heroku_writes)); without it a task that would change
    something fails before sending any write, in check mode too, so that a check-mode run tells whether the real run
    would.
  - The state found before any change is returned as RV(before), in the shape the options take, so that it can be
    recorded (in the cut-over's state file) and given back as O(maintenance) and O(formation) to restore it.
  - Idempotent; sends no write when the app already is in the state asked for. Without O(maintenance), O(formation) and
    O(scale_all) it only reads (2 GET requests).
  - "Order of writes: when maintenance mode is turned on it goes first, then the dynos are scaled (freeze); when it is
    turned off the dynos are scaled first (restore), so that the app never serves requests without its dynos."
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.heroku
options:
  app:
    description:
      - Name or ID of the Heroku app.
    type: str
    required: true
  maintenance:
    description:
      - Maintenance mode wanted (Heroku's router then answers every request with its maintenance page). Unset leaves it
        as it is.
    type: bool
  formation:
    description:
      - "Quantity wanted per process type (C(web), C(worker)...), for example V({web: 0, worker: 0})."
      - Every type must be a process type of the app's formation; an unknown one fails before any write, naming the
        known ones.
      - Types not given keep their quantity, unless O(scale_all) is set.
    type: dict
  scale_all:
    description:
      - Quantity for every process type that O(formation) does not name; V(0) stops every dyno (the freeze).
    type: int
  allow_heroku_writes:
    description:
      - The explicit opt-in to writing to Heroku. Without it the module only reads, and fails when the state asked for
        differs from the app's. This is the only way to let the collection write to Heroku.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reads the app and reports what would change; sends no write.
  diff_mode:
    support: full
    description: Maintenance mode and quantities before and after.
notes:
  - Unlike the other Heroku modules, this one needs an API key that may change the app (a collaborator's or team
    member's with the deploy permission) when it is to write.
  - Scaling web dynos to zero while maintenance mode is on still shows Heroku's maintenance page; one-off dynos
    (C(heroku run), Scheduler jobs) are not stopped by either setting.
  - Writes go through C(PATCH /apps/{app}) with body C(maintenance) and one C(PATCH /apps/{app}/formation) whose
    C(updates) list C(type) and C(quantity) of every changed process type.
"""

EXAMPLES = r"""
- name: Record the app's state (reads only)
  herokumigrate.northflank.heroku_app_state:
    app: acme-web
  register: heroku_before

- name: Freeze the app for the data cut-over
  herokumigrate.northflank.heroku_app_state:
    app: acme-web
    maintenance: true
    scale_all: 0
    allow_heroku_writes: "{{ herokumigrate_heroku_writes }}"
  register: frozen

- name: Roll back - restore exactly what was found before the freeze
  herokumigrate.northflank.heroku_app_state:
    app: acme-web
    maintenance: "{{ frozen.before.maintenance }}"
    formation: "{{ frozen.before.formation }}"
    allow_heroku_writes: "{{ herokumigrate_heroku_writes }}"
"""

RETURN = r"""
before:
  description: The app's state before this task, in the shape of the options (to record, and give back to restore).
  returned: always
  type: dict
  contains:
    maintenance:
      description: Maintenance mode.
      type: bool
      returned: always
    formation:
      description: Quantity per process type.
      type: dict
      returned: always
  sample: {maintenance: false, formation: {web: 2, worker: 1}}
after:
  description: The app's state after this task (in check mode, what it would be).
  returned: always
  type: dict
  sample: {maintenance: true, formation: {web: 0, worker: 0}}
app:
  description: The app's C(id) and C(name).
  returned: always
  type: dict
  sample: {id: 01234567-89ab-cdef-0123-456789abcdef, name: acme-web}
changes:
  description: What was (in check mode, would be) changed, in the order of the writes.
  returned: always
  type: list
  elements: str
  sample: ["maintenance: false -> true", "formation web: 2 -> 0", "formation worker: 1 -> 0"]
api_requests:
  description: Requests sent to the Heroku API by this task, per method and route.
  returned: always
  type: dict
  sample: {"GET /apps/{app}": 1, "GET /apps/{app}/formation": 1, "PATCH /apps/{app}": 1,
           "PATCH /apps/{app}/formation": 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils import heroku

APP = "/apps/{app}"
FORMATION = "/apps/{app}/formation"
OPT_IN = "allow_heroku_writes=true (role variable herokumigrate_heroku_writes)"


def read_state(client, app):
    found = client.get(APP, app=app)
    formation = client.list(FORMATION, app=app)
    return found, {"maintenance": bool(found.get("maintenance")), "formation": quantities(formation)}


def quantities(formation):
    return dict((item["type"], item["quantity"]) for item in formation)


def wanted_state(module, before):
    """The state asked for, or a failure naming the option to fix; types not asked for keep their quantity."""
    params = module.params
    formation = params["formation"] or {}
    unknown = sorted(set(formation) - set(before["formation"]))
    if unknown:
        module.fail_json(msg="formation names process types the app %s does not have: %s; its process types are: %s"
                         % (params["app"], ", ".join(unknown), ", ".join(sorted(before["formation"])) or "none"))
    for ptype, quantity in formation.items():
        if isinstance(quantity, bool) or (
            not isinstance(quantity, int) and not (isinstance(quantity, str) and quantity.isdigit())
        ):
            module.fail_json(msg="formation.%s must be a whole number of dynos, got %r" % (ptype, quantity))
    if params["scale_all"] is not None and params["scale_all"] < 0:
        module.fail_json(msg="scale_all must be zero or more, got %d" % params["scale_all"])
    after = {
        "maintenance": before["maintenance"] if params["maintenance"] is None else params["maintenance"],
        "formation": dict(before["formation"]),
    }
    for ptype in after["formation"]:
        if ptype in formation:
            after["formation"][ptype] = int(formation[ptype])
        elif params["scale_all"] is not None:
            after["formation"][ptype] = params["scale_all"]
    if any(q < 0 for q in after["formation"].values()):
        module.fail_json(msg="formation quantities must be zero or more")
    return after


def main():
    options = heroku.argument_spec()
    options.update(
        app=dict(type="str", required=True),
        maintenance=dict(type="bool"),
        formation=dict(type="dict"),
        scale_all=dict(type="int"),
        allow_heroku_writes=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=options, supports_check_mode=True)
    app_name = module.params["app"]
    client = None
    try:
        client = heroku.client_from_params(module.params)
        app, before = read_state(client, app_name)
        after = wanted_state(module, before)
        scaled = [
            (t, before["formation"][t], q) for t, q in sorted(after["formation"].items()) if q != before["formation"][t]
        ]
        maintenance = after["maintenance"] != before["maintenance"]
        writes = []
        if maintenance:
            writes.append("maintenance")
        if scaled:
            # freeze: maintenance first; restore: dynos first
            writes.insert(0 if not after["maintenance"] else len(writes), "formation")
        changes = []
        for write in writes:
            if write == "maintenance":
                changes.append(
                    "maintenance: %s -> %s" % (str(before["maintenance"]).lower(), str(after["maintenance"]).lower())
                )
            else:
                changes.extend("formation %s: %d -> %d" % item for item in scaled)
        result = dict(
            changed=bool(writes),
            before=before,
            after=after,
            changes=changes,
            app={"id": app.get("id"), "name": app.get("name")},
        )
        if module._diff:
            result["diff"] = dict(before=before, after=after)
        if writes and not module.params["allow_heroku_writes"]:
            result["changed"] = False  # refused: nothing was (or would be) changed
            module.fail_json(
                msg="Refusing to write to Heroku app %s (%s): writes to Heroku are off; set %s to allow them"
                % (app_name, "; ".join(changes), OPT_IN),
                api_requests=dict(client.counts),
                **result,
            )
        if writes and not module.check_mode:
            for write in writes:
                if write == "maintenance":
                    updated = client.write("PATCH", APP, {"maintenance": after["maintenance"]}, app=app["id"])
                    result["after"]["maintenance"] = bool(updated.get("maintenance"))
                else:
                    updates = [{"type": t, "quantity": q} for t, _old, q in scaled]
                    updated = client.write("PATCH", FORMATION, {"updates": updates}, app=app["id"])
                    result["after"]["formation"].update(
                        (item["type"], item["quantity"])
                        for item in updated or ()
                        if item.get("type") in after["formation"]
                    )
    except heroku.HerokuError as exc:
        module.fail_json(
            msg="Heroku app %s: %s" % (app_name, exc),
            failure=exc.to_dict(),
            api_requests=dict(client.counts) if client else {},
        )
    module.exit_json(api_requests=dict(client.counts), **result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: heroku_app_info
short_description: Read everything a migration needs about one Heroku app
version_added: 1.0.0
description:
  - Reads one Heroku app through the Platform API into one normalised structure, the input of the migration roles.
  - "Only reads: sends GET requests and nothing else."
  - "Costs 10 GET requests for a Cedar (classic buildpack) app: the app, formation, config vars, add-on attachments
    (which embed each add-on with its plan; the add-on list is read only when they do not), domains, features, pipeline
    coupling, releases, the current slug and the buildpack installations. One more when the app is in a pipeline (the
    pipeline's name), one more (to the Scheduler's host) when it has the Heroku Scheduler add-on. A Fir app costs 9
    (its OCI image replaces the slug and the buildpack installations), an app never released 9 (no slug), a
    container-registry app 8 (neither). With the inventory's O(inventory_snapshot), 3 fewer (the app, formation and
    coupling), the pipeline's name included: 7 for a Cedar app. Each response is read once per task.
    docs/heroku-discovery.md explains each request."
  - When O(config_var_values=true) the result holds the config var values; the whole task result is then hidden from
    output (as with C(no_log)), so register it and use it in later tasks.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.heroku
  - herokumigrate.northflank.heroku_discovery
options:
  app:
    description:
      - Name or ID of the Heroku app.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read the app
  herokumigrate.northflank.heroku_app_info:
    app: acme-web
  register: acme

- name: Show its scenario
  ansible.builtin.debug:
    msg: "{{ acme.app_info.migration.scenario }}"

- name: Read an app of the heroku inventory, reusing what the inventory read of it
  herokumigrate.northflank.heroku_app_info:
    app: "{{ heroku_unit.name }}"
    inventory_snapshot: "{{ heroku_snapshot | default(omit) }}"
  register: unit_app

- name: Read the app with its config var values (the task's output is hidden)
  herokumigrate.northflank.heroku_app_info:
    app: acme-web
    config_var_values: true
  register: acme_with_values
"""

RETURN = r"""
app_info:
  description: The app, normalised.
  returned: always
  type: dict
  contains:
    app:
      description:
        - Name, ID, region, stack, build stack, generation (V(cedar) or V(fir)), space, team, maintenance, internal
          routing, ACM, web URL and Heroku Git URL (C(git_url)).
      type: dict
      returned: always
    formation:
      description: Process types with quantity, dyno size and command; C(web) first.
      type: list
      elements: dict
      returned: always
    process_types:
      description: Commands of the current release by process type, including C(release) for a release phase.
      type: dict
      returned: always
    config_vars:
      description: Config var values by name. Empty unless O(config_var_values=true).
      type: dict
      returned: always
    config_var_classes:
      description: "For every config var, who owns it: V(user), V(addon) (set by an add-on attachment) or V(heroku) (set
        by Heroku)."
      type: dict
      returned: always
    addons:
      description: Add-ons with service, plan, owning app, whether another app owns it, attachments and the config var
        names they set.
      type: list
      elements: dict
      returned: always
    domains:
      description: Domains with kind (V(heroku) or V(custom)), DNS target and status.
      type: list
      elements: dict
      returned: always
    custom_domains:
      description: Host names of the custom domains.
      type: list
      elements: str
      returned: always
    buildpacks:
      description: Buildpacks in Heroku's order (from the OCI image for Fir apps).
      type: list
      elements: str
      returned: always
    features:
      description: Labs features by name, with whether each is enabled.
      type: dict
      returned: always
    pipeline:
      description: The pipeline the app is coupled to (ID, name, stage), or null.
      type: dict
      returned: always
    release:
      description:
        - "The current release: C(id), C(version), C(created_at), C(description), C(slug_id) (Cedar) or C(oci_image_id)
          (Fir), and from the slug or image C(commit), C(stack), C(buildpack_description) and C(process_types) (the
          release phase included), and C(has_release_phase)."
        - All but C(id), C(version), C(created_at) and C(description) are null or empty for container-registry apps.
      type: dict
      returned: always
    scheduler:
      description:
        - Heroku Scheduler jobs (C(id), C(command), C(dyno_size), C(every), C(at)) with their UTC cron C(schedule).
        - C(available=false) with a C(reason), and a warning, when the app has the add-on but its jobs could not be
          read.
      type: dict
      returned: always
    migration:
      description:
        - The migration C(scenario) (V(single_dyno), V(multi_dyno), V(pipeline)) or V(unsupported) with its C(reason),
          the C(process_types) that run, and C(warnings).
      type: dict
      returned: always
  sample:
    app: {name: acme-web, region: us, stack: heroku-24, generation: cedar}
    formation: [{type: web, quantity: 2, size: standard-1X, command: "bundle exec puma"}]
    migration: {scenario: single_dyno, reason: null, process_types: [web], warnings: []}
inventory_snapshot:
  description:
    - Whether the inventory's snapshot (O(inventory_snapshot)) stood for the requests it covers (C(used)), and if not
      C(reason) (no snapshot, from the inventory cache, too old, of another unit, malformed).
  returned: always
  type: dict
  sample: {"used": true, "reason": null}
api_requests:
  description:
    - Requests sent to the Heroku API by this task, per method and route.
    - Requests to the Scheduler's host are counted as C(scheduler GET /apps/{app}/jobs).
  returned: always
  type: dict
  sample: {"GET /apps/{app}": 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku import HerokuError
from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_discovery import (
    discovery_argument_spec, discovery_from_module, request_counts, usable_snapshot)


def main():
    options = discovery_argument_spec()
    options["app"] = dict(type="str", required=True)
    module = AnsibleModule(argument_spec=options, supports_check_mode=True)
    discovery = discovery_from_module(module)
    snapshot, why_not = usable_snapshot(module.params["inventory_snapshot"], "app", module.params["app"],
                                        module.params["snapshot_max_age"])
    used = dict(used=snapshot is not None, reason=why_not)
    try:
        info = discovery.app_info(module.params["app"], snapshot=snapshot)
    except HerokuError as exc:
        module.fail_json(msg=exc.unit_message("app", module.params["app"]),
                         failure=exc.to_dict(), api_requests=request_counts(discovery), inventory_snapshot=used)
    if not module.params["config_var_values"]:
        info["config_vars"] = {}
    module.exit_json(changed=False, app_info=info, api_requests=request_counts(discovery),
                     inventory_snapshot=used)


if __name__ == "__main__":
    main()

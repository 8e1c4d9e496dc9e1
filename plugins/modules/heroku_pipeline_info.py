#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: heroku_pipeline_info
short_description: Read a Heroku pipeline, its stages and every app in it
version_added: 1.0.0
description:
  - Reads a Heroku pipeline, its couplings by stage, and each app with the same code as
    M(herokumigrate.northflank.heroku_app_info).
  - Refuses (as C(migration.scenario=unsupported), with the C(reason)) a pipeline whose apps span several regions, that
    holds an app that cannot be migrated, or that has no app in a development, staging or production stage.
  - Apps in the review and test stages are read and listed but not migrated; C(migration.warnings) names them.
  - "Only reads. Costs 2 requests (the pipeline and its couplings) plus, per app, what
    M(herokumigrate.northflank.heroku_app_info) costs less its 2 pipeline look-ups: 9 for a Cedar app. With the
    inventory's O(inventory_snapshot), neither the pipeline nor its couplings nor each app and its formation are read:
    7 per Cedar app and nothing for the pipeline."
  - When O(config_var_values=true) the result holds the config var values; the whole task result is then hidden from
    output.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.heroku
  - herokumigrate.northflank.heroku_discovery
options:
  pipeline:
    description:
      - Name or ID of the Heroku pipeline.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read the pipeline
  herokumigrate.northflank.heroku_pipeline_info:
    pipeline: acme
  register: acme

- name: Read a pipeline of the heroku inventory, reusing what the inventory read of it
  herokumigrate.northflank.heroku_pipeline_info:
    pipeline: "{{ heroku_unit.name }}"
    inventory_snapshot: "{{ heroku_snapshot | default(omit) }}"
  register: unit_pipeline

- name: Apps of the production stage
  ansible.builtin.debug:
    msg: "{{ acme.pipeline_info.stages.production }}"
"""

RETURN = r"""
pipeline_info:
  description: The pipeline, normalised.
  returned: always
  type: dict
  contains:
    pipeline:
      description: ID, name and generation of the pipeline.
      type: dict
      returned: always
    stages:
      description: App names by stage (V(review), V(development), V(staging), V(production), ...).
      type: dict
      returned: always
    apps:
      description: Each app as RV(herokumigrate.northflank.heroku_app_info#module:app_info) describes it.
      type: list
      elements: dict
      returned: always
    migration:
      description: C(scenario) V(pipeline), or V(unsupported) with the C(reason); C(region) when there is one;
        C(warnings).
      type: dict
      returned: always
  sample:
    pipeline: {name: acme}
    stages: {staging: [acme-staging], production: [acme-production]}
    migration: {scenario: pipeline, reason: null, region: us, warnings: []}
inventory_snapshot:
  description:
    - Whether the inventory's snapshot (O(inventory_snapshot)) stood for the requests it covers (C(used)), and if not
      C(reason) (no snapshot, from the inventory cache, too old, of another unit, malformed).
  returned: always
  type: dict
  sample: {"used": true, "reason": null}
api_requests:
  description: Requests sent to the Heroku API by this task, per method and route.
  returned: always
  type: dict
  sample: {"GET /pipelines/{pipeline}": 1, "GET /pipelines/{pipeline}/pipeline-couplings": 1, "GET /apps/{app}": 2}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku import HerokuError
from ansible_collections.herokumigrate.northflank.plugins.module_utils.heroku_discovery import (
    discovery_argument_spec, discovery_from_module, request_counts, usable_snapshot)


def main():
    options = discovery_argument_spec()
    options["pipeline"] = dict(type="str", required=True)
    module = AnsibleModule(argument_spec=options, supports_check_mode=True)
    discovery = discovery_from_module(module)
    snapshot, why_not = usable_snapshot(module.params["inventory_snapshot"], "pipeline", module.params["pipeline"],
                                        module.params["snapshot_max_age"])
    used = dict(used=snapshot is not None, reason=why_not)
    try:
        info = discovery.pipeline_info(module.params["pipeline"], snapshot=snapshot)
    except HerokuError as exc:
        module.fail_json(msg=exc.unit_message("pipeline", module.params["pipeline"]),
                         failure=exc.to_dict(), api_requests=request_counts(discovery), inventory_snapshot=used)
    if not module.params["config_var_values"]:
        for app in info["apps"]:
            app["config_vars"] = {}
    module.exit_json(changed=False, pipeline_info=info, api_requests=request_counts(discovery),
                     inventory_snapshot=used)


if __name__ == "__main__":
    main()

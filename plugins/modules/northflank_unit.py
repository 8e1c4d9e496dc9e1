#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The work is done by the action plugin of the same name (plugins/action/northflank_unit.py), on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_unit
short_description: Plan one Heroku unit and apply its Northflank resources in dependency order
version_added: 1.1.0
description:
  - Maps what discovery read of one migration unit (a Heroku app, or a pipeline and its apps) to Northflank resources
    with the collection's mapping rules (docs/mapping.md), then applies them in dependency order, each with its module
    and the arguments the role's tasks gave it. The Heroku Git mirror when O(git_mirror=true) is set
    (M(herokumigrate.northflank.heroku_git_mirror)), then the project, addons, services, jobs, secret groups, domains,
    pipeline and release flows. In mode V(verify) it then reads the services and addons back.
  - This is the step the C(herokumigrate.northflank.herokumigrate) role runs for each unit. One task instead of one per
    resource kind keeps Ansible's per-task cost out of a fleet's run; the modules run in the task's worker process when
    Ansible would run them on this controller with this Python anyway.
  - The Northflank connection options given to this task (or through C(module_defaults) for the group
    C(group/herokumigrate.northflank.northflank)) are passed to every Northflank module; those not given are read from
    the environment by each module, as usual. The Git mirror reads the Heroku token from the environment.
  - A kind whose resources fail stops the unit after the resources of that kind were tried; the task fails with their
    messages, and its result still holds what was applied, for the record.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
options:
  unit:
    description:
      - The unit, C(kind) (V(app) or V(pipeline)) and C(name) (its Heroku name).
    type: dict
    required: true
  info:
    description:
      - What M(herokumigrate.northflank.heroku_app_info) (C(app_info)) or
        M(herokumigrate.northflank.heroku_pipeline_info) (C(pipeline_info)) returned for the unit, with config var
        values. The values go only to the modules' C(no_log) options.
    type: dict
    required: true
  settings:
    description:
      - The mapping settings, as the role's C(herokumigrate_settings) builds them from its variables.
    type: dict
    required: true
  scenario:
    description:
      - The scenario the caller expects (V(single_dyno), V(multi_dyno), V(pipeline)); a unit of another scenario fails
        before anything is written. Empty, whatever discovery found.
    type: str
    default: ""
  mode:
    description:
      - The run's mode, as recorded in the report (V(plan), V(migrate), V(verify), ...). In mode V(verify) domains are
        not asked to verify, and the services and addons are read back.
    type: str
    required: true
  git_mirror:
    description:
      - Mirror each app's Heroku Git repository to the repository Northflank builds from, before the services.
    type: bool
    default: false
  git_target_token:
    description:
      - Token of the target Git host, for the mirror.
    type: str
    default: ""
  git_target_username:
    description:
      - User name to send with O(git_target_token).
    type: str
    default: x-access-token
  git_tags:
    description:
      - Mirror tags too.
    type: bool
    default: true
  git_force:
    description:
      - Overwrite target branches that have diverged.
    type: bool
    default: false
  wait_for_addons:
    description:
      - Wait until each new addon runs.
    type: bool
    default: false
  verify_domains:
    description:
      - Ask Northflank to verify each domain's DNS records (never in mode V(verify)).
    type: bool
    default: false
  poll_interval:
    description:
      - Seconds between status reads while a pipeline's template runs.
    type: int
    default: 10
  progress_interval:
    description:
      - Seconds between the progress lines of a wait.
    type: int
    default: 30
attributes:
  check_mode:
    description: Sends no write request; each module reports what it would create or change.
    support: full
  diff_mode:
    description: One diff per resource that changes, headed by its kind and name, with secret values masked.
    support: full
  idempotent:
    description: A re-run that finds nothing different sends no write and reports no change.
    support: full
notes:
  - Domains are registered one unit at a time across the run's forks (a lock file next to the rate-limit ledgers), since
    units often share a registered domain.
  - A unit the rules cannot map (scenario V(unsupported)) is not planned; the task reports no change and says why.
seealso:
  - module: herokumigrate.northflank.heroku_app_info
  - module: herokumigrate.northflank.northflank_service
"""

EXAMPLES = r"""
- name: Read the Heroku app with its config var values
  herokumigrate.northflank.heroku_app_info:
    app: acme-web
    config_var_values: true
  register: discovery

- name: Plan and apply its Northflank resources
  herokumigrate.northflank.northflank_unit:
    unit: {kind: app, name: acme-web}
    info: "{{ discovery.app_info }}"
    settings: "{{ herokumigrate_settings }}"
    mode: migrate
  register: applied
"""

RETURN = r"""
plan:
  description: The unit's plan, names and settings only (never a value); null when the unit is not planned.
  returned: always
  type: dict
applied:
  description:
    - Per resource kind (C(project), C(addons), C(services), C(jobs), C(secret_groups), C(domains), C(pipeline),
      C(release_flows), C(git_mirrors)), the result of its module; for a kind with several entries, C(results) holds
      one result per plan entry, with that entry under C(item), as a loop's registered result does.
  returned: always
  type: dict
runtime:
  description: In mode V(verify), the results of reading the services and addons back, shaped as RV(applied).
  returned: always
  type: dict
ansible_facts:
  description: C(herokumigrate_plan_resources), the plan, for the tasks that follow (the cut-over, the rollback).
  returned: when the unit is planned
  type: dict
"""

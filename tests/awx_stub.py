# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-ins for the awx.awx modules docs/awx/configure-awx.yml uses, since awx.awx is not installed here and no
collection may be downloaded. Each accepts only the options the real module documents and records what it is
given (as a JSON line in the file named by AWX_STUB_LOG, when set).

- tests/unit/test_awx.py runs the playbook against them;
- ``make lint`` puts them on ansible-lint's collection path, so that ansible-lint resolves (and checks the
  options of) the awx.awx modules: ``python -m tests.awx_stub DIRECTORY`` writes the collection tree.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The options of the awx.awx modules configure-awx.yml uses, from the awx.awx module documentation (24.x).
AWX_MODULE_OPTIONS = {
    "credential_type": {"name", "new_name", "description", "kind", "inputs", "injectors", "state"},
    "credential": {
        "name",
        "new_name",
        "copy_from",
        "description",
        "organization",
        "credential_type",
        "inputs",
        "user",
        "team",
        "update_secrets",
        "state",
    },
    "execution_environment": {
        "name",
        "new_name",
        "copy_from",
        "description",
        "image",
        "organization",
        "credential",
        "pull",
        "state",
    },
    "project": {
        "name",
        "new_name",
        "copy_from",
        "description",
        "organization",
        "scm_type",
        "scm_url",
        "scm_branch",
        "scm_refspec",
        "credential",
        "scm_clean",
        "scm_delete_on_update",
        "scm_track_submodules",
        "scm_update_on_launch",
        "scm_update_cache_timeout",
        "allow_override",
        "timeout",
        "default_environment",
        "wait",
        "update_project",
        "interval",
        "state",
    },
    "inventory": {
        "name",
        "new_name",
        "copy_from",
        "description",
        "organization",
        "variables",
        "kind",
        "host_filter",
        "instance_groups",
        "state",
    },
    "inventory_source": {
        "name",
        "new_name",
        "description",
        "inventory",
        "organization",
        "source",
        "source_path",
        "source_vars",
        "source_project",
        "scm_branch",
        "enabled_var",
        "enabled_value",
        "host_filter",
        "limit",
        "credential",
        "execution_environment",
        "overwrite",
        "overwrite_vars",
        "timeout",
        "verbosity",
        "update_on_launch",
        "update_cache_timeout",
        "state",
    },
    "job_template": {
        "name",
        "new_name",
        "copy_from",
        "description",
        "organization",
        "job_type",
        "inventory",
        "project",
        "playbook",
        "credentials",
        "execution_environment",
        "forks",
        "limit",
        "verbosity",
        "extra_vars",
        "job_tags",
        "skip_tags",
        "timeout",
        "ask_limit_on_launch",
        "ask_variables_on_launch",
        "ask_inventory_on_launch",
        "ask_diff_mode_on_launch",
        "ask_job_type_on_launch",
        "survey_enabled",
        "survey_spec",
        "become_enabled",
        "allow_simultaneous",
        "diff_mode",
        "scm_branch",
        "job_slice_count",
        "labels",
        "instance_groups",
        "state",
    },
    "schedule": {
        "name",
        "new_name",
        "description",
        "rrule",
        "unified_job_template",
        "organization",
        "enabled",
        "extra_data",
        "inventory",
        "credentials",
        "job_type",
        "limit",
        "diff_mode",
        "verbosity",
        "state",
    },
    "workflow_job_template": {
        "name",
        "new_name",
        "copy_from",
        "description",
        "extra_vars",
        "organization",
        "allow_simultaneous",
        "ask_variables_on_launch",
        "inventory",
        "limit",
        "scm_branch",
        "ask_inventory_on_launch",
        "ask_scm_branch_on_launch",
        "ask_limit_on_launch",
        "survey_enabled",
        "survey_spec",
        "labels",
        "workflow_nodes",
        "destroy_current_nodes",
        "state",
    },
    "workflow_job_template_node": {
        "identifier",
        "workflow_job_template",
        "organization",
        "unified_job_template",
        "approval_node",
        "extra_data",
        "inventory",
        "limit",
        "job_type",
        "diff_mode",
        "all_parents_must_converge",
        "success_nodes",
        "always_nodes",
        "failure_nodes",
        "credentials",
        "state",
    },
}
STUB_MODULE = """#!/usr/bin/python
# Stand-in for awx.awx.%(name)s in tests: accepts the documented options only, records what it is given.
import json
import os

from ansible.module_utils.basic import AnsibleModule

OPTIONS = %(options)r


def main():
    module = AnsibleModule(argument_spec=dict((o, dict(type="raw")) for o in OPTIONS), supports_check_mode=True)
    if os.environ.get("AWX_STUB_LOG"):
        with open(os.environ["AWX_STUB_LOG"], "a") as log:
            params = dict((k, v) for k, v in module.params.items() if v is not None)
            log.write(json.dumps({"module": "%(name)s", "params": params}) + "\\n")
    module.exit_json(changed=True)


if __name__ == "__main__":
    main()
"""


def write_stub_collections(root: Path) -> Path:
    """ROOT/ansible_collections/awx/awx with one stand-in module per entry of AWX_MODULE_OPTIONS; returns ROOT."""
    collection = root / "ansible_collections" / "awx" / "awx"
    (collection / "plugins" / "modules").mkdir(parents=True, exist_ok=True)
    (collection / "meta").mkdir(exist_ok=True)
    (collection / "galaxy.yml").write_text("namespace: awx\nname: awx\nversion: 0.0.0\n", encoding="utf-8")
    (collection / "meta" / "runtime.yml").write_text("requires_ansible: '>=2.15.0'\n", encoding="utf-8")
    for name, options in AWX_MODULE_OPTIONS.items():
        text = STUB_MODULE % {"name": name, "options": sorted(options)}
        (collection / "plugins" / "modules" / (name + ".py")).write_text(text, encoding="utf-8")
    return root


if __name__ == "__main__":
    write_stub_collections(Path(sys.argv[1]))

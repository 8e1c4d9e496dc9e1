# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Modules whose requests depend on how the emulator reads as Northflank documents: run through ansible-playbook.

- northflank_secret_group with ``addon_links``: the group's GET without ``show`` carries the linked addons' values too
  (get-secret), so the module reads ``show=this`` and a second run changes nothing and writes nothing.
- northflank_domain sends subdomain names in lower case, as Northflank's subdomain pattern requires.
"""

from __future__ import annotations

import json
import re

import yaml

from tests.helpers import run_playbook
from tests.integration.northflank_emulator_api import ADDON, project

P = "/v1/projects/acme-web"


def play(tmp_path, northflank, task: dict) -> dict:
    """Run one task in a playbook; the task's registered result and the play recap's ``changed`` count."""
    playbook = tmp_path / "play.yml"
    task = {**task, "register": "result"}
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
        task, {"name": "Show the result", "ansible.builtin.debug": {"var": "result"}}]}]))
    run = run_playbook(str(playbook), northflank.env())
    recap = re.search(r"localhost\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", run.stdout)
    assert recap, run.stdout
    shown = run.stdout[run.stdout.index('"result": ') + len('"result": '):]
    return {"changed": int(recap.group(1)), "result": json.JSONDecoder().raw_decode(shown)[0]}


def test_a_secret_group_with_addon_links_is_unchanged_on_the_second_run(api, northflank, tmp_path):
    project(api)
    api.data("PUT", f"{P}/addons", ADDON)
    task = {
        "name": "Secret group linked to the database",
        "herokumigrate.northflank.northflank_secret_group": {
            "project": "acme-web",
            "name": "acme-web-env",
            "variables": {"SECRET_KEY_BASE": "x"},
            "addon_links": [
                {
                    "addon": "acme-web-db",
                    "keys": [{"name": "POSTGRES_URI", "aliases": ["DATABASE_URL"]}, {"name": "HOST"}],
                }
            ],
        },
    }
    first = play(tmp_path, northflank, task)
    assert first["changed"] == 1 and first["result"]["changed"] is True
    # the group's plain GET now holds the linked values next to its own
    assert set(api.data("GET", f"{P}/secrets/acme-web-env")["secrets"]["variables"]) == {
        "SECRET_KEY_BASE",
        "DATABASE_URL",
        "NF_ACME-WEB-DB_HOST",
    }
    northflank.clear_log()
    second = play(tmp_path, northflank, task)
    assert second["changed"] == 0 and second["result"]["changed"] is False
    log = northflank.requests()
    assert log["writes"] == 0, log["counts"]
    assert any(e["path"] == f"{P}/secrets/acme-web-env" and e["query"] == "show=this" for e in log["requests"])


def test_domain_subdomains_are_sent_in_lower_case(api, northflank, tmp_path):
    task = {
        "name": "A domain with a capitalised subdomain",
        "herokumigrate.northflank.northflank_domain": {
            "domain": "Acme.com",
            "verify": True,
            "poll_interval": 1,
            "subdomains": [{"name": "WWW"}, {"name": " Api "}],
        },
    }
    first = play(tmp_path, northflank, task)
    assert first["changed"] == 1
    assert sorted(s["name"] for s in first["result"]["subdomains"]) == ["api", "www"]
    assert api.data("GET", "/v1/domains/acme.com/subdomains/www")["fullName"] == "www.acme.com"
    northflank.clear_log()
    second = play(tmp_path, northflank, task)
    assert second["changed"] == 0 and northflank.requests()["writes"] == 0

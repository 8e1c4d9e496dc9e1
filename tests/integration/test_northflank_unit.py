# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""northflank_unit on its own, outside the role: one task plans a unit and applies its resources, passes its Northflank
connection options to every module, converges (a re-run sends no write), masks secrets in its diff, and refuses a unit
of another scenario before any write."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.helpers import ROOT, EmulatorProcess, demo_app, run_playbook, write_one_app_world

APP = "northwind-shop"  # web + worker: a project, addons, services, a secret group


def playbook(work):
    role = ROOT / "roles" / "herokumigrate"
    play = {
        "name": "One unit with northflank_unit",
        "hosts": "all",
        "gather_facts": False,
        "connection": "local",
        "vars_files": [str(role / "defaults" / "main.yml"), str(role / "vars" / "main.yml")],
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": [
            {
                "name": "Read the app",
                "herokumigrate.northflank.heroku_app_info": {"app": APP, "config_var_values": True},
                "register": "discovery",
            },
            {
                "name": "Plan and apply",
                "herokumigrate.northflank.northflank_unit": {
                    "unit": {"kind": "app", "name": APP},
                    "info": "{{ discovery.app_info }}",
                    "settings": "{{ herokumigrate_settings }}",
                    "scenario": "{{ expected | default('') }}",
                    "mode": "{{ herokumigrate_mode }}",
                    "api_url": "{{ northflank_url }}",
                },
                "register": "applied",
            },
            {
                "name": "Show",
                "ansible.builtin.debug": {
                    "msg": "RESULT {{ {'changed': applied.changed, 'kinds': applied.applied | list | sort,"
                    " 'project': applied.plan.project.name} | to_json }}"
                },
            },
        ],
    }
    path = work / "play.yml"
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    return str(path)


@pytest.fixture()
def world(tmp_path):
    app = demo_app(APP)
    write_one_app_world(tmp_path, app)
    heroku = EmulatorProcess("heroku", "--fixture", str(tmp_path / "heroku.yml"))
    northflank = EmulatorProcess("northflank")
    try:
        yield tmp_path, heroku, northflank, app
    finally:
        heroku.stop()
        northflank.stop()


def run(world, *args, check=True, **extra):
    work, heroku, northflank, _app = world
    # The environment points the modules elsewhere: only the task's api_url can reach the emulator.
    env = dict(heroku.env(), NORTHFLANK_API_TOKEN=northflank.token, NORTHFLANK_API_BASE_URL="http://127.0.0.1:9")
    # The inventory's variables as extra vars: the role's defaults, read as vars_files, would take precedence otherwise.
    variables = yaml.safe_load((work / "inventory.yml").read_text())["all"]["vars"]
    northflank.clear_log()
    result = run_playbook(playbook(work), env, "-i", str(work / "inventory.yml"),
                          "-e", json.dumps(dict(variables, northflank_url=northflank.url, **extra)), *args, check=check)
    shown = None
    if '"msg": "RESULT ' in result.stdout:
        shown = json.loads(result.stdout.split('"msg": "RESULT ', 1)[1].split('"\n', 1)[0].replace('\\"', '"'))
    return result, shown, northflank.requests()


def test_one_task_applies_the_unit_and_converges(world):
    _work, _heroku, _northflank, app = world
    result, shown, log = run(world, "--diff")
    assert shown["changed"] is True and shown["project"] == APP
    assert {"project", "addons", "services", "secret_groups"} <= set(shown["kinds"])
    assert log["writes"] > 0
    assert f"[{APP}] changed services" in result.stdout  # a line per resource that changed
    values = [str(v) for v in app["config_vars"].values() if len(str(v)) > 6]
    assert values and not [v for v in values if v in result.stdout]  # the diff masks every config var value
    result, shown, log = run(world, "--diff", "-vvv")
    assert shown["changed"] is False and log["writes"] == 0  # the re-run converges and sends no write
    assert not [v for v in values if v in result.stdout]


def test_a_unit_of_another_scenario_fails_before_any_write(world):
    result, shown, log = run(world, check=False, expected="pipeline")
    assert result.returncode != 0 and shown is None
    assert f"{APP} is a multi_dyno unit, not pipeline" in result.stdout
    assert log["total"] == 0  # refused before any request to Northflank

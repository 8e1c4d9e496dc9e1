# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's modules run inside the task's worker process when Ansible would run them on the controller with the
controller's Python anyway (plugins/plugin_utils/in_process.py), and as a module process otherwise: the same results,
the task's ``environment`` and check mode honoured, and ``HEROKUMIGRATE_MODULE_PROCESS=always`` as the way back."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from tests.helpers import EmulatorProcess, run_playbook

TASKS = [
    {
        "name": "A project, the token from the task's environment only",
        "herokumigrate.northflank.northflank_project": {"name": "{{ item }}", "region": "europe-west"},
        "environment": {"NORTHFLANK_API_TOKEN": "{{ token }}"},
        "loop": ["in-process-a", "in-process-b"],
        "register": "created",
    },
    {
        "name": "Show",
        "ansible.builtin.debug": {"msg": "RESULT {{ created.results | map(attribute='changed') | list | to_json }}"},
    },
]


def playbook(tmp_path, interpreter="{{ ansible_playbook_python }}"):
    path = tmp_path / f"play-{abs(hash(interpreter))}.yml"
    play = {
        "name": "Modules of the collection",
        "hosts": "localhost",
        "gather_facts": False,
        "connection": "local",
        "vars": {"ansible_python_interpreter": interpreter},
        "tasks": TASKS,
    }
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    return str(path)


@pytest.fixture()
def northflank():
    server = EmulatorProcess("northflank")
    try:
        yield server
    finally:
        server.stop()


def run(northflank, path, *args, **env):
    base = {"NORTHFLANK_API_BASE_URL": northflank.url, "NORTHFLANK_API_TOKEN": "", **env}
    northflank.clear_log()
    result = run_playbook(path, base, "-vvv", "-e", json.dumps({"token": northflank.token}), *args)
    changed = json.loads(result.stdout.split('"msg": "RESULT ', 1)[1].split('"\n', 1)[0].replace('\\"', '"'))
    return result, changed, northflank.requests()


def test_in_process_and_as_a_process_give_the_same_results(northflank, tmp_path):
    path = playbook(tmp_path)
    result, changed, log = run(northflank, path, "--check")
    assert changed == [True, True] and log["writes"] == 0  # check mode holds in-process
    assert "AnsiballZ_northflank_project" not in result.stdout  # no module file was written, no process started
    result, changed, log = run(northflank, path)
    assert changed == [True, True] and log["writes"] == 2
    assert "AnsiballZ_northflank_project" not in result.stdout
    result, changed, log = run(northflank, path, HEROKUMIGRATE_MODULE_PROCESS="always")
    assert changed == [False, False] and log["writes"] == 0
    assert "AnsiballZ_northflank_project" in result.stdout  # the usual way: a module process per call


def test_another_interpreter_takes_the_usual_way(northflank, tmp_path):
    wrapper = tmp_path / "python"  # another file than the controller's Python, though it starts it
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    result, changed, log = run(northflank, playbook(tmp_path, interpreter=str(wrapper)), "--check")
    assert changed == [True, True] and log["writes"] == 0
    assert "AnsiballZ_northflank_project" in result.stdout

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX inventory source file (docs/awx/project/inventory/herokumigrate.heroku.yml) as AWX runs it:
``ansible-inventory --list`` on the file, the Heroku API key in HEROKU_API_KEY as the credential type injects
it, against the Heroku emulator with the demo account. A second run within the cache timeout is served from
the plugin's cache (under ~, here a temporary HOME) without a single Heroku request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import COLLECTIONS, ROOT, EmulatorProcess, ensure_collection_link

SOURCE = ROOT / "docs" / "awx" / "project" / "inventory" / "herokumigrate.heroku.yml"
DEMO = ROOT / "tests" / "emulators" / "fixtures" / "demo.yml"


@pytest.fixture(scope="module", name="heroku")
def heroku_fixture():
    server = EmulatorProcess("heroku", "--fixture", str(DEMO))
    yield server
    server.stop()


def inventory_list(server: EmulatorProcess, home: Path) -> dict:
    ensure_collection_link()
    env = {**os.environ, **server.env(), "HOME": str(home), "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
           "ANSIBLE_CONFIG": str(ROOT / "tests" / "ansible.cfg")}
    cmd = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(SOURCE), "--list"]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert server.token not in result.stdout + result.stderr
    return json.loads(result.stdout)


def test_inventory_source_lists_the_units_then_serves_them_from_cache(heroku, tmp_path):
    heroku.clear_log()
    first = inventory_list(heroku, tmp_path)
    sent = heroku.requests()["total"]
    assert sent > 0
    hosts = set(first["_meta"]["hostvars"])
    assert "northwind-api" in hosts, sorted(hosts)
    for group in ("single_dyno", "multi_dyno", "pipeline", "unsupported"):
        assert first.get(group, {}).get("hosts"), "no host in group %s: %s" % (group, sorted(first))
    # group_vars next to the source file come with it, as AWX imports them
    assert all("herokumigrate_repository_default" in str(v) for v in first["_meta"]["hostvars"].values())
    cache_files = list((tmp_path / ".cache" / "herokumigrate-inventory").glob("herokumigrate_heroku*"))
    assert cache_files, "the plugin wrote no cache under ~/.cache/herokumigrate-inventory"

    heroku.clear_log()
    second = inventory_list(heroku, tmp_path)
    assert heroku.requests()["total"] == 0, "a second run within cache_timeout reads Heroku again"
    assert set(second["_meta"]["hostvars"]) == hosts

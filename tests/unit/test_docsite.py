# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/docsite/: what antsibull-docs renders with the module reference.

- docs/docsite/rst/ is what tools/docsite.py makes of the Markdown guides today (run ``make docsite`` after
  editing a guide);
- extra-docs.yml lists every RST document once, and only those; every document has its label;
- links.yml points at this collection's repository (galaxy.yml).
``make lint`` runs ``antsibull-docs lint-collection-docs`` on them too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCSITE = ROOT / "docs" / "docsite"


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_rst_is_generated_from_the_current_guides():
    result = subprocess.run(
        [sys.executable, "tools/docsite.py", "--check"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_extra_docs_lists_every_document_once():
    sections = load(DOCSITE / "extra-docs.yml")["sections"]
    assert all(set(s) == {"title", "toctree"} and s["title"] and s["toctree"] for s in sections)
    listed = [entry for s in sections for entry in s["toctree"]]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == sorted(p.stem for p in (DOCSITE / "rst").glob("*.rst"))
    assert {"user_guide", "mapping", "awx"} <= set(listed)
    for name in listed:
        first_lines = (DOCSITE / "rst" / (name + ".rst")).read_text(encoding="utf-8").splitlines()[:4]
        assert ".. _ansible_collections.herokumigrate.northflank.docsite.%s:" % name in first_lines


def test_links_point_at_the_repository():
    links = load(DOCSITE / "links.yml")
    galaxy = load(ROOT / "galaxy.yml")
    repository = galaxy["repository"]
    assert "https://github.com/" + links["edit_on_github"]["repository"] == repository
    assert links["issue_tracker"] == galaxy["issues"]
    assert all(link["url"].startswith(repository) for link in links["extra_links"])

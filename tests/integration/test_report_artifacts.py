"""The report of a run as AWX runs it: playbooks/migrate.yml through ansible-runner (its Python API, a private data
directory) against both emulators. The report files land in the job's artifact directory, the summary reaches the
runner's events as set_stats artifact data (no secret), and the HTML report is one self-contained file that a browser
(headless Chromium) renders with every unit, in order."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import COLLECTIONS, ROOT, EmulatorProcess, ensure_collection_link

ansible_runner = pytest.importorskip(
    "ansible_runner", reason="ansible-runner is a test dependency: pip install -r tests/requirements.in"
)

FIXTURE = ROOT / "tests" / "emulators" / "fixtures" / "demo.yml"
INVENTORY = ROOT / "tests" / "demo" / "inventory"
UNITS = ["northwind-api", "northwind-hello", "northwind-renderer", "northwind-shop"]  # the demo account, sorted by name
IDENT = "migrate-1"


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """One migrate.yml job run by ansible-runner; its private data directory, result and events."""
    ensure_collection_link()
    private = tmp_path_factory.mktemp("runner")
    heroku = EmulatorProcess("heroku", "--fixture", str(FIXTURE))
    northflank = EmulatorProcess("northflank")
    env = {
        **heroku.env(),
        **northflank.env(),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_CONFIG": str(ROOT / "tests" / "ansible.cfg"),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    try:
        result = ansible_runner.run(
            private_data_dir=str(private),
            playbook=str(ROOT / "playbooks" / "migrate.yml"),
            inventory=str(INVENTORY),
            envvars=env,
            ident=IDENT,
            quiet=True,
        )
        events = list(result.events)
    finally:
        heroku.stop()
        northflank.stop()
    yield dict(
        private=private,
        result=result,
        events=events,
        tokens=[heroku.token, northflank.token],
        stdout=result.stdout.read() if hasattr(result.stdout, "read") else "",
    )


def test_the_job_succeeds(job):
    assert job["result"].status == "successful", job["stdout"][-3000:]
    assert job["result"].rc == 0


def test_the_report_files_land_in_the_jobs_artifact_directory(job):
    report = job["private"] / "artifacts" / IDENT / "herokumigrate-report"
    assert sorted(p.name for p in report.iterdir()) == ["report.html", "report.json", "report.md"]
    data = json.loads((report / "report.json").read_text())
    assert [u["unit"] for u in data["units"]] == UNITS
    assert not (ROOT / "herokumigrate-report").exists(), "the report went to the current directory, not the artifacts"


def test_the_summary_is_set_stats_artifact_data_of_the_stats_event(job):
    (stats,) = [e for e in job["events"] if e["event"] == "playbook_on_stats"]
    summary = stats["event_data"]["artifact_data"]["herokumigrate_report"]
    assert summary["mode"] == "migrate" and summary["missing"] == []
    units = {u["unit"]: u for u in summary["units"]}
    assert sorted(units) == UNITS
    assert units["northwind-hello"]["status"] == "migrated" and units["northwind-hello"]["changed"] >= 2
    assert units["northwind-renderer"]["status"] == "unsupported" and units["northwind-renderer"]["reasons"]
    assert any("mirror the Heroku Git repository" in t for t in units["northwind-shop"]["todo"])
    assert summary["run"]["totals"] == {"migrated": 3, "unsupported": 1}
    assert summary["run"]["northflank_api"] == "127.0.0.1" and summary["run"]["seconds"] >= 0
    text = json.dumps(stats["event_data"]["artifact_data"])
    for token in job["tokens"]:
        assert token not in text


def html_of(job) -> Path:
    return job["private"] / "artifacts" / IDENT / "herokumigrate-report" / "report.html"


def test_the_html_report_references_nothing_outside_itself(job):
    html = html_of(job).read_text()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html, re.I)
    assert refs and all(r.startswith("#") for r in refs), refs
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", html, re.I)
    assert not re.search(r"url\(|@import", html, re.I)
    assert "\u00d7" in html or "&times;" in html or "&rarr;" in html  # the picture is drawn, not just tables


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("headless Chromium is not installed (make system-deps installs it as root: apt-get install chromium)")


def headless(*args: str) -> subprocess.CompletedProcess:
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_a_browser_renders_every_unit_in_order(job, tmp_path):
    url = html_of(job).as_uri()
    dom = headless("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    names = re.findall(r'<h2 class="unit-name">([^<]+)</h2>', dom.stdout)
    assert names == UNITS
    # each unit's picture: the Heroku things it had and the Northflank resources they became
    assert "northwind-shop-scheduler-1" in dom.stdout and "standard-2X" in dom.stdout
    shot = tmp_path / "report.png"
    result = headless("--window-size=1280,2600", f"--screenshot={shot}", url)
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000, len(png)  # a blank page of this size is a few kB
    if (ROOT / "build").is_dir():  # to look at
        shutil.copy(shot, ROOT / "build" / "report-screenshot.png")

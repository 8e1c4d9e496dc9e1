# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""heroku_git_mirror with real repositories: the Heroku emulator serves each fixture app's Heroku Git
repository over smart HTTP (fixtures/account.yml), the targets are bare repositories in tmp_path.

One ansible-playbook run at -vvv (targets/heroku_git_mirror/main.yml) goes through every case; the
tests below check what it returned and printed, the target repositories commit by commit, and what
git was run with: ``git`` on the PATH of that run is a wrapper that logs each command line and the
playbook step it belongs to. HOME and TMPDIR point at empty directories, HOME with a ``store``
credential helper, so that a key stored or left behind anywhere would be found.

Then the roles: playbooks/plan.yml, migrate.yml and migrate.yml again with herokumigrate_git_mirror on
two units of the same account (old-blog, whose master becomes main; config-zoo, an empty repository),
against the Northflank emulator too, checked through their reports."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, EmulatorProcess, contract_violations, run_playbook

ACCOUNT = ROOT / "tests" / "emulators" / "fixtures" / "account.yml"
PLAYBOOK = Path(__file__).parent / "targets" / "heroku_git_mirror" / "main.yml"
KEY = "hk-mirror-" + secrets.token_hex(12)
WRONG_KEY = "hk-wrong-" + secrets.token_hex(12)
MAIN = "refs/heads/main"
AUTHOR = {"GIT_AUTHOR_NAME": "Target", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "Target",
          "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(*args: str, cwd=None, env=None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


def refs(repo: Path) -> dict:
    """``{ref: commit}`` of a bare repository."""
    out = git("for-each-ref", "--format=%(refname) %(objectname)", cwd=repo)
    return dict(line.split() for line in out.splitlines())


@pytest.fixture(scope="module")
def heroku():
    server = EmulatorProcess("heroku", "--fixture", str(ACCOUNT), token=KEY)
    yield server
    server.stop()


def clone(heroku, app, dest: Path) -> Path:
    """The test's own copy of a Heroku repository (the key in a header on the command line, never stored)."""
    header = "http.extraHeader=Authorization: Basic " + base64.b64encode(f"heroku:{KEY}".encode()).decode()
    git("-c", header, "clone", "--bare", "--quiet", f"{heroku.url}/git/{app}.git", str(dest))
    return dest


@pytest.fixture(scope="module")
def mirrored(heroku, tmp_path_factory):
    work = tmp_path_factory.mktemp("mirror")
    targets, home, tmpdir, bindir = (work / d for d in ("targets", "home", "tmp", "bin"))
    for d in (targets, home, tmpdir, bindir):
        d.mkdir()
    # A credential helper that would write any credential git is given to ~/.git-credentials.
    (home / ".gitconfig").write_text("[credential]\n\thelper = store\n")
    log = work / "git-commands.log"
    wrapper = bindir / "git"
    wrapper.write_text(
        f'#!/bin/sh\nprintf \'%s\\t%s\\n\' "$TEST_STEP" "$*" >> "{log}"\nexec {shutil.which("git")} "$@"\n'
    )
    wrapper.chmod(0o755)

    sources = {app: clone(heroku, app, work / f"{app}.git") for app in ("acme-shop", "old-blog")}
    for name in ("shop", "behind", "diverged", "blog", "zoo", "wrong-key"):
        git("init", "--quiet", "--bare", "--initial-branch=main", str(targets / f"{name}.git"))
    shop = sources["acme-shop"]
    git("push", "--quiet", str(targets / "behind.git"), f"main~1:{MAIN}", cwd=shop)
    foreign = git("commit-tree", "main~1^{tree}", "-p", "main~1", "-m", "Made on the target", cwd=shop, env=AUTHOR)
    git("push", "--quiet", str(targets / "diverged.git"), f"{foreign}:{MAIN}", cwd=shop)

    results_file = work / "results.json"
    env = {
        "HEROKU_API_URL": heroku.url,
        "HEROKU_API_KEY": KEY,
        "HOME": str(home),
        "TMPDIR": str(tmpdir),
        "PATH": f"{bindir}:{os.environ['PATH']}",
    }
    run = run_playbook(
        str(PLAYBOOK),
        env,
        "-vvv",
        "-e",
        json.dumps(
            {
                "heroku_git": f"{heroku.url}/git",
                "targets": str(targets),
                "wrong_key": WRONG_KEY,
                "results_file": str(results_file),
            }
        ),
    )
    steps = {}
    for line in log.read_text().splitlines():
        step, _tab, command = line.partition("\t")
        steps.setdefault(step, []).append(command)
    return dict(
        run=run,
        results=json.loads(results_file.read_text()),
        targets=targets,
        sources=sources,
        foreign=foreign,
        steps=steps,
        log=log,
        home=home,
        tmpdir=tmpdir,
        work=work,
    )


def subcommands(mirrored, step) -> list:
    """The git subcommands one playbook step ran (``-c name=value`` options left out)."""
    out = []
    for command in mirrored["steps"].get(step, []):
        words = command.split()
        while words and words[0] == "-c":
            words = words[2:]
        out.append(words[0])
    return out


def test_check_mode_reads_and_pushes_nothing(mirrored):
    check = mirrored["results"]["check_new"]
    assert check["changed"] is True and check["status"] == "would_mirror"
    assert check["changed_refs"] == [MAIN]
    assert "push" not in subcommands(mirrored, "check_new")
    # the next step found the target as check mode left it: without the branch
    assert mirrored["results"]["first"]["refs"][0]["before"] is None


def test_first_mirror_pushes_every_branch_with_the_same_commits(mirrored):
    first = mirrored["results"]["first"]
    assert first["changed"] is True and first["status"] == "mirrored"
    assert first["refs"] == [
        {
            "source": MAIN,
            "target": MAIN,
            "object": refs(mirrored["sources"]["acme-shop"])[MAIN],
            "before": None,
            "action": "create",
        }
    ]
    assert refs(mirrored["targets"] / "shop.git") == refs(mirrored["sources"]["acme-shop"])
    assert subcommands(mirrored, "first") == ["ls-remote", "ls-remote", "clone", "for-each-ref", "push"]


def test_a_rerun_compares_and_changes_nothing(mirrored):
    again = mirrored["results"]["again"]
    assert again["changed"] is False and again["status"] == "up_to_date"
    assert again["changed_refs"] == [] and [r["action"] for r in again["refs"]] == ["unchanged"]
    # two ls-remote, no clone and no push
    assert subcommands(mirrored, "again") == ["ls-remote", "ls-remote"]


def test_a_target_behind_is_fast_forwarded(mirrored):
    behind = mirrored["results"]["behind"]
    source = refs(mirrored["sources"]["acme-shop"])[MAIN]
    assert (behind["status"], behind["refs"][0]["action"]) == ("mirrored", "update")
    assert behind["refs"][0]["before"] == git("rev-parse", "main~1", cwd=mirrored["sources"]["acme-shop"])
    assert refs(mirrored["targets"] / "behind.git")[MAIN] == source


def test_a_diverged_target_is_an_error_unless_forced(mirrored):
    results, foreign = mirrored["results"], mirrored["foreign"]
    diverged = results["diverged"]
    assert diverged["failed"] is True
    assert (
        "not a fast-forward" in diverged["msg"] and "force=true" in diverged["msg"] and foreign[:12] in diverged["msg"]
    )
    assert "push" not in subcommands(mirrored, "diverged")
    check = results["check_force"]
    assert (check["changed"], check["status"], check["refs"][0]["action"]) == (True, "would_mirror", "force")
    assert "push" not in subcommands(mirrored, "check_force")
    forced = results["forced"]
    assert (forced["status"], forced["refs"][0]["before"], forced["refs"][0]["action"]) == (
        "mirrored",
        foreign,
        "force",
    )
    source = refs(mirrored["sources"]["acme-shop"])[MAIN]
    assert forced["diff"] == {"before": {MAIN: foreign}, "after": {MAIN: source}}
    assert refs(mirrored["targets"] / "diverged.git")[MAIN] == source
    # the forced push is conditional on what was read
    push = [c for c in mirrored["steps"]["forced"] if " push " in f" {c} "]
    assert f"--force-with-lease={MAIN}:{foreign}" in push[0]


def test_a_branch_mapping_pushes_master_to_main(mirrored):
    mapped = mirrored["results"]["mapped"]
    master = refs(mirrored["sources"]["old-blog"])["refs/heads/master"]
    assert mapped["status"] == "mirrored" and mapped["notes"] == []
    assert mapped["refs"] == [
        {"source": "refs/heads/master", "target": MAIN, "object": master, "before": None, "action": "create"}
    ]
    assert refs(mirrored["targets"] / "blog.git") == {MAIN: master}
    no_branch = mirrored["results"]["no_branch"]
    assert no_branch["failed"] is True
    assert "None of the branches develop exist" in no_branch["msg"] and "master" in no_branch["msg"]


def test_an_empty_heroku_repository_is_reported_not_failed(mirrored):
    empty = mirrored["results"]["empty"]
    assert empty.get("failed") is not True
    assert (empty["changed"], empty["status"], empty["empty"], empty["refs"]) == (False, "empty", True, [])
    assert "deployed without git push" in empty["msg"]
    assert refs(mirrored["targets"] / "zoo.git") == {}
    assert subcommands(mirrored, "empty") == ["ls-remote"]


def test_clear_errors_for_a_wrong_key_a_missing_target_and_an_unknown_app(mirrored):
    results = mirrored["results"]
    wrong = results["wrong_key"]
    assert wrong["failed"] is True
    assert wrong["msg"].startswith("Heroku Git refused the API key for acme-shop") and "HEROKU_API_KEY" in wrong["msg"]
    assert refs(mirrored["targets"] / "wrong-key.git") == {}
    no_target = results["no_target"]
    assert no_target["failed"] is True and no_target["msg"].startswith("Could not read the target repository file://")
    no_app = results["no_app"]
    assert (
        no_app["failed"] is True
        and no_app["msg"]
        == "Could not read Heroku app no-such-app: HTTP 404: Couldn't find that app. (GET /apps/{app})"
    )
    assert no_app["api_requests"] == {"GET /apps/{app}": 1} and no_app["failure"]["status"] == 404
    # nothing but the Platform API request: git never ran
    assert "no_app" not in mirrored["steps"]


def test_no_key_in_output_command_lines_or_files(mirrored):
    run = mirrored["run"]
    output = run.stdout + run.stderr
    assert "ESTABLISH LOCAL CONNECTION" in output  # -vvv was in effect
    log = mirrored["log"].read_text()
    assert "ls-remote" in log and "push" in log
    for key in (KEY, WRONG_KEY):
        assert key not in output
        assert key not in log
    assert not (mirrored["home"] / ".git-credentials").exists()
    assert not list(mirrored["tmpdir"].iterdir())  # the temporary clones and askpass scripts are gone
    for path in [*mirrored["targets"].rglob("*"), *mirrored["home"].rglob("*")]:
        if path.is_file():
            data = path.read_bytes()
            assert KEY.encode() not in data and WRONG_KEY.encode() not in data, path


# -- the roles: herokumigrate_git_mirror in playbooks/plan.yml and migrate.yml ------------------
UNITS = ("old-blog", "config-zoo")  # a master branch, and an app deployed without Heroku Git


@pytest.fixture(scope="module")
def migrated(heroku, tmp_path_factory):
    """plan.yml, migrate.yml and migrate.yml again on two units, with the mirror on; each run's report kept."""
    work = tmp_path_factory.mktemp("roles")
    targets = work / "targets"
    for app in UNITS:
        git("init", "--quiet", "--bare", "--initial-branch=main", str(targets / f"{app}.git"))
    inventory = work / "inventory.yml"
    inventory.write_text(
        json.dumps({"all": {"hosts": {app: {"heroku_unit": {"kind": "app", "name": app}} for app in UNITS}}})
    )
    northflank = EmulatorProcess("northflank")
    env = {**heroku.env(), **northflank.env()}
    settings = {
        "herokumigrate_git_mirror": True,
        "herokumigrate_git_source_url": f"{heroku.url}/git/{{app}}.git",
        "herokumigrate_repository_default": {
            "url": "https://github.com/acme/{app}",
            "type": "github",
            "account_login": "acme",
            "branch": "main",
            "push_url": f"file://{targets}/{{app}}.git",
        },
        "herokumigrate_poll_interval": 1,
    }
    runs, reports = {}, {}
    try:
        for name, playbook in (("plan", "plan"), ("first", "migrate"), ("second", "migrate")):
            report_dir = work / name
            runs[name] = run_playbook(
                f"playbooks/{playbook}.yml",
                env,
                "-i",
                str(inventory),
                "-e",
                json.dumps(settings),
                "-e",
                f"herokumigrate_report_dir={report_dir}",
            )
            reports[name] = {u["unit"]: u for u in json.loads((report_dir / "report.json").read_text())["units"]}
            reports[name + ".md"] = (report_dir / "report.md").read_text()
            if name == "plan":
                reports["after plan"] = refs(targets / "old-blog.git")
        violations = contract_violations(northflank)
    finally:
        northflank.stop()
    return dict(
        runs=runs,
        reports=reports,
        targets=targets,
        source=clone(heroku, "old-blog", work / "old-blog-source.git"),
        violations=violations,
    )


def test_every_request_to_northflank_kept_the_api_contract(migrated):
    """As the ``northflank`` fixture of tests/conftest.py asserts for the tests that use it."""
    assert not migrated["violations"], (
        "requests that break the Northflank API contract:\n" + "\n".join(migrated["violations"])
    )


def mirror_line(report, unit):
    return [
        (r["name"], r["action"], r["changed_paths"]) for r in report[unit]["resources"] if r["kind"] == "git_mirrors"
    ]


def test_the_plan_says_what_would_be_mirrored_and_pushes_nothing(migrated):
    plan = migrated["reports"]["plan"]
    assert mirror_line(plan, "old-blog") == [("old-blog", "would mirror", [MAIN])]
    assert migrated["reports"]["after plan"] == {}


def test_migrate_mirrors_before_the_services_and_reports_the_result_instead_of_a_to_do(migrated):
    first = migrated["reports"]["first"]
    assert mirror_line(first, "old-blog") == [("old-blog", "mirrored", [MAIN])]
    assert first["old-blog"]["resources"][0]["kind"] == "git_mirrors"  # mirrored before the project and services
    assert refs(migrated["targets"] / "old-blog.git") == {MAIN: refs(migrated["source"])["refs/heads/master"]}
    assert not [t for u in first.values() for t in u["todo"] if "mirror the Heroku Git repository" in t]
    assert "| git_mirrors | old-blog | mirrored | refs/heads/main |" in migrated["reports"]["first.md"]


def test_an_empty_repository_becomes_the_to_do(migrated):
    for run in ("plan", "first", "second"):
        zoo = migrated["reports"][run]["config-zoo"]
        assert mirror_line(migrated["reports"][run], "config-zoo") == [("config-zoo", "empty", [])]
        assert [t for t in zoo["todo"] if "Heroku Git" in t] == [
            f"config-zoo: the Heroku Git repository is empty (the app was not deployed with git push): "
            f"push its source to "
            f"file://{migrated['targets']}/config-zoo.git, branch main, yourself"
        ]
    assert refs(migrated["targets"] / "config-zoo.git") == {}


def test_a_second_migration_finds_the_mirror_up_to_date_and_changes_nothing(migrated):
    second = migrated["reports"]["second"]
    assert mirror_line(second, "old-blog") == [("old-blog", "up to date", [])]
    assert {u["changed"] for u in second.values()} == {0}
    recap = [line for line in migrated["runs"]["second"].stdout.split("PLAY RECAP", 1)[1].splitlines() if " : " in line]
    assert len(recap) == len(UNITS)  # the units (the report is delegated to localhost from them)
    for line in recap:
        assert "changed=0" in line and "failed=0" in line, line
    for run in migrated["runs"].values():
        assert KEY not in run.stdout + run.stderr

"""Long waits show progress while the task goes on (docs/user-guide.md, "Progress"): the waiting modules poll in slices
of ``progress_interval`` seconds and their action plugins print one line per slice, through ansible-playbook against
the Northflank emulator. ``POST /_admin/hold`` makes each status step last several reads, so that a wait spans
several slices without the emulator sleeping.

Checked: the lines appear in the task's output before its result, name what is waited for and never a secret (at -vvv
--diff); the final state is the one a wait in one call reaches; the writes are those of one call (nothing started
twice); the reads are no more than one per slice above the wait in one call; check mode neither waits nor writes. The
job test runs with the oldest ansible-core as well (its display reaches the controller the same way)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import COLLECTIONS, ROOT, ensure_collection_link

SECRET = "sk_live_Zq8-NEVER-PRINT-7"
OLDEST_BIN = ROOT / "build" / "venv-oldest" / "bin"
LINE = re.compile(r"^\[localhost\] waiting for (.+?)(?: \((.*)\))?, (\d+)s$")


def ansible_playbook(bin_dir: Path, playbook: Path, env: dict, *args: str) -> str:
    ensure_collection_link()
    full_env = dict(os.environ, **env)
    full_env.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_CONFIG=str(ROOT / "tests" / "ansible.cfg"),
                    ANSIBLE_FORCE_COLOR="0")
    cmd = [str(bin_dir / "ansible-playbook"), str(playbook), *args]
    result = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    assert SECRET not in result.stdout + result.stderr
    return result.stdout


def write_playbook(tmp_path: Path, tasks: list, **play) -> Path:
    path = tmp_path / "playbook.yml"
    path.write_text(yaml.safe_dump([dict(hosts="localhost", gather_facts=False, tasks=tasks, **play)],
                                   sort_keys=False))
    return path


def task_output(stdout: str, name: str) -> list:
    """The lines of task ``name``'s output, from its header to its result line (``ok:``, ``changed:``) included."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("TASK [%s]" % name))
    end = next(i for i in range(start + 1, len(lines)) if re.match(r"^(ok|changed|failed|fatal): ", lines[i]))
    return lines[start:end + 1]


def progress_lines(stdout: str, name: str) -> list:
    """The progress lines of task ``name``, as (what, status, seconds); they all come before its result."""
    return [LINE.match(line).groups() for line in task_output(stdout, name) if LINE.match(line)]


def requests_of(server, method: str, fragment: str) -> int:
    return sum(1 for e in server.requests()["requests"] if e["method"] == method and fragment in e["path"])


def hold(server, reads: int) -> dict:
    """A task that makes each status step of the emulator last ``reads`` reads from then on."""
    return {"name": "Hold", "ansible.builtin.uri": {
        "url": server.url + "/_admin/hold", "method": "POST", "body_format": "json", "body": {"reads": reads}}}


def project(name: str) -> dict:
    return {"name": "Project", "herokumigrate.northflank.northflank_project": {"name": name, "region": "europe-west"}}


def test_an_addon_starting_shows_progress_and_ends_as_a_wait_in_one_call(api, northflank, tmp_path):
    addon = {"project": "pg-slices", "type": "postgresql", "version": "16-latest", "plan": "nf-compute-20",
             "storage": 4096, "poll_interval": 1}
    playbook = write_playbook(tmp_path, [
        project("pg-slices"),
        {"name": "Check mode", "herokumigrate.northflank.northflank_addon": dict(addon, name="sliced"),
         "check_mode": True, "register": "planned"},
        {"name": "Sliced", "herokumigrate.northflank.northflank_addon": dict(addon, name="sliced", progress_interval=1),
         "register": "sliced"},
        {"name": "Whole", "herokumigrate.northflank.northflank_addon": dict(addon, name="whole", progress_interval=0),
         "register": "whole"},
        {"name": "Results", "ansible.builtin.copy": {"content": "{{ {'sliced': sliced, 'whole': whole} | to_json }}",
                                                     "dest": str(tmp_path / "results.json")}},
    ])
    stdout = ansible_playbook(Path(sys.executable).parent, playbook, northflank.env(), "--diff")

    assert progress_lines(stdout, "Check mode") == []
    lines = progress_lines(stdout, "Sliced")
    assert len(lines) >= 2, stdout
    assert all(what == "addon 'sliced'" for what, _status, _seconds in lines)
    assert [int(seconds) for _what, _status, seconds in lines] == sorted(int(s) for _w, _s, s in lines)
    assert {status for _what, status, _seconds in lines} <= {
        "status %s" % s for s in ("preDeployment", "triggerAllocation", "allocating", "postDeployment")}
    assert progress_lines(stdout, "Whole") == []

    results = yaml.safe_load((tmp_path / "results.json").read_text())
    sliced, whole = results["sliced"], results["whole"]
    assert sliced["changed"] and whole["changed"]
    assert sliced["addon"]["status"] == whole["addon"]["status"] == "running"
    assert sliced["diff"]["before"] == {} and sliced["diff"]["after"]["name"] == "sliced"
    assert "waiting" not in sliced and "progress" not in sliced
    route = "GET /v1/projects/{project}/addons/{addon}"
    assert sliced["api_requests"]["PUT /v1/projects/{project}/addons"] == 1
    # One read more per slice at most than the wait in one call (the emulator moves one step per read, so equal here).
    assert sliced["api_requests"][route] <= whole["api_requests"][route] + len(lines)
    # What the emulator saw: one create each, and the reads the results count.
    assert requests_of(northflank, "PUT", "/addons") == 2
    assert requests_of(northflank, "GET", "/addons/sliced") == 1 + sliced["api_requests"][route]  # + check mode


def job_playbook(tmp_path: Path) -> Path:
    job = {"project": "job-slices", "name": "release", "deploy_from": {"build_service": "builder", "branch": "main"},
           "start": {"command": "bin/release"}, "plan": "nf-compute-20",
           "runtime_variables": {"API_KEY": SECRET}, "force_run": True, "run_wait": True, "progress_interval": 1}
    return write_playbook(tmp_path, [
        project("job-slices"),
        {"name": "Builder", "herokumigrate.northflank.northflank_service": {
            "project": "job-slices", "name": "builder", "type": "build",
            "vcs": {"project_url": "https://github.com/acme/web"}, "buildpack": {"builder": "HEROKU_24"},
            "build_rules": {"branches": ["main"]}}},
        {"name": "Release", "herokumigrate.northflank.northflank_job": job, "register": "release"},
        {"name": "Release again, hidden", "herokumigrate.northflank.northflank_job": job, "no_log": True,
         "register": "hidden"},
        {"name": "Results", "ansible.builtin.assert": {"that": [
            "release is changed", "release.job_run.status == 'SUCCESS'", "release.job_run.id is defined",
            "hidden is changed"]}},
    ])


@pytest.mark.parametrize("core", ["newest", "oldest"])
def test_a_forced_job_run_is_started_once_and_waited_for_in_slices(api, northflank, tmp_path, core):
    bin_dir = OLDEST_BIN if core == "oldest" else Path(sys.executable).parent
    if core == "oldest" and not (bin_dir / "ansible-playbook").exists():
        pytest.skip("no oldest ansible-core venv: make venv-oldest")
    northflank.admin("POST", "/_admin/hold", {"reads": 3})
    stdout = ansible_playbook(bin_dir, job_playbook(tmp_path), northflank.env(), "-vvv", "--diff")

    lines = progress_lines(stdout, "Release")
    assert lines, stdout
    assert all(what.startswith("job run ") for what, _status, _seconds in lines)
    hidden = [line for line in task_output(stdout, "Release again, hidden") if "waiting" in line]
    assert hidden and all(re.match(r"^\[localhost\] waiting \(details hidden by no_log\), \d+s$", line)
                          for line in hidden), hidden
    # force_run starts one run per task, whatever the number of slices.
    assert requests_of(northflank, "POST", "/jobs/release/runs") == 2


def test_a_pipeline_template_run_is_waited_for_in_slices_and_run_once(api, northflank, tmp_path):
    northflank.admin("POST", "/_admin/hold", {"reads": 4})
    pipeline = {"project": "tpl-slices", "name": "tpl-slices", "stages": {"development": {}}, "poll_interval": 1,
                "progress_interval": 1}
    playbook = write_playbook(tmp_path, [
        project("tpl-slices"),
        {"name": "Pipeline", "herokumigrate.northflank.northflank_pipeline": pipeline, "register": "result"},
        {"name": "Results", "ansible.builtin.assert": {"that": [
            "result is changed", "result.template_run.status == 'success'", "result.diff.before == {}"]}},
    ])
    stdout = ansible_playbook(Path(sys.executable).parent, playbook, northflank.env(), "--diff")

    lines = progress_lines(stdout, "Pipeline")
    assert lines and all(what == "pipeline template run" and status == "status running"
                         for what, status, _seconds in lines), stdout
    # The template was created with runOnCreation: no slice started another run.
    assert requests_of(northflank, "POST", "/v1/templates") == 1
    assert requests_of(northflank, "POST", "/runs") == 0


def test_an_import_and_its_restore_show_progress_without_the_connection_string(api, northflank, tmp_path):
    addon = {"project": "imp-slices", "name": "app-db", "type": "postgresql", "version": "16-latest",
             "plan": "nf-compute-20", "storage": 4096, "poll_interval": 1}
    url = "postgres://u1abc:%s@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d9xyz" % SECRET
    playbook = write_playbook(tmp_path, [
        project("imp-slices"),
        {"name": "Addon", "herokumigrate.northflank.northflank_addon": addon},
        hold(northflank, 3),
        {"name": "Import", "herokumigrate.northflank.northflank_addon_import": {
            "project": "imp-slices", "addon": "app-db", "source_name": "postgresql-cubic-1",
            "connection_string": url, "poll_interval": 1, "progress_interval": 1}, "register": "result"},
        {"name": "Results", "ansible.builtin.assert": {"that": [
            "result is changed", "result.actions == ['import', 'restore']",
            "result.backup.status == 'completed'", "result.restore_result.status == 'completed'",
            "result.diff.before.backup is none"]}},
    ])
    stdout = ansible_playbook(Path(sys.executable).parent, playbook, northflank.env(), "-vvv", "--diff")

    lines = progress_lines(stdout, "Import")
    name = "'heroku-import-postgresql-cubic-1'"
    assert ("addon import %s import" % name) in [what for what, _status, _seconds in lines], stdout
    assert ("addon import %s restore" % name) in [what for what, _status, _seconds in lines], stdout
    assert requests_of(northflank, "POST", "/import") == 1
    assert requests_of(northflank, "POST", "/restore") == 1


def test_a_restart_is_sent_once_and_its_rollout_waited_for_in_slices(api, northflank, tmp_path):
    playbook = write_playbook(tmp_path, [
        project("rs-slices"),
        {"name": "Builder", "herokumigrate.northflank.northflank_service": {
            "project": "rs-slices", "name": "builder", "type": "build",
            "vcs": {"project_url": "https://github.com/acme/web"}, "buildpack": {"builder": "HEROKU_24"},
            "build_rules": {"branches": ["main"]}}},
        {"name": "Web", "herokumigrate.northflank.northflank_service": {
            "project": "rs-slices", "name": "web", "type": "deployment", "plan": "nf-compute-20", "instances": 1,
            "deploy_from": {"build_service": "builder", "branch": "main"}, "start": {}}},
        {"name": "Settle", "herokumigrate.northflank.northflank_service_info": {"project": "rs-slices", "name": "web"},
         "register": "web", "until": "web.services[0].status.deployment.status == 'COMPLETED'", "retries": 10,
         "delay": 0},
        hold(northflank, 3),
        {"name": "Restart", "herokumigrate.northflank.northflank_service_restart": {
            "project": "rs-slices", "services": ["web"], "poll_interval": 1, "progress_interval": 1},
         "register": "result"},
        {"name": "Results", "ansible.builtin.assert": {"that": [
            "result is changed", "result.services == [{'id': 'web', 'status': 'COMPLETED'}]"]}},
    ])
    stdout = ansible_playbook(Path(sys.executable).parent, playbook, northflank.env())

    lines = progress_lines(stdout, "Restart")
    assert lines and all(what == "service web after the restart" for what, _status, _seconds in lines), stdout
    assert requests_of(northflank, "POST", "/services/web/restart") == 1


def test_ansible_runner_gets_each_progress_line_as_an_event_before_the_task_s_result(api, northflank, tmp_path):
    """What AWX shows: ansible-runner's events, in the order they happened."""
    ansible_runner = pytest.importorskip("ansible_runner")
    ensure_collection_link()
    addon = {"project": "runner-slices", "name": "app-db", "type": "postgresql", "version": "16-latest",
             "plan": "nf-compute-20", "storage": 4096, "poll_interval": 1, "progress_interval": 1}
    playbook = write_playbook(tmp_path, [
        project("runner-slices"), {"name": "Addon", "herokumigrate.northflank.northflank_addon": addon}])
    env = dict(northflank.env(), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
               ANSIBLE_CONFIG=str(ROOT / "tests" / "ansible.cfg"),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    (tmp_path / "runner").mkdir()
    result = ansible_runner.run(private_data_dir=str(tmp_path / "runner"), playbook=str(playbook), envvars=env,
                                quiet=True)
    assert result.status == "successful"
    events = sorted(result.events, key=lambda e: e["counter"])
    done = next(e["counter"] for e in events if e["event"] == "runner_on_ok"
                and e["event_data"].get("task") == "Addon")
    progress = [e for e in events if "waiting for addon 'app-db'" in e.get("stdout", "")]
    assert progress and all(e["counter"] < done for e in progress), [e.get("stdout") for e in events]


def test_a_wait_for_the_rate_limit_budget_shows_as_progress(api, northflank, tmp_path):
    """The run's shared budget is spent while the addon starts: the wait for the window's reset shows as lines too."""
    northflank.admin("POST", "/_admin/rate-limit", {"budget": 9, "window_seconds": 8})
    addon = {"project": "rl-slices", "name": "app-db", "type": "postgresql", "version": "16-latest",
             "plan": "nf-compute-20", "storage": 4096, "poll_interval": 1, "progress_interval": 2}
    playbook = write_playbook(tmp_path, [
        project("rl-slices"),
        {"name": "Addon", "herokumigrate.northflank.northflank_addon": addon, "register": "result"},
        {"name": "Results", "ansible.builtin.assert": {"that": [
            "result is changed", "result.addon.status == 'running'", "result.waited_seconds > 0"]}},
    ])
    env = dict(northflank.env(), HEROKUMIGRATE_BUDGET_DIR=str(tmp_path / "budget"))
    stdout = ansible_playbook(Path(sys.executable).parent, playbook, env)

    lines = progress_lines(stdout, "Addon")
    assert any("rate-limit budget shared by this run is spent" in (status or "") for _what, status, _s in lines), stdout
    assert requests_of(northflank, "PUT", "/addons") == 1

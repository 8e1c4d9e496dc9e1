"""The results of the slices of a wait merged into the task's one result, and the progress line
(plugins/plugin_utils/progress.py)."""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.plugin_utils.progress import merge_results, progress_line

ROUTE = "GET /v1/projects/{project}/addons/{addon}"


def test_the_last_state_any_change_the_first_diff_and_summed_requests_and_waits():
    first = dict(changed=True, waiting=True, progress=dict(waiting_for="addon 'db'", status="status allocating"),
                 diff=dict(before={}, after=dict(name="db")), changed_paths=["plan"],
                 api_requests={"PUT /v1/projects/{project}/addons": 1, ROUTE: 2}, waited_seconds=1.5,
                 warnings=["the budget is spent"])
    middle = dict(changed=False, waiting=True, progress={}, api_requests={ROUTE: 2}, warnings=["the budget is spent"])
    last = dict(changed=False, addon=dict(name="db", status="running"), api_requests={ROUTE: 3}, waited_seconds=2.25)
    merged = merge_results([first, middle, last])
    assert merged == dict(changed=True, addon=dict(name="db", status="running"), diff=dict(before={}, after=dict(
        name="db")), changed_paths=["plan"], api_requests={"PUT /v1/projects/{project}/addons": 1, ROUTE: 7},
        waited_seconds=3.8, warnings=["the budget is spent"])


def test_a_later_change_keeps_the_first_before_and_takes_its_after():
    first = dict(changed=True, waiting=True, actions=["import"],
                 diff=dict(before=dict(backup=None, restore=None), after=dict(backup="completed", restore=None)))
    last = dict(changed=True, actions=["restore"], diff=dict(before=dict(backup="completed", restore=None),
                                                             after=dict(backup="completed", restore="completed")))
    merged = merge_results([first, last])
    assert merged["actions"] == ["import", "restore"]
    assert merged["diff"] == dict(before=dict(backup=None, restore=None),
                                  after=dict(backup="completed", restore="completed"))


def test_a_failure_after_a_change_is_a_changed_failure_without_the_slice_keys():
    first = dict(changed=True, waiting=True, progress=dict(waiting_for="job run"), api_requests={"POST /runs": 1})
    last = dict(failed=True, msg="job run failed", api_requests={"GET /runs/{run}": 1})
    merged = merge_results([first, last])
    assert merged == dict(failed=True, changed=True, msg="job run failed",
                          api_requests={"POST /runs": 1, "GET /runs/{run}": 1})


def test_one_result_is_itself_and_none_is_empty():
    only = dict(changed=False, api_requests={ROUTE: 1})
    assert merge_results([only]) == only
    assert merge_results([]) == {}


def test_the_line_names_the_wait_unless_no_log():
    progress = dict(waiting_for="addon 'db'", status="status allocating", seconds=31, resume=dict(since=1.0))
    assert progress_line("web", progress) == "[web] waiting for addon 'db' (status allocating), 31s"
    assert progress_line("web", dict(progress, status=None)) == "[web] waiting for addon 'db', 31s"
    assert progress_line("web", progress, no_log=True) == "[web] waiting (details hidden by no_log), 31s"

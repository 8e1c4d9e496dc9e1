"""The Heroku -> Northflank mapping rules, tested without any server."""

from __future__ import annotations

import pytest

from ansible_collections.herokumigrate.northflank.plugins.module_utils import mapping as m


def test_heroku_names_are_kept_when_valid():
    renamed = []
    assert m.northflank_name("acme-web", "project", renamed) == "acme-web"
    assert renamed == []


def test_long_names_are_shortened_deterministically_and_reported():
    renamed = []
    base = "a-very-long-heroku-application-name-for-billing"
    first = m.northflank_name(base, "project", renamed)
    assert len(first) <= 39
    assert first == m.northflank_name(base, "project")
    assert first != m.northflank_name(base + "-2", "project")  # distinct long names stay distinct
    assert renamed == [{"kind": "project", "heroku": base, "northflank": first}]


@pytest.mark.parametrize("base,expected", [("web_1", "web-1"), ("Worker", "worker"), ("1web", "a-1web"), ("ab", "ab-app")])
def test_names_northflank_would_reject_are_fixed(base, expected):
    assert m.northflank_name(base, "service") == expected


def test_unknown_stack_is_a_clear_error_naming_the_unit_and_the_fix():
    with pytest.raises(m.MappingError) as err:
        m.builder_for("cedar-14", {"heroku-24": "HEROKU_24"}, "acme-web")
    assert "acme-web" in str(err.value) and "cedar-14" in str(err.value) and "herokumigrate_builder" in str(err.value)
    assert m.builder_for("heroku-24", {"heroku-24": "HEROKU_24"}, "acme-web") == "HEROKU_24"


def test_dyno_sizes_are_looked_up_case_insensitively():
    assert m.plan_for("Standard-1X", {"standard-1x": "nf-compute-20"}, "u") == "nf-compute-20"
    with pytest.raises(m.MappingError):
        m.plan_for("performance-xxl", {"standard-1x": "nf-compute-20"}, "u")


INFO = {
    "config_vars": {"SECRET_KEY": "s", "DATABASE_URL": "postgres://x", "HEROKU_APP_NAME": "a", "PORT": "5000", "EMPTY": ""},
    "config_var_classes": {"SECRET_KEY": "user", "DATABASE_URL": "addon", "HEROKU_APP_NAME": "heroku", "PORT": "heroku", "EMPTY": "user"},
}


def test_runtime_variables_follow_the_documented_rule():
    assert m.runtime_variables(INFO, {}, port=8080) == {"SECRET_KEY": "s", "DATABASE_URL": "postgres://x", "EMPTY": "", "PORT": "8080"}
    assert m.runtime_variables(INFO, {"addon_vars": "drop", "keep": ["HEROKU_APP_NAME"], "drop": ["EMPTY"], "set": {"NEW": "1"}}) == {
        "SECRET_KEY": "s", "HEROKU_APP_NAME": "a", "NEW": "1"}


def test_dropped_variables_lists_names_only():
    assert m.dropped_variables(INFO, {}) == ["HEROKU_APP_NAME", "PORT"]
    assert m.dropped_variables({"config_var_classes": INFO["config_var_classes"]}, {"addon_vars": "drop"}) == [
        "DATABASE_URL", "HEROKU_APP_NAME", "PORT"]

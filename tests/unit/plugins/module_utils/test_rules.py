"""The mapping rules (plugins/module_utils/rules.py), table-driven, without any server: names, tables,
config vars, domains. docs/mapping.md states each rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.herokumigrate.northflank.plugins.module_utils import public_suffix_list, rules

ROOT = Path(__file__).resolve().parents[4]

DEFAULTS = yaml.safe_load((ROOT / "roles" / "herokumigrate" / "defaults" / "main.yml").read_text())


# -- names ------------------------------------------------------------------------------------
def test_heroku_names_are_kept_when_valid():
    renamed = []
    assert rules.northflank_name("acme-web", "project", renamed) == "acme-web"
    assert renamed == []


def test_long_names_are_shortened_deterministically_and_reported():
    renamed = []
    base = "a-very-long-heroku-application-name-for-billing"
    first = rules.northflank_name(base, "project", renamed)
    assert len(first) <= 39
    assert first == rules.northflank_name(base, "project")
    assert first != rules.northflank_name(base + "-2", "project")  # distinct long names stay distinct
    assert renamed == [{"kind": "project", "heroku": base, "northflank": first,
                        "reason": "longer than 39 characters: cut, with a hash of the Heroku name"}]


@pytest.mark.parametrize(
    "base,expected", [("web_1", "web-1"), ("Worker", "worker"), ("1web", "a-1web"), ("ab", "ab-app")]
)
def test_names_northflank_would_reject_are_fixed(base, expected):
    assert rules.northflank_name(base, "service") == expected


@pytest.mark.parametrize(
    "kind,wanted",
    [
        # two apps whose names differ only in what the derivation folds
        ("project", {"app:a--b": "a--b", "app:a-b": "a-b"}),
        # an app outside any pipeline named like a pipeline
        ("project", {"app:shop": "shop", "pipeline:shop": "shop"}),
        # two process types of one app that differ only by _ and -
        (
            "service",
            {
                "shop/process:web_worker": "shop-web_worker",
                "shop/process:web-worker": "shop-web-worker",
                "shop/process:web": "shop-web",
            },
        ),
        # long names that collide after the cut
        ("addon", {"addon:%s-1" % ("x" * 40): "x" * 40 + "-1", "addon:%s-1" % ("x" * 41): "x" * 41 + "-1"}),
    ],
)
def test_names_are_unique_after_derivation_every_colliding_name_gets_a_hash_of_its_key(kind, wanted):
    names, renamed = rules.unique_names(wanted, kind)
    assert sorted(names) == sorted(wanted)
    assert len(set(names.values())) == len(wanted)  # one Northflank name per Heroku thing
    pattern = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
    assert all(pattern.match(n) and len(n) <= rules.MAX_NAME[kind] and "--" not in n for n in names.values())
    # stable and independent of the order the names come in
    assert rules.unique_names(dict(reversed(list(wanted.items()))), kind) == (names, renamed)
    # every renaming is listed, with its reason
    assert sorted((r["heroku"], r["northflank"]) for r in renamed) == sorted(
        (wanted[k], names[k]) for k in wanted if names[k] != wanted[k]
    )
    assert all(r["kind"] == kind and r["reason"] for r in renamed)


def test_only_the_colliding_names_get_a_hash_and_the_reason_names_the_other():
    names, renamed = rules.unique_names({"app:a--b": "a--b", "app:a-b": "a-b", "app:c": "c-app"}, "project")
    assert names["app:c"] == "c-app"
    assert names["app:a-b"] == "a-b-" + rules._hash("app:a-b") and names["app:a--b"] == "a-b-" + rules._hash("app:a--b")
    why = dict((r["heroku"], r["reason"]) for r in renamed)
    assert "a--b" in why["a-b"] and "a-b would also be the Northflank name of" in why["a-b"]


def test_a_name_that_still_collides_after_disambiguation_is_an_error_never_an_overwrite():
    clash = "a-b-" + rules._hash("app:a-b")  # a Heroku name that is another's disambiguated name
    with pytest.raises(rules.MappingError, match="still share"):
        rules.unique_names({"app:a-b": "a-b", "app:a--b": "a--b", "app:x": clash}, "project", "acme")


def test_unit_project_names_come_from_every_unit_and_do_not_depend_on_order():
    units = [("pipeline", "shop"), ("app", "shop"), ("app", "a--b"), ("app", "a-b"), ("app", "blog")]
    projects = rules.unit_project_names(units)
    assert projects == rules.unit_project_names(list(reversed(units)))
    assert projects[("app", "blog")] == "blog"
    assert len(set(projects.values())) == len(units)
    assert projects[("pipeline", "shop")] == "shop-" + rules._hash("pipeline:shop")
    assert projects[("app", "shop")] == "shop-" + rules._hash("app:shop")


@pytest.mark.parametrize(
    "kind,name,project,reason",
    [
        ("app", "blog", "blog", None),
        ("app", "shop", "shop-" + rules._hash("app:shop"), "another Heroku unit"),
        ("pipeline", "shop", "shop-" + rules._hash("pipeline:shop"), "another Heroku unit"),
        ("app", "blog", "my-blog", "herokumigrate_project"),
    ],
)
def test_project_rename_says_why_a_project_is_not_named_after_its_unit(kind, name, project, reason):
    entry = rules.project_rename(kind, name, project)
    if reason is None:
        assert entry is None
    else:
        assert (
            entry["kind"] == "project"
            and entry["heroku"] == name
            and entry["northflank"] == project
            and reason in entry["reason"]
        )


# -- tables -----------------------------------------------------------------------------------
def test_unknown_stack_is_a_clear_error_naming_the_unit_and_the_fix():
    with pytest.raises(rules.MappingError) as err:
        rules.builder_for("cedar-14", {"heroku-24": "HEROKU_24"}, "acme-web")
    assert "acme-web" in str(err.value) and "cedar-14" in str(err.value) and "herokumigrate_builder" in str(err.value)
    assert rules.builder_for("heroku-24", {"heroku-24": "HEROKU_24"}, "acme-web") == "HEROKU_24"


def test_dyno_sizes_are_looked_up_case_insensitively():
    assert rules.plan_for("Standard-1X", {"standard-1x": "nf-compute-20"}, "u") == "nf-compute-20"
    with pytest.raises(rules.MappingError):
        rules.plan_for("performance-xxl", {"standard-1x": "nf-compute-20"}, "u")


# Northflank's compute plans (GET /v1/plans): (vCPU, memory MB).
NF_PLANS = {
    "nf-compute-10": (0.1, 256),
    "nf-compute-20": (0.2, 512),
    "nf-compute-50": (0.5, 1024),
    "nf-compute-100-1": (1, 1024),
    "nf-compute-100-2": (1, 2048),
    "nf-compute-100-4": (1, 4096),
    "nf-compute-200": (2, 4096),
    "nf-compute-200-4": (2, 4096),
    "nf-compute-200-8": (2, 8192),
    "nf-compute-200-16": (2, 16384),
    "nf-compute-400": (4, 8192),
    "nf-compute-400-16": (4, 16384),
    "nf-compute-800-8": (8, 8192),
    "nf-compute-800-16": (8, 16384),
    "nf-compute-800-24": (8, 24576),
    "nf-compute-800-32": (8, 32768),
    "nf-compute-800-40": (8, 40960),
    "nf-compute-1200-24": (12, 24576),
    "nf-compute-1600-32": (16, 32768),
    "nf-compute-2000-40": (20, 40960),
}
FIR = re.compile(r"^dyno-(\d+)c-([\d.]+)gb$")


def nearest_plan(vcpu, memory_mb):
    """The smallest plan with at least the dyno's vCPUs and memory, else the largest plan."""
    fits = [(cpu, mem, name) for name, (cpu, mem) in NF_PLANS.items() if cpu >= vcpu and mem >= memory_mb]
    if fits:
        return min(fits)[2]
    return max((mem, cpu, name) for name, (cpu, mem) in NF_PLANS.items())[2]


FIR_ROWS = sorted(size for size in DEFAULTS["herokumigrate_plans"] if FIR.match(size))


def test_the_fir_sizes_are_in_the_table():
    assert (
        {"dyno-1c-0.5gb", "dyno-1c-1gb", "dyno-2c-4gb", "dyno-4c-8gb", "dyno-2c-8gb", "dyno-2c-16gb"}
        <= set(FIR_ROWS)
    )


@pytest.mark.parametrize("size", FIR_ROWS)
def test_each_fir_size_maps_to_the_nearest_plan_by_vcpu_and_memory(size):
    vcpu, memory = FIR.match(size).groups()
    assert DEFAULTS["herokumigrate_plans"][size] == nearest_plan(int(vcpu), float(memory) * 1024)
    assert rules.plan_for(size.upper(), DEFAULTS["herokumigrate_plans"], "u") == DEFAULTS["herokumigrate_plans"][size]


def test_every_plan_of_the_tables_is_a_northflank_plan():
    assert set(DEFAULTS["herokumigrate_plans"].values()) <= set(NF_PLANS)
    assert {s["plan"] for s in DEFAULTS["herokumigrate_addon_settings"].values()} <= set(NF_PLANS)


# -- config vars ------------------------------------------------------------------------------
INFO = {
    "config_vars": {
        "SECRET_KEY": "s",
        "DATABASE_URL": "postgres://x",
        "HEROKU_APP_NAME": "a",
        "PORT": "5000",
        "EMPTY": "",
    },
    "config_var_classes": {
        "SECRET_KEY": "user",
        "DATABASE_URL": "addon",
        "HEROKU_APP_NAME": "heroku",
        "PORT": "heroku",
        "EMPTY": "user",
    },
}


def test_runtime_variables_follow_the_documented_rule():
    assert rules.runtime_variables(INFO, {}, port=8080) == {
        "SECRET_KEY": "s",
        "DATABASE_URL": "postgres://x",
        "EMPTY": "",
        "PORT": "8080",
    }
    assert rules.runtime_variables(
        INFO, {"addon_vars": "drop", "keep": ["HEROKU_APP_NAME"], "drop": ["EMPTY"], "set": {"NEW": "1"}}
    ) == {"SECRET_KEY": "s", "HEROKU_APP_NAME": "a", "NEW": "1"}


def test_dropped_variables_lists_names_only():
    assert rules.dropped_variables(INFO, {}) == ["HEROKU_APP_NAME", "PORT"]
    assert rules.dropped_variables({"config_var_classes": INFO["config_var_classes"]}, {"addon_vars": "drop"}) == [
        "DATABASE_URL",
        "HEROKU_APP_NAME",
        "PORT",
    ]


@pytest.mark.parametrize(
    "name,cls",
    [
        # the dyno's runtime
        ("PORT", "heroku"),
        ("DYNO", "heroku"),
        ("DYNO_RAM", "heroku"),
        ("STACK", "heroku"),
        # dyno metadata (labs: runtime-dyno-metadata, runtime-dyno-build-metadata)
        ("HEROKU_APP_ID", "heroku"),
        ("HEROKU_APP_NAME", "heroku"),
        ("HEROKU_APP_DEFAULT_DOMAIN_NAME", "heroku"),
        ("HEROKU_DYNO_ID", "heroku"),
        ("HEROKU_RELEASE_CREATED_AT", "heroku"),
        ("HEROKU_RELEASE_VERSION", "heroku"),
        ("HEROKU_SLUG_COMMIT", "heroku"),
        ("HEROKU_SLUG_DESCRIPTION", "heroku"),
        ("HEROKU_BUILD_COMMIT", "heroku"),
        ("HEROKU_BUILD_DESCRIPTION", "heroku"),
        # review apps
        ("HEROKU_BRANCH", "heroku"),
        ("HEROKU_PR_NUMBER", "heroku"),
        ("HEROKU_PARENT_APP_NAME", "heroku"),
        # the user's own, whatever their prefix
        ("HEROKU_API_KEY", "user"),
        ("HEROKU_OAUTH_SECRET", "user"),
        ("HEROKU_OAUTH_ID", "user"),
        ("WEB_CONCURRENCY", "user"),
        ("SECRET_KEY_BASE", "user"),
        ("DYNO_COUNT", "user"),
        # add-on variables: by the attachments
        ("HEROKU_POSTGRESQL_ORANGE_URL", "addon"),
        ("DATABASE_URL", "addon"),
        ("REDIS_URL", "addon"),
    ],
)
def test_config_vars_are_heroku_s_by_name_and_add_ons_by_attachment(name, cls):
    attachments = [{"config_vars": ["DATABASE_URL", "HEROKU_POSTGRESQL_ORANGE_URL"]}, {"config_vars": ["REDIS_URL"]}]
    assert rules.classify_config_vars({name: "v"}, attachments) == {name: cls}


def test_a_user_s_heroku_prefixed_variable_is_copied():
    info = {
        "config_vars": {"HEROKU_API_KEY": "k", "HEROKU_APP_NAME": "a"},
        "config_var_classes": rules.classify_config_vars({"HEROKU_API_KEY": "k", "HEROKU_APP_NAME": "a"}, []),
    }
    assert rules.runtime_variables(info, {}) == {"HEROKU_API_KEY": "k"}


# -- domains ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "host,apexes,expected",
    [
        ("www.acme.com", None, ("acme.com", "www")),
        ("acme.com", None, ("acme.com", "@")),
        ("a.b.acme.com", None, ("acme.com", "a.b")),
        # public suffixes of the ICANN section
        ("shop.acme.co.uk", None, ("acme.co.uk", "shop")),
        ("acme.co.uk", None, ("acme.co.uk", "@")),
        ("www.acme.com.au", None, ("acme.com.au", "www")),
        ("api.shop.acme.co.jp", None, ("acme.co.jp", "api.shop")),
        # a wildcard rule (*.ck) and its exception (!www.ck)
        ("shop.acme.co.ck", None, ("acme.co.ck", "shop")),
        ("a.www.ck", None, ("www.ck", "a")),
        # the private section
        ("docs.acme.github.io", None, ("acme.github.io", "docs")),
        ("acme.github.io", None, ("acme.github.io", "@")),
        # a TLD no rule lists: its last label
        ("www.acme.internal-tld", None, ("acme.internal-tld", "www")),
        # an IDN suffix, in the punycode form Heroku returns
        ("www.acme.xn--55qx5d.cn", None, ("acme.xn--55qx5d.cn", "www")),
        # herokumigrate_domain_apexes wins, the longest first
        ("shop.acme.co.uk", ["co.uk", "acme.co.uk"], ("acme.co.uk", "shop")),
        ("a.b.example.com", ["b.example.com"], ("b.example.com", "a")),
        ("WWW.Acme.Com.", None, ("acme.com", "www")),
    ],
)
def test_domains_are_registered_under_the_apex_the_public_suffix_list_gives(host, apexes, expected):
    assert rules.domain_parts(host, apexes) == expected


@pytest.mark.parametrize("host", ["co.uk", "github.io", "com", "com.au"])
def test_a_public_suffix_itself_is_never_registered(host):
    assert rules.registered_domain(host) is None
    with pytest.raises(rules.MappingError, match="public suffix"):
        rules.domain_parts(host, None, "acme")


def test_the_public_suffix_data_says_where_it_comes_from_and_its_licence():
    source = (ROOT / "plugins" / "module_utils" / "public_suffix_list.py").read_text()
    assert (
        "Mozilla Public" in source
        and "publicsuffix.org" in public_suffix_list.SOURCE
        and len(public_suffix_list.SHA256) == 64
    )
    icann, private = public_suffix_list.ICANN.split(), public_suffix_list.PRIVATE.split()
    assert {"co.uk", "com.au", "*.ck", "!www.ck"} <= set(icann) and {"github.io", "herokuapp.com"} <= set(private)
    assert all(rule.isascii() for rule in icann + private)


# -- classification ----------------------------------------------------------------------------
def _app(**app):
    base = {"name": "a", "stack": "heroku-24", "build_stack": "heroku-24", "space": None, "region": "us"}
    return {"app": dict(base, **app), "formation": [{"type": "web"}], "pipeline": None, "scheduler": {}}


@pytest.mark.parametrize(
    "info,scenario,reason",
    [
        (_app(stack="container"), "unsupported", "container-registry"),
        (dict(_app(), formation=[]), "unsupported", "no dyno formation"),
        (dict(_app(), formation=[{"type": "release"}]), "unsupported", "no dyno formation"),
        (_app(stack="cnb", generation="fir", space="acme-fir"), "single_dyno", None),
        (dict(_app(), formation=[{"type": "web"}, {"type": "worker"}]), "multi_dyno", None),
    ],
)
def test_apps_are_classified_as_northflank_s_importer_does(info, scenario, reason):
    migration = rules.classify_app(info)
    assert migration["scenario"] == scenario and (reason or "") in (migration["reason"] or "")


def _member(name, stage, region="us", scenario="multi_dyno"):
    return {
        "app": {"name": name, "region": region},
        "pipeline": {"stage": stage},
        "migration": {"scenario": scenario, "reason": "why"},
    }


@pytest.mark.parametrize(
    "apps,scenario,reason",
    [
        ([_member("a", "staging"), _member("b", "production", region="eu")], "unsupported", "several regions"),
        ([_member("a", "review"), _member("b", "test")], "unsupported", "no apps in a development"),
        ([_member("a", "staging"), _member("b", "production", scenario="unsupported")], "unsupported", "b: why"),
        ([_member("a", "staging"), _member("r", "review", region="eu"), _member("b", "production")], "pipeline", None),
    ],
)
def test_pipelines_are_classified_as_northflank_s_importer_does_review_and_test_stages_left_out(apps, scenario, reason):
    migration = rules.classify_pipeline({"apps": apps})
    assert migration["scenario"] == scenario and (reason or "") in (migration["reason"] or "")

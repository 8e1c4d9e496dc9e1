"""A unit's plan (plugins/module_utils/plan.py): the resources composed from the rules, without any server."""

from __future__ import annotations

import pytest

from ansible_collections.herokumigrate.northflank.plugins.module_utils import rules
from ansible_collections.herokumigrate.northflank.plugins.module_utils.plan import plan_unit
from mapping_cases import POSTGRES, SETTINGS, app_info, pipeline_info, pipeline_of


def test_single_dyno_is_one_combined_service_with_two_independent_copies_of_the_variables():
    plan, secrets = plan_unit(
        "hello", "app", app_info("hello", [("web", 2, "basic")], domains=["www.hello.example"]), SETTINGS
    )
    assert plan["scenario"] == "single_dyno"
    assert plan["project"] == {
        "name": "hello",
        "region": "us-east1",
        "description": "Migrated from Heroku app hello",
        "owner": "Heroku app hello",
    }
    (service,) = plan["services"]
    assert service["type"] == "combined" and service["instances"] == 2 and service["plan"] == "nf-compute-20"
    assert service["vcs"] == {
        "project_url": "https://github.com/acme/hello",
        "project_type": "github",
        "account_login": "acme",
        "branch": "main",
    }
    assert service["buildpack"] == {"builder": "HEROKU_24", "buildpacks": ["heroku/ruby"]}
    assert service["ports"] == [{"name": "web", "internal_port": 8080, "public": True, "protocol": "HTTP"}]
    runtime, build = secrets[service["runtime_variables_ref"]], secrets[service["build_arguments_ref"]]
    assert runtime == {"SECRET_KEY": "value-hello", "DATABASE_URL": "postgres://db/hello", "PORT": "8080"}
    assert build == {"SECRET_KEY": "value-hello", "DATABASE_URL": "postgres://db/hello"}
    assert runtime is not build
    assert plan["domains"] == [
        {
            "domain": "hello.example",
            "project": "hello",
            "subdomains": [{"name": "www", "service": "hello", "port": "web"}],
        }
    ]
    assert "value-hello" not in repr(plan)  # values only in secrets
    assert any("DYNO" in s["what"] for s in plan["skipped"])
    assert plan["renamed"] == []


def test_multi_dyno_is_a_build_service_deployments_per_process_and_a_secret_group():
    info = app_info(
        "shop",
        [("web", 2, "standard-2X"), ("worker", 1, "standard-1X")],
        process_types={"release": "rake db:migrate"},
        addons=[POSTGRES],
        jobs=[{"command": "rake sync", "schedule": "*/10 * * * *", "dyno_size": "Standard-1X"}],
    )
    plan, secrets = plan_unit("shop", "app", info, SETTINGS)
    build, web, worker = plan["services"]
    assert (build["type"], build["name"], build["build_rules"]) == (
        "build",
        "shop-builder",
        {"branches": ["main"], "pull_requests": []},
    )
    assert secrets[build["build_arguments_ref"]] == {"SECRET_KEY": "value-shop", "DATABASE_URL": "postgres://db/shop"}
    assert (web["name"], web["instances"], web["plan"], web["start"]) == (
        "shop-web",
        2,
        "nf-compute-50",
        {"process": "web"},
    )
    assert web["deploy_from"] == {"build_service": "shop-builder", "branch": "main", "build_sha": "latest"}
    assert (worker["name"], worker["ports"], worker["start"]) == ("shop-worker", [], {"process": "worker"})
    (group,) = plan["secret_groups"]
    assert secrets[group["variables_ref"]]["PORT"] == "8080"
    assert {o["id"] for o in group["restricted_to"]} == {"shop-web", "shop-worker", "shop-scheduler-1", "shop-release"}
    cron, release = plan["jobs"]
    assert (cron["schedule"], cron["start"], cron["plan"]) == (
        "*/10 * * * *",
        {"command": "rake sync"},
        "nf-compute-20",
    )
    assert (release["name"], release["start"]) == ("shop-release", {"command": "rake db:migrate"})
    (addon,) = plan["addons"]
    assert (addon["name"], addon["type"], addon["version"], addon["storage"]) == (
        "postgresql-1",
        "postgresql",
        "16-latest",
        10240,
    )


def test_shared_addons_are_created_by_their_owner_only():
    shared = dict(POSTGRES, owning_app="other", owned_by_other_app=True)
    plan = plan_unit(
        "shop", "app", app_info("shop", [("web", 1, "basic"), ("worker", 1, "basic")], addons=[shared]), SETTINGS
    )[0]
    assert plan["addons"] == []
    assert any("owned by other" in s["why"] for s in plan["skipped"])


# -- 1. names are unique -----------------------------------------------------------------------
def test_process_types_differing_only_by_underscore_and_hyphen_get_two_services():
    info = app_info("shop", [("web", 1, "basic"), ("web_worker", 1, "basic"), ("web-worker", 2, "basic")])
    plan = plan_unit("shop", "app", info, SETTINGS)[0]
    deployments = [s for s in plan["services"] if s["type"] == "deployment"]
    names = [s["name"] for s in deployments]
    assert len(set(names)) == 3 and "shop-web" in names
    assert {(s["process_type"], s["instances"]) for s in deployments} == {
        ("web", 1),
        ("web_worker", 1),
        ("web-worker", 2),
    }
    renamed = dict((r["heroku"], r["northflank"]) for r in plan["renamed"] if r["kind"] == "service")
    assert set(renamed) == {"shop-web_worker", "shop-web-worker"} and set(renamed.values()) == set(names) - {"shop-web"}
    # the secret group reaches both; the same plan on every run
    assert {o["id"] for o in plan["secret_groups"][0]["restricted_to"]} == set(names)
    assert plan_unit("shop", "app", info, SETTINGS)[0] == plan


def test_a_process_type_named_like_the_build_service_does_not_overwrite_it():
    plan = plan_unit("shop", "app", app_info("shop", [("web", 1, "basic"), ("builder", 1, "basic")]), SETTINGS)[0]
    build = [s for s in plan["services"] if s["type"] == "build"][0]
    deployments = [s for s in plan["services"] if s["type"] == "deployment"]
    assert build["name"] not in [d["name"] for d in deployments]
    assert all(d["deploy_from"]["build_service"] == build["name"] for d in deployments)
    assert len(set(s["name"] for s in plan["services"])) == 3


@pytest.mark.parametrize(
    "kind,unit,project,reason",
    [
        (
            "app",
            "shop",
            "shop-" + rules._hash("app:shop"),
            "another Heroku unit",
        ),  # an app named like a pipeline (the inventory's name)
        ("app", "shop", "acme-shop", "herokumigrate_project"),
    ],
)
def test_the_project_the_inventory_gives_is_used_and_its_renaming_reported(kind, unit, project, reason):
    plan = plan_unit(unit, kind, app_info(unit, [("web", 1, "basic")]), dict(SETTINGS, project=project))[0]
    assert plan["project"]["name"] == project and plan["services"][0]["project"] == project
    assert (
        plan["project"]["owner"] == "Heroku app shop"
    )  # the owner marker is the Heroku unit, whatever the project's name
    (entry,) = [r for r in plan["renamed"] if r["kind"] == "project"]
    assert (entry["heroku"], entry["northflank"]) == (unit, project) and reason in entry["reason"]


# -- 2. one addon per Heroku add-on -------------------------------------------------------------
def test_each_heroku_add_on_becomes_its_own_addon_with_its_own_import():
    primary = dict(POSTGRES, name="postgresql-curved-12345", config_vars=["DATABASE_URL"])
    follower = dict(
        POSTGRES,
        name="postgresql-Spherical_67890",
        plan="heroku-postgresql:standard-0",
        config_vars=["HEROKU_POSTGRESQL_ORANGE_URL"],
    )
    redis = {
        "name": "redis-angular-1",
        "service": "heroku-redis",
        "plan": "heroku-redis:mini",
        "owning_app": "shop",
        "owned_by_other_app": False,
        "config_vars": ["REDIS_URL"],
    }
    plan = plan_unit(
        "shop", "app", app_info("shop", [("web", 1, "basic")], addons=[primary, follower, redis]), SETTINGS
    )[0]
    assert [(a["name"], a["type"], a["heroku_addon"]) for a in plan["addons"]] == [
        ("postgresql-curved-12345", "postgresql", "postgresql-curved-12345"),
        ("postgresql-spherical-67890", "postgresql", "postgresql-Spherical_67890"),
        ("redis-angular-1", "redis", "redis-angular-1"),
    ]
    imports = [t for t in plan["todo"] if "northflank_addon_import" in t]
    assert len(imports) == 3
    assert any("postgresql-curved-12345" in t and "DATABASE_URL" in t for t in imports)
    assert any("postgresql-spherical-67890" in t and "HEROKU_POSTGRESQL_ORANGE_URL" in t for t in imports)
    assert {
        "kind": "addon",
        "heroku": "postgresql-Spherical_67890",
        "northflank": "postgresql-spherical-67890",
        "reason": "Northflank names are lower-case letters, digits and single hyphens",
    } in plan["renamed"]


# -- 4. Fir apps --------------------------------------------------------------------------------
def test_a_fir_app_migrates_with_its_size_mapped_like_cedar_sizes():
    info = app_info("edge", [("web", 2, "dyno-1c-0.5gb")], stack="cnb")
    info["app"].update(generation="fir", space="acme-fir")
    plan = plan_unit("edge", "app", info, SETTINGS)[0]
    (service,) = plan["services"]
    assert (service["plan"], service["instances"], service["buildpack"]["builder"]) == (
        "nf-compute-100-1",
        2,
        "HEROKU_24",
    )


# -- 7. internal routing --------------------------------------------------------------------------
@pytest.mark.parametrize("formation", [[("web", 1, "basic")], [("web", 1, "basic"), ("worker", 1, "basic")]])
def test_a_private_space_app_with_internal_routing_gets_no_public_port(formation):
    plan = plan_unit("ledger", "app", app_info("ledger", formation, internal_routing=True), SETTINGS)[0]
    web = [s for s in plan["services"] if s.get("process_type") == "web"][0]
    assert web["ports"] == [{"name": "web", "internal_port": 8080, "public": False, "protocol": "HTTP"}]
    public = plan_unit("ledger", "app", app_info("ledger", formation), SETTINGS)[0]
    assert [s for s in public["services"] if s.get("process_type") == "web"][0]["ports"][0]["public"] is True


# -- 6. domains ---------------------------------------------------------------------------------
def test_domains_under_a_public_suffix_are_registered_under_the_right_apex():
    info = app_info("shop", [("web", 1, "basic")], domains=["www.acme.co.uk", "acme.co.uk", "shop.acme.com.au"])
    plan = plan_unit("shop", "app", info, SETTINGS)[0]
    assert [(d["domain"], sorted(s["name"] for s in d["subdomains"])) for d in plan["domains"]] == [
        ("acme.co.uk", ["@", "www"]),
        ("acme.com.au", ["shop"]),
    ]
    with pytest.raises(rules.MappingError, match=r"shop \(app shop\): custom domain co.uk is a public suffix"):
        plan_unit("shop", "app", app_info("shop", [("web", 1, "basic")], domains=["co.uk"]), SETTINGS)
    override = plan_unit("shop", "app", info, dict(SETTINGS, domain_apexes=["www.acme.co.uk"]))[0]
    assert ("www.acme.co.uk", ["@"]) in [
        (d["domain"], [s["name"] for s in d["subdomains"]]) for d in override["domains"]
    ]


# -- 5. pipelines follow Heroku's promotion -----------------------------------------------------
def test_pipeline_places_services_in_stages_and_promotes_stage_to_stage():
    plan, secrets = plan_unit("api", "pipeline", pipeline_info(), SETTINGS)
    assert plan["project"]["name"] == "api"
    assert plan["pipeline"]["stages"] == {
        "staging": {"services": ["api-staging-web", "api-staging-worker"], "jobs": [], "addons": []},
        "production": {"services": ["api-prod-web", "api-prod-worker"], "jobs": [], "addons": []},
    }
    staging, production = plan["release_flows"]
    assert (staging["stage"], staging["mode"], staging["build_service"], staging["branch"]) == (
        "staging",
        "build",
        "api-staging-builder",
        "main",
    )
    assert production["mode"] == "promote"
    assert production["targets"] == [
        {"id": "api-prod-web", "type": "service", "origin": "api-staging-web"},
        {"id": "api-prod-worker", "type": "service", "origin": "api-staging-worker"},
    ]
    kept = [k for k in secrets if not k.endswith(("-switched", "-restore"))]  # the switch's own: test_*_switch_*
    assert len(plan["secret_groups"]) == 2 and len(kept) == 4
    assert any("review" in s["why"] for s in plan["skipped"])


WEB_WORKER = [("web", 1, "basic"), ("worker", 1, "basic")]


def test_the_first_stage_deploys_each_app_s_own_build_and_runs_each_release_phase():
    info = pipeline_of(
        "shop",
        ("shop-dev-a", "development", WEB_WORKER, "rake a"),
        ("shop-dev-b", "development", [("web", 1, "basic")], "rake b"),
        ("shop-stg", "staging", WEB_WORKER, "rake s"),
    )
    plan = plan_unit("shop", "pipeline", info, SETTINGS)[0]
    dev, stg = plan["release_flows"]
    assert dev["mode"] == "build"
    assert [(t["id"], t["build_service"]) for t in dev["targets"]] == [
        ("shop-dev-a-web", "shop-dev-a-builder"),
        ("shop-dev-a-worker", "shop-dev-a-builder"),
        ("shop-dev-b-web", "shop-dev-b-builder"),
    ]
    assert dev["release_phase"] == [
        {"job": "shop-dev-a-release", "build_service": "shop-dev-a-builder", "branch": "main"},
        {"job": "shop-dev-b-release", "build_service": "shop-dev-b-builder", "branch": "main"},
    ]
    assert plan["pipeline"]["stages"]["development"]["jobs"] == ["shop-dev-a-release", "shop-dev-b-release"]
    # staging takes everything from ONE app: shop-dev-a runs both its process types and has a release phase
    assert [(t["id"], t["origin"]) for t in stg["targets"]] == [
        ("shop-stg-web", "shop-dev-a-web"),
        ("shop-stg-worker", "shop-dev-a-worker"),
    ]
    assert stg["release_phase"] == {"job": "shop-stg-release", "origin": "shop-dev-a-release"}
    assert any("shop-stg is promoted from shop-dev-a" in w for w in plan["warnings"])


def test_every_app_of_a_later_stage_is_promoted_from_one_upstream_app_with_its_release_phase():
    info = pipeline_of(
        "shop",
        ("shop-stg", "staging", WEB_WORKER, "rake s"),
        ("shop-prd-eu", "production", WEB_WORKER, "rake p"),
        ("shop-prd-us", "production", WEB_WORKER, "rake q"),
    )
    prd = plan_unit("shop", "pipeline", info, SETTINGS)[0]["release_flows"][1]
    assert [(t["id"], t["origin"]) for t in prd["targets"]] == [
        ("shop-prd-eu-web", "shop-stg-web"),
        ("shop-prd-eu-worker", "shop-stg-worker"),
        ("shop-prd-us-web", "shop-stg-web"),
        ("shop-prd-us-worker", "shop-stg-worker"),
    ]
    assert prd["release_phase"] == [
        {"job": "shop-prd-eu-release", "origin": "shop-stg-release"},
        {"job": "shop-prd-us-release", "origin": "shop-stg-release"},
    ]


def test_a_process_type_the_stage_before_dropped_is_reported_not_fatal():
    info = pipeline_of(
        "shop", ("shop-stg", "staging", [("web", 1, "basic")], None), ("shop-prd", "production", WEB_WORKER, None)
    )
    plan = plan_unit("shop", "pipeline", info, SETTINGS)[0]
    prd = plan["release_flows"][1]
    assert prd["targets"] == [{"id": "shop-prd-web", "type": "service", "origin": "shop-stg-web"}]
    assert any(
        "process type worker to shop-prd" in s["what"] and "shop-prd-worker deploys its own build" in s["why"]
        for s in plan["skipped"]
    )
    assert "shop-prd-worker" in [s["name"] for s in plan["services"]]  # still migrated


@pytest.mark.parametrize(
    "upstream,downstream,skipped,warned",
    [
        ("rake s", None, False, True),  # the stage before has a release phase, this app none
        (None, "rake p", True, False),  # this app has one, the stage before none: run it yourself
    ],
)
def test_a_release_phase_on_one_side_only_is_reported_not_fatal(upstream, downstream, skipped, warned):
    info = pipeline_of(
        "shop",
        ("shop-stg", "staging", [("web", 1, "basic")], upstream),
        ("shop-prd", "production", [("web", 1, "basic")], downstream),
    )
    plan = plan_unit("shop", "pipeline", info, SETTINGS)[0]
    prd = plan["release_flows"][1]
    assert "release_phase" not in prd and prd["targets"] == [
        {"id": "shop-prd-web", "type": "service", "origin": "shop-stg-web"}
    ]
    assert (
        any(
            "release phase of shop-prd" in s["what"] and "run job shop-prd-release yourself" in s["why"]
            for s in plan["skipped"]
        )
        == skipped
    )
    assert any("shop-prd has no release phase" in w for w in plan["warnings"]) == warned


def test_a_stage_with_nothing_to_promote_gets_no_flow_and_says_why():
    info = pipeline_of(
        "shop",
        ("shop-stg", "staging", [("web", 1, "basic")], None),
        ("shop-prd", "production", [("worker", 1, "basic")], None),
    )
    plan = plan_unit("shop", "pipeline", info, SETTINGS)[0]
    assert [f["stage"] for f in plan["release_flows"]] == ["staging"]
    assert any(s["what"] == "release flow of stage production" for s in plan["skipped"])


# -- what the rules refuse ---------------------------------------------------------------------
def test_missing_repository_names_the_unit_and_the_setting():
    settings = dict(SETTINGS, repository_default={})
    with pytest.raises(rules.MappingError) as err:
        plan_unit("hello", "app", app_info("hello", [("web", 1, "basic")]), settings)
    assert "hello" in str(err.value) and "herokumigrate_repositories" in str(err.value)


def test_unsupported_units_are_refused_with_their_reason():
    info = dict(app_info("box", []), migration={"scenario": "unsupported", "reason": "container-registry app"})
    with pytest.raises(rules.MappingError, match="container-registry"):
        plan_unit("box", "app", info, SETTINGS)


def test_each_app_has_a_git_mirror_from_heroku_git_to_the_repository_northflank_builds():
    plan = plan_unit("shop", "app", app_info("shop", [("web", 1, "basic"), ("worker", 1, "basic")]), SETTINGS)[0]
    assert plan["git_mirrors"] == [
        {
            "app": "shop",
            "source_url": "https://git.heroku.com/shop.git",
            "target_url": "https://github.com/acme/shop",
            "branch": "main",
            "branches": ["main:main", "master:main"],
        }
    ]
    # without herokumigrate_git_mirror the mirror stays a to-do
    assert (
        "shop: mirror the Heroku Git repository (https://git.heroku.com/shop.git) "
        "to the repository Northflank builds from" in plan["todo"]
    )
    # a push URL (per app, or in the default with {app}), another Heroku Git host, the branch preference
    settings = dict(
        SETTINGS,
        git_mirror=True,
        git_source_url="http://127.0.0.1:5000/git/{app}.git",
        git_source_branches=["trunk"],
        repositories={
            "hello": {
                "url": "https://github.com/acme/hello",
                "branch": "prod",
                "push_url": "git@github.com:acme/hello.git",
            }
        },
        repository_default=dict(SETTINGS["repository_default"], push_url="file:///srv/git/{app}.git"),
    )
    hello = plan_unit("hello", "app", app_info("hello", [("web", 1, "basic")]), settings)[0]
    assert hello["git_mirrors"] == [
        {
            "app": "hello",
            "source_url": "http://127.0.0.1:5000/git/hello.git",
            "target_url": "git@github.com:acme/hello.git",
            "branch": "prod",
            "branches": ["trunk:prod"],
        }
    ]
    assert not [t for t in hello["todo"] if "mirror" in t]
    assert (
        hello["services"][0]["vcs"]["project_url"] == "https://github.com/acme/hello"
    )  # Northflank still builds from url
    pipeline = plan_unit("api", "pipeline", pipeline_info(), settings)[0]
    assert [(g["app"], g["target_url"]) for g in pipeline["git_mirrors"]] == [
        ("api-staging", "file:///srv/git/api-staging.git"),
        ("api-prod", "file:///srv/git/api-prod.git"),
    ]  # not the review app


# -- the cut-over's switch, kept by the plan once made (rules.switch_links, rules.is_switched) -----------------------
REDIS = {
    "name": "redis-2",
    "service": "heroku-redis",
    "plan": "heroku-redis:mini",
    "owning_app": "shop",
    "owned_by_other_app": False,
    "config_vars": ["REDIS_URL", "REDIS_TLS_URL"],
}
SWITCHED = {"switch": {"written_at": "t1", "switched_at": "t2"}}


def shop(formation):
    info = app_info("shop", formation, process_types={"release": "rake db:migrate"}, addons=[POSTGRES, REDIS])
    info["config_vars"].update(REDIS_URL="rediss://r/1", REDIS_TLS_URL="rediss://r/2")
    return info


def test_the_switch_links_each_data_addon_under_the_config_var_names_it_replaces():
    links, removed = rules.switch_links(
        shop([("web", 1, "basic")]),
        [
            {"name": "postgresql-1", "type": "postgresql", "heroku_addon": "postgresql-1"},
            {"name": "redis-2", "type": "redis", "heroku_addon": "redis-2"},
            {"name": "mongo-3", "type": "mongodb", "heroku_addon": "mongo-3"},
        ],
    )
    assert links == [
        {"addon": "postgresql-1", "keys": [{"name": "POSTGRES_URI", "aliases": ["DATABASE_URL"]}]},
        {"addon": "redis-2", "keys": [{"name": "REDIS_MASTER_URL", "aliases": ["REDIS_TLS_URL", "REDIS_URL"]}]},
    ]
    assert removed == ["DATABASE_URL", "REDIS_TLS_URL", "REDIS_URL"]
    assert not rules.is_switched({}) and rules.is_switched(SWITCHED)
    assert rules.is_switched({"switch": {"written_at": "t1"}})  # written, not yet restarted: kept
    assert not rules.is_switched({"switch": {"written_at": "t1", "switched_at": "t2", "undone_at": "t3"}})


def test_multi_dyno_switch_one_group_write_and_migrate_keeps_it_once_made():
    info = shop([("web", 2, "basic"), ("worker", 1, "basic")])
    plan, secrets = plan_unit("shop", "app", info, SETTINGS)
    (group,) = plan["secret_groups"]
    assert "addon_links" not in group and "DATABASE_URL" in secrets[group["variables_ref"]]
    (entry,) = plan["switch"]
    assert (entry["holder"], entry["group"], entry["restart"]) == ("group", group["name"], ["shop-web", "shop-worker"])
    assert entry["remove"] == ["DATABASE_URL", "REDIS_TLS_URL", "REDIS_URL"]
    assert secrets[entry["restore_ref"]] == {
        "DATABASE_URL": "postgres://db/shop",
        "REDIS_TLS_URL": "rediss://r/2",
        "REDIS_URL": "rediss://r/1",
    }
    assert "postgres://" not in repr(plan) and plan["switched"] is False
    plan, secrets = plan_unit("shop", "app", info, dict(SETTINGS, cutover_state=SWITCHED))
    (group,) = plan["secret_groups"]
    assert group["addon_links"] == entry["links"] and plan["switched"] is True
    assert secrets[group["variables_ref"]] == {"SECRET_KEY": "value-shop", "PORT": "8080"}
    assert plan["jobs"][0]["runtime_variables_ref"] is None  # the jobs inherit the group


def test_single_dyno_switch_a_group_of_links_and_the_service_and_jobs_without_the_copies():
    info = shop([("web", 1, "basic")])
    plan, secrets = plan_unit("shop", "app", info, SETTINGS)
    assert plan["secret_groups"] == []
    (entry,) = plan["switch"]
    (service,) = plan["services"]
    (release,) = plan["jobs"]
    assert (entry["holder"], entry["group"], entry["service"]) == ("service", "shop-addons", "shop")
    assert entry["restricted_to"] == [{"id": "shop", "type": "service"}, {"id": release["name"], "type": "job"}]
    assert [j["name"] for j in entry["jobs"]] == [release["name"]]
    assert "DATABASE_URL" not in secrets[entry["switched_ref"]] and "DATABASE_URL" in secrets[entry["variables_ref"]]
    plan, secrets = plan_unit("shop", "app", info, dict(SETTINGS, cutover_state=SWITCHED))
    (group,) = plan["secret_groups"]
    assert (group["name"], group["addon_links"], secrets[group["variables_ref"]]) == ("shop-addons", entry["links"], {})
    assert "DATABASE_URL" not in secrets[plan["services"][0]["runtime_variables_ref"]]
    assert "REDIS_URL" not in secrets[plan["jobs"][0]["runtime_variables_ref"]]


def test_pipeline_switch_one_entry_per_app_of_the_migrated_stages():
    plan, _secrets = plan_unit("api", "pipeline", pipeline_info(), SETTINGS)
    assert sorted(e["app"] for e in plan["switch"]) == ["api-prod", "api-staging"]
    assert all(e["holder"] == "group" and e["links"] == [] for e in plan["switch"])  # no data add-on to link

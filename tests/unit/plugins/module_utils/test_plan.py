"""The Heroku -> Northflank mapping rules, tested without any server."""

from __future__ import annotations

import pytest

from ansible_collections.herokumigrate.northflank.plugins.module_utils import rules
from ansible_collections.herokumigrate.northflank.plugins.module_utils.plan import plan_unit
from ansible_collections.herokumigrate.northflank.plugins.module_utils.records import unit_record, verify_record


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
    assert renamed == [{"kind": "project", "heroku": base, "northflank": first}]


@pytest.mark.parametrize("base,expected", [("web_1", "web-1"), ("Worker", "worker"), ("1web", "a-1web"), ("ab", "ab-app")])
def test_names_northflank_would_reject_are_fixed(base, expected):
    assert rules.northflank_name(base, "service") == expected


def test_unknown_stack_is_a_clear_error_naming_the_unit_and_the_fix():
    with pytest.raises(rules.MappingError) as err:
        rules.builder_for("cedar-14", {"heroku-24": "HEROKU_24"}, "acme-web")
    assert "acme-web" in str(err.value) and "cedar-14" in str(err.value) and "herokumigrate_builder" in str(err.value)
    assert rules.builder_for("heroku-24", {"heroku-24": "HEROKU_24"}, "acme-web") == "HEROKU_24"


def test_dyno_sizes_are_looked_up_case_insensitively():
    assert rules.plan_for("Standard-1X", {"standard-1x": "nf-compute-20"}, "u") == "nf-compute-20"
    with pytest.raises(rules.MappingError):
        rules.plan_for("performance-xxl", {"standard-1x": "nf-compute-20"}, "u")


INFO = {
    "config_vars": {"SECRET_KEY": "s", "DATABASE_URL": "postgres://x", "HEROKU_APP_NAME": "a", "PORT": "5000", "EMPTY": ""},
    "config_var_classes": {"SECRET_KEY": "user", "DATABASE_URL": "addon", "HEROKU_APP_NAME": "heroku", "PORT": "heroku", "EMPTY": "user"},
}


def test_runtime_variables_follow_the_documented_rule():
    assert rules.runtime_variables(INFO, {}, port=8080) == {"SECRET_KEY": "s", "DATABASE_URL": "postgres://x", "EMPTY": "", "PORT": "8080"}
    assert rules.runtime_variables(INFO, {"addon_vars": "drop", "keep": ["HEROKU_APP_NAME"], "drop": ["EMPTY"], "set": {"NEW": "1"}}) == {
        "SECRET_KEY": "s", "HEROKU_APP_NAME": "a", "NEW": "1"}


def test_dropped_variables_lists_names_only():
    assert rules.dropped_variables(INFO, {}) == ["HEROKU_APP_NAME", "PORT"]
    assert rules.dropped_variables({"config_var_classes": INFO["config_var_classes"]}, {"addon_vars": "drop"}) == [
        "DATABASE_URL", "HEROKU_APP_NAME", "PORT"]


SETTINGS = {
    "plans": {"basic": "nf-compute-20", "standard-1x": "nf-compute-20", "standard-2x": "nf-compute-50"},
    "regions": {"us": "us-east1", "eu": "europe-west"},
    "builders": {"heroku-24": "HEROKU_24", "heroku-22": "HEROKU_22"},
    "addon_types": {"heroku-postgresql": "postgresql", "heroku-redis": "redis"},
    "addon_settings": {"postgresql": {"version": "16-latest", "plan": "nf-compute-50", "storage": 10240, "replicas": 1}},
    "repository_default": {"url": "https://github.com/acme/{app}", "branch": "main", "account_login": "acme"},
    "web_port": 8080,
    "build_plan": "nf-compute-400-16",
}


def app_info(name, formation, stack="heroku-24", region="us", pipeline=None, process_types=None, addons=(), jobs=(), domains=()):
    config = {"SECRET_KEY": "value-" + name, "DATABASE_URL": "postgres://db/" + name, "DYNO": "web.1"}
    return {
        "app": {"name": name, "id": "id-" + name, "region": region, "stack": stack, "git_url": "https://git.heroku.com/%s.git" % name},
        "formation": [{"type": t, "quantity": q, "size": s, "command": "run " + t} for t, q, s in formation],
        "process_types": process_types or {},
        "config_vars": config,
        "config_var_classes": {"SECRET_KEY": "user", "DATABASE_URL": "addon", "DYNO": "heroku"},
        "addons": list(addons), "buildpacks": ["heroku/ruby"], "features": {}, "custom_domains": list(domains),
        "pipeline": pipeline, "scheduler": {"available": True, "jobs": list(jobs)},
        "migration": {"scenario": "pipeline" if pipeline else ("single_dyno" if len(formation) == 1 else "multi_dyno"), "warnings": []},
    }


POSTGRES = {"name": "postgresql-1", "service": "heroku-postgresql", "plan": "heroku-postgresql:essential-0", "owning_app": "shop",
            "owned_by_other_app": False, "config_vars": ["DATABASE_URL"]}


def test_single_dyno_is_one_combined_service_with_two_independent_copies_of_the_variables():
    plan, secrets = plan_unit("hello", "app", app_info("hello", [("web", 2, "basic")], domains=["www.hello.example"]), SETTINGS)
    assert plan["scenario"] == "single_dyno"
    assert plan["project"] == {"name": "hello", "region": "us-east1", "description": "Migrated from Heroku app hello"}
    (service,) = plan["services"]
    assert service["type"] == "combined" and service["instances"] == 2 and service["plan"] == "nf-compute-20"
    assert service["vcs"] == {"project_url": "https://github.com/acme/hello", "project_type": "github", "account_login": "acme", "branch": "main"}
    assert service["buildpack"] == {"builder": "HEROKU_24", "buildpacks": ["heroku/ruby"]}
    assert service["ports"] == [{"name": "web", "internal_port": 8080, "public": True, "protocol": "HTTP"}]
    runtime, build = secrets[service["runtime_variables_ref"]], secrets[service["build_arguments_ref"]]
    assert runtime == {"SECRET_KEY": "value-hello", "DATABASE_URL": "postgres://db/hello", "PORT": "8080"}
    assert build == {"SECRET_KEY": "value-hello", "DATABASE_URL": "postgres://db/hello"}
    assert runtime is not build
    assert plan["domains"] == [{"domain": "hello.example", "project": "hello", "subdomains": [{"name": "www", "service": "hello", "port": "web"}]}]
    assert "value-hello" not in repr(plan)  # values only in secrets
    assert any("DYNO" in s["what"] for s in plan["skipped"])


def test_multi_dyno_is_a_build_service_deployments_per_process_and_a_secret_group():
    info = app_info("shop", [("web", 2, "standard-2X"), ("worker", 1, "standard-1X")], process_types={"release": "rake db:migrate"},
                    addons=[POSTGRES], jobs=[{"command": "rake sync", "schedule": "*/10 * * * *", "dyno_size": "Standard-1X"}])
    plan, secrets = plan_unit("shop", "app", info, SETTINGS)
    build, web, worker = plan["services"]
    assert (build["type"], build["name"], build["build_rules"]) == ("build", "shop-builder", {"branches": ["main"], "pull_requests": []})
    assert secrets[build["build_arguments_ref"]] == {"SECRET_KEY": "value-shop", "DATABASE_URL": "postgres://db/shop"}
    assert (web["name"], web["instances"], web["plan"], web["start"]) == ("shop-web", 2, "nf-compute-50", {"process": "web"})
    assert web["deploy_from"] == {"build_service": "shop-builder", "branch": "main", "build_sha": "latest"}
    assert (worker["name"], worker["ports"], worker["start"]) == ("shop-worker", [], {"process": "worker"})
    (group,) = plan["secret_groups"]
    assert secrets[group["variables_ref"]]["PORT"] == "8080"
    assert {o["id"] for o in group["restricted_to"]} == {"shop-web", "shop-worker", "shop-scheduler-1", "shop-release"}
    cron, release = plan["jobs"]
    assert (cron["schedule"], cron["start"], cron["plan"]) == ("*/10 * * * *", {"command": "rake sync"}, "nf-compute-20")
    assert (release["name"], release["start"]) == ("shop-release", {"command": "rake db:migrate"})
    (addon,) = plan["addons"]
    assert (addon["name"], addon["type"], addon["version"], addon["storage"]) == ("shop-postgresql", "postgresql", "16-latest", 10240)


def test_shared_addons_are_created_by_their_owner_only():
    shared = dict(POSTGRES, owning_app="other", owned_by_other_app=True)
    plan = plan_unit("shop", "app", app_info("shop", [("web", 1, "basic"), ("worker", 1, "basic")], addons=[shared]), SETTINGS)[0]
    assert plan["addons"] == []
    assert any("owned by other" in s["why"] for s in plan["skipped"])


def pipeline_info():
    apps = [app_info(n, [("web", 1, "basic"), ("worker", 1, "basic")], pipeline={"name": "api", "stage": st})
            for n, st in (("api-prod", "production"), ("api-staging", "staging"), ("api-review", "review"))]
    return {"pipeline": {"name": "api"}, "apps": apps, "migration": {"scenario": "pipeline"}}


def test_pipeline_places_services_in_stages_and_promotes_stage_to_stage():
    plan, secrets = plan_unit("api", "pipeline", pipeline_info(), SETTINGS)
    assert plan["project"]["name"] == "api"
    assert plan["pipeline"]["stages"] == {"staging": {"services": ["api-staging-web", "api-staging-worker"], "jobs": [], "addons": []},
                                          "production": {"services": ["api-prod-web", "api-prod-worker"], "jobs": [], "addons": []}}
    staging, production = plan["release_flows"]
    assert (staging["stage"], staging["mode"], staging["build_service"], staging["branch"]) == ("staging", "build", "api-staging-builder", "main")
    assert production["mode"] == "promote"
    assert production["targets"] == [{"id": "api-prod-web", "type": "service", "origin": "api-staging-web"},
                                     {"id": "api-prod-worker", "type": "service", "origin": "api-staging-worker"}]
    assert len(plan["secret_groups"]) == 2 and len(secrets) == 4
    assert any("review" in s["why"] for s in plan["skipped"])


def test_missing_repository_names_the_unit_and_the_setting():
    settings = dict(SETTINGS, repository_default={})
    with pytest.raises(rules.MappingError) as err:
        plan_unit("hello", "app", app_info("hello", [("web", 1, "basic")]), settings)
    assert "hello" in str(err.value) and "herokumigrate_repositories" in str(err.value)


def test_unsupported_units_are_refused_with_their_reason():
    info = dict(app_info("box", []), migration={"scenario": "unsupported", "reason": "container-registry app"})
    with pytest.raises(rules.MappingError, match="container-registry"):
        plan_unit("box", "app", info, SETTINGS)


@pytest.mark.parametrize("host,apexes,expected", [
    ("www.acme.com", None, ("acme.com", "www")), ("acme.com", None, ("acme.com", "@")),
    ("shop.acme.co.uk", ["acme.co.uk"], ("acme.co.uk", "shop")), ("a.b.acme.com", None, ("acme.com", "a.b"))])
def test_domain_parts(host, apexes, expected):
    assert rules.domain_parts(host, apexes) == expected


def test_unit_record_names_what_each_task_did_without_values():
    plan = plan_unit("hello", "app", app_info("hello", [("web", 1, "basic")]), SETTINGS)[0]
    results = {
        "project": {"changed": True, "diff": {"before": {}, "after": {"name": "hello"}}},
        "services": {"results": [{"changed": True, "diff": {"before": {"instances": 1}}, "changed_paths": ["deployment.instances"],
                                  "item": {"name": "hello"}}]},
        "domains": {"results": [{"changed": False, "item": {"domain": "hello.example"},
                                 "dns_records": [{"type": "TXT", "name": "nfverify.hello.example", "value": "t"}],
                                 "pending": [{"name": "www", "reason": "publish the CNAME record"}]}]},
    }
    record = unit_record(plan, results, "migrate")
    assert record["status"] == "migrated" and record["changed"] == 2
    assert [(r["kind"], r["name"], r["action"]) for r in record["resources"]] == [
        ("project", "hello", "created"), ("services", "hello", "updated"), ("domains", "hello.example", "unchanged")]
    assert record["dns_records"][0]["type"] == "TXT"
    assert "www.hello.example: publish the CNAME record" in record["todo"]
    assert unit_record(plan, results, "plan")["resources"][0]["action"] == "would create"
    failed = unit_record(plan, {"project": {"failed": True, "msg": "HTTP 400"}}, "migrate")
    assert failed["status"] == "failed" and failed["resources"][0]["message"] == "HTTP 400"


def test_each_app_has_a_git_mirror_from_heroku_git_to_the_repository_northflank_builds():
    plan = plan_unit("shop", "app", app_info("shop", [("web", 1, "basic"), ("worker", 1, "basic")]), SETTINGS)[0]
    assert plan["git_mirrors"] == [{"app": "shop", "source_url": "https://git.heroku.com/shop.git", "target_url": "https://github.com/acme/shop",
                                    "branch": "main", "branches": ["main:main", "master:main"]}]
    # without herokumigrate_git_mirror the mirror stays a to-do
    assert "shop: mirror the Heroku Git repository (https://git.heroku.com/shop.git) to the repository Northflank builds from" in plan["todo"]
    # a push URL (per app, or in the default with {app}), another Heroku Git host, the branch preference
    settings = dict(SETTINGS, git_mirror=True, git_source_url="http://127.0.0.1:5000/git/{app}.git", git_source_branches=["trunk"],
                    repositories={"hello": {"url": "https://github.com/acme/hello", "branch": "prod", "push_url": "git@github.com:acme/hello.git"}},
                    repository_default=dict(SETTINGS["repository_default"], push_url="file:///srv/git/{app}.git"))
    hello = plan_unit("hello", "app", app_info("hello", [("web", 1, "basic")]), settings)[0]
    assert hello["git_mirrors"] == [{"app": "hello", "source_url": "http://127.0.0.1:5000/git/hello.git", "target_url": "git@github.com:acme/hello.git",
                                     "branch": "prod", "branches": ["trunk:prod"]}]
    assert not [t for t in hello["todo"] if "mirror" in t]
    assert hello["services"][0]["vcs"]["project_url"] == "https://github.com/acme/hello"  # Northflank still builds from url
    pipeline = plan_unit("api", "pipeline", pipeline_info(), settings)[0]
    assert [(g["app"], g["target_url"]) for g in pipeline["git_mirrors"]] == [
        ("api-staging", "file:///srv/git/api-staging.git"), ("api-prod", "file:///srv/git/api-prod.git")]  # not the review app


def test_the_record_shows_each_mirror_and_an_empty_repository_as_a_to_do():
    settings = dict(SETTINGS, git_mirror=True)
    plan = plan_unit("api", "pipeline", pipeline_info(), settings)[0]
    staging, prod = plan["git_mirrors"]
    results = {"git_mirrors": {"results": [
        {"changed": True, "status": "mirrored", "changed_refs": ["refs/heads/main"], "item": staging},
        {"changed": False, "status": "empty", "changed_refs": [], "item": dict(prod, target_url="https://x:tok3n@github.com/acme/api-prod")}]}}
    record = unit_record(plan, results, "migrate")
    assert [(r["kind"], r["name"], r["action"], r["changed_paths"]) for r in record["resources"]] == [
        ("git_mirrors", "api-staging", "mirrored", ["refs/heads/main"]), ("git_mirrors", "api-prod", "empty", [])]
    assert record["changed"] == 1
    assert record["todo"] == ["api-prod: the Heroku Git repository is empty (the app was not deployed with git push): push its source to "
                              "https://x:********@github.com/acme/api-prod, branch main, yourself"]
    again = {"git_mirrors": {"results": [{"changed": False, "status": "up_to_date", "item": staging},
                                         {"changed": True, "status": "would_mirror", "changed_refs": ["refs/heads/main"], "item": prod}]}}
    assert [r["action"] for r in unit_record(plan, again, "plan")["resources"]] == ["up to date", "would mirror"]


def test_verify_record_tells_verified_attention_and_drift_with_reasons():
    plan = plan_unit("hello", "app", app_info("hello", [("web", 1, "basic")]), SETTINGS)[0]
    converged = {"project": {"changed": False}, "services": {"results": [{"changed": False, "item": {"name": "hello"}}]}}
    record = unit_record(plan, converged, "verify")
    assert record["status"] == "planned" and record["mode"] == "verify"
    running = {"services": {"results": [{"item": {"name": "hello", "type": "combined"},
                                         "services": [{"status": {"build": {"status": "SUCCESS"}, "deployment": {"status": "COMPLETED"}}}]}]},
               "addons": {"results": [{"item": {"name": "hello-postgresql"}, "addon": {"status": "running"}}]},
               "domains": {"results": [{"item": {"domain": "hello.example"}, "domain": {"name": "hello.example", "status": "verified"},
                                        "subdomains": [{"name": "www", "fullName": "www.hello.example", "verified": True}]}]}}
    verified = verify_record(record, running)
    assert (verified["status"], verified["reasons"]) == ("verified", [])
    assert [(c["kind"], c["name"], c["state"], c["ok"]) for c in verified["runtime"]] == [
        ("services", "hello", "build SUCCESS", True), ("services", "hello", "deployment COMPLETED", True),
        ("addons", "hello-postgresql", "running", True), ("domains", "hello.example", "verified", True),
        ("domains", "www.hello.example", "verified", True)]
    waiting = {"services": {"results": [{"item": {"name": "hello", "type": "combined"}, "services": [{"status": {"deployment": {"status": "IN_PROGRESS"}}}]}]},
               "addons": {"results": [{"item": {"name": "hello-redis"}, "addon": {"status": "allocating"}}]},
               "domains": {"results": [{"item": {"domain": "hello.example"}, "domain": {"name": "hello.example", "status": "pending"}}]}}
    attention = verify_record(record, waiting)
    assert attention["status"] == "attention"
    assert attention["reasons"] == ["service hello has no build yet: push to its branch or start a build",
                                    "service hello: deployment is IN_PROGRESS, not COMPLETED",
                                    "addon hello-redis is allocating, not running", "domain hello.example is not verified: publish its TXT record"]
    scaled = {"services": {"results": [{"changed": True, "diff": {"before": {"instances": 3}}, "changed_paths": ["deployment.instances"],
                                        "item": {"name": "hello"}}]}}
    drift = verify_record(unit_record(plan, scaled, "verify"), waiting)
    assert drift["status"] == "drift" and drift["reasons"][0] == "services hello: would update (deployment.instances)"
    missing = verify_record(record, {"services": {"results": [{"item": {"name": "hello"}, "services": []}]}})
    assert missing["reasons"] == ["service hello does not exist"] and missing["status"] == "drift"
    unsupported = dict(record, status="unsupported")
    assert verify_record(unsupported, running) is unsupported

"""The service and job modules without a server: option -> request body mapping (checked against the
Northflank SDK contract), comparison with what the API returns, and the update strategy."""

from __future__ import annotations

import types

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_resource import differences, prune
from ansible_collections.herokumigrate.northflank.plugins.module_utils import northflank_workload as workload
from ansible_collections.herokumigrate.northflank.plugins.modules import northflank_job, northflank_service
from tests.contract import nf_contract

SECRET = "s3cr3t-value"


# -- helpers ------------------------------------------------------------------------------------
def test_port_names_follow_the_documented_rule():
    assert workload.check_ports([{"name": "web"}, {"name": "metrics1"}, {"name": "a-b"}]) is None
    assert "not valid" in workload.check_ports([{"name": "toolong-9"}])
    assert "not valid" in workload.check_ports([{"name": "1web"}])
    assert "not valid" in workload.check_ports([{"name": "we_b"}])
    assert "twice" in workload.check_ports([{"name": "web"}, {"name": "web"}])


def test_health_checks_need_what_their_protocol_uses():
    base = dict(type="readiness", protocol="HTTP", path="/health", port=8080, command=None)
    assert workload.check_health_checks([base]) is None
    assert "path and port" in workload.check_health_checks([dict(base, path=None)])
    assert "needs command" in workload.check_health_checks([dict(base, protocol="CMD")])
    assert "only one" in workload.check_health_checks([base, base])


def test_start_maps_process_and_command_to_the_image_kind():
    assert workload.start_body(None) == {}
    assert workload.start_body({}) == {"buildpack": {"configType": "default"}}
    assert workload.start_body({"process": "worker"}) == {"buildpack": {"configType": "customProcess",
                                                                        "customProcess": "worker"}}
    assert workload.start_body({"command": "rake x"}) == {"buildpack": {"configType": "customCommand",
                                                                        "customCommand": "rake x"}}
    assert workload.start_body({"command": "run"},
                               "docker") == {"docker": {"configType": "customCommand", "customCommand": "run"}}
    assert workload.start_body({"image": "docker"}) == {"docker": {"configType": "default"}}
    assert workload.check_start({"process": "worker", "image": "docker"}, "buildpack")
    assert workload.check_start({"process": "worker"}, "buildpack") is None


def test_string_map_turns_values_into_strings():
    assert workload.string_map({"A": 1, "B": None, "C": "x", "D": True}) == {"A": "1", "B": "", "C": "x", "D": "True"}
    assert workload.string_map(None) is None


def test_order_like_follows_the_desired_keys():
    current = [{"name": "b"}, {"name": "x"}, {"name": "a"}]
    assert workload.order_like(current, [{"name": "a"}, {"name": "b"}], "name") == [{"name": "a"}, {"name": "b"},
                                                                                    {"name": "x"}]
    assert workload.order_like(None, [{"name": "a"}], "name") is None


# -- modules without a server ---------------------------------------------------------------------
def params(module, **options):
    """Module parameters as AnsibleModule would validate them (defaults filled in)."""
    options.setdefault("api_token", "unit-test-token")
    result = ArgumentSpecValidator(module.argument_spec(), **module.MODULE_OPTIONS).validate(options)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def resource(module, cls, check_mode=False, **options):
    fake = types.SimpleNamespace(params=params(module, **options), check_mode=check_mode)

    def fail_json(**kwargs):
        raise AssertionError(kwargs["msg"])
    fake.fail_json = fail_json
    return cls(fake)


def variant(base, **changes):
    out = dict(base)
    out.update(changes)
    return out


def contract(method, path, body):
    route = nf_contract.check(method, path, body)
    nf_contract.check_docs_rules(route, body)


BUILD = dict(project="acme", name="acme-builder", type="build",
             vcs=dict(project_url="https://github.com/acme/web", account_login="acme"),
             buildpack=dict(builder="HEROKU_24", buildpacks=["heroku/nodejs", "heroku/procfile"], build_context="/"),
             build_rules=dict(branches=["main"], pull_requests=["*"]), build_plan="nf-compute-400-16",
             build_arguments={"NODE_ENV": "production", "TOKEN": SECRET})
WEB = dict(
    project="acme",
    name="acme-web",
    type="deployment",
    deploy_from=dict(build_service="acme-builder", branch="main"),
    start={},
    plan="nf-compute-20",
    instances=2,
    ports=[dict(name="web", internal_port=8080, public=True)],
    health_checks=[dict(type="readiness", path="/health", port=8080)],
    runtime_variables={"PORT": "8080", "TOKEN": SECRET},
)
COMBINED = dict(project="acme", name="acme-api", type="combined",
                vcs=dict(project_url="https://github.com/acme/api", branch="main"),
                dockerfile=dict(), start=dict(command="./serve"), plan="nf-compute-20", build_plan="nf-compute-400-16",
                ports=[dict(name="http", internal_port=3000, public=True, protocol="HTTP/2")],
                runtime_variables={"TOKEN": SECRET}, build_arguments={"TOKEN": SECRET})


@pytest.mark.parametrize("options", [BUILD, WEB, COMBINED], ids=["build", "deployment", "combined"])
def test_service_create_bodies_pass_the_sdk_contract(options):
    svc = resource(northflank_service, northflank_service.Service, **options)
    assert svc.validate() is None
    body = prune(svc.desired())
    contract("PUT", "/v1/projects/acme/services/%s" % options["type"], body)
    assert body["name"] == options["name"]


def test_service_bodies_carry_what_each_kind_takes():
    web = prune(resource(northflank_service, northflank_service.Service, **WEB).desired())
    assert web["deployment"] == {
        "instances": 2,
        "internal": {"id": "acme-builder", "branch": "main", "buildSHA": "latest"},
        "buildpack": {"configType": "default"},
    }
    assert web["ports"] == [{"name": "web", "internalPort": 8080, "public": True, "protocol": "HTTP"}]
    assert web["healthChecks"][0]["type"] == "readinessProbe"
    build = prune(resource(northflank_service, northflank_service.Service, **BUILD).desired())
    assert build["buildSettings"]["buildpack"]["buildpackLocators"] == ["heroku/nodejs", "heroku/procfile"]
    assert build["buildConfiguration"] == {"branchRestrictions": ["main"], "prRestrictions": ["*"]}
    assert "projectBranch" not in build["vcsData"]
    combined = prune(resource(northflank_service, northflank_service.Service, **COMBINED).desired())
    assert combined["deployment"]["docker"] == {"configType": "customCommand", "customCommand": "./serve"}
    assert combined["vcsData"]["projectBranch"] == "main"
    assert combined["buildSettings"] == {"dockerfile": {"dockerFilePath": "/Dockerfile", "dockerWorkDir": "/"}}


def test_build_service_gets_the_default_build_plan_on_create_only():
    options = dict(BUILD)
    del options["build_plan"]
    svc = resource(northflank_service, northflank_service.Service, **options)
    body = prune(svc.desired())
    assert body["billing"] == {"buildPlan": "nf-compute-400-16"}
    contract("PUT", "/v1/projects/acme/services/build", body)
    svc.exists = True
    assert "billing" not in prune(svc.desired())


def test_service_options_of_another_kind_are_refused_before_any_request():
    assert (
        "ports"
        in resource(northflank_service, northflank_service.Service, **variant(BUILD, ports=WEB["ports"])).validate()
    )
    assert "vcs.branch" in resource(northflank_service, northflank_service.Service,
                                    **variant(BUILD, vcs=dict(BUILD["vcs"], branch="main"))).validate()
    assert (
        "not valid"
        in resource(northflank_service, northflank_service.Service, **variant(WEB, name="a" * 55)).validate()
    )
    bad_port = variant(WEB, ports=[dict(name="too-long-1", internal_port=1)])
    assert "port name" in resource(northflank_service, northflank_service.Service, **bad_port).validate()


def test_service_instances_default_to_one_on_create_only():
    options = dict(WEB)
    del options["instances"]
    svc = resource(northflank_service, northflank_service.Service, **options)
    assert svc.desired()["deployment"]["instances"] == 1
    svc.exists = True
    assert svc.desired()["deployment"]["instances"] is None


def test_service_compares_what_the_api_returns_without_spurious_changes():
    svc = resource(northflank_service, northflank_service.Service, **WEB)
    body = prune(svc.desired())
    current = dict(
        body,
        id="acme-web",
        serviceType="deployment",
        status={},
        ports=[dict(body["ports"][0], id="p1", dns="x.code.run")],
    )
    current["healthChecks"] = [dict(body["healthChecks"][0])]
    assert differences(body, svc.view(current), exact=svc.exact_paths) == []
    rotated = dict(current, runtimeEnvironment={"PORT": "8080", "TOKEN": "old"})
    assert differences(body, svc.view(rotated), exact=svc.exact_paths) == ["runtimeEnvironment"]
    private = dict(current, ports=[{"name": "web", "internalPort": 8080, "protocol": "HTTP"}])
    assert differences(body, svc.view(private), exact=svc.exact_paths) == ["ports"]


def test_deployment_service_patch_keeps_instances_and_source():
    full = northflank_service.Service.full_deployment(
        {"buildpack": {"configType": "customProcess", "customProcess": "worker"}},
        {"instances": 3, "internal": {"id": "b", "branch": "main", "buildSHA": "latest"}, "imageUrl": "x"})
    assert full == {"buildpack": {"configType": "customProcess", "customProcess": "worker"}, "instances": 3,
                    "internal": {"id": "b", "branch": "main", "buildSHA": "latest"}}
    contract("PATCH", "/v1/projects/acme/services/deployment/acme-web", {"deployment": full})


CRON = dict(project="acme", name="acme-scheduler-1", deploy_from=dict(build_service="acme-builder", branch="main"),
            start=dict(command="rake cleanup"), plan="nf-compute-20", schedule="0 3 * * *", concurrency_policy="forbid",
            active_deadline_seconds=3600, runtime_variables={"TOKEN": SECRET})
MANUAL_GIT = dict(
    project="acme",
    name="acme-reports",
    vcs=dict(project_url="https://github.com/acme/reports", branch="main"),
    dockerfile=dict(),
    start=dict(command="python report.py"),
    plan="nf-compute-50",
    build_arguments={"TOKEN": SECRET},
)


@pytest.mark.parametrize("options", [CRON, MANUAL_GIT], ids=["cron", "manual-git"])
def test_job_bodies_pass_the_sdk_contract(options):
    job = resource(northflank_job, northflank_job.Job, **options)
    assert job.validate() is None
    body = job.request_body(prune(job.desired()))
    contract("PUT", "/v1/projects/acme/jobs", body)
    assert ("cron" in body["settings"]) == ("schedule" in options)


def test_job_comparison_with_get_job_response():
    job = resource(northflank_job, northflank_job.Job, **CRON)
    body = prune(job.desired())
    # What GET /jobs/{id} answers (GetJobResponse): no source, no variables, capitalised policy, suspended outside
    # settings.
    current = {"id": "acme-scheduler-1", "name": "acme-scheduler-1", "jobType": "cron", "tags": [], "suspended": False,
               "billing": {"deploymentPlan": "nf-compute-20"},
               "settings": {"backoffLimit": 0, "activeDeadlineSeconds": 3600,
                            "cron": {"schedule": "0 3 * * *", "concurrencyPolicy": "Forbid"}},
               "deployment": {"buildpack": {"configType": "customCommand", "customCommand": "rake cleanup"}}}
    assert differences(body, job.view(current), exact=job.exact_paths) == []
    moved = dict(current, settings=dict(current["settings"],
                                        cron={"schedule": "0 4 * * *", "concurrencyPolicy": "Forbid"}))
    assert differences(body, job.view(moved), exact=job.exact_paths) == ["settings.cron.schedule"]
    manual = dict(current, jobType="manual", settings={"backoffLimit": 0, "activeDeadlineSeconds": 3600})
    assert "jobType" in differences(body, job.view(manual), exact=job.exact_paths)
    always = resource(northflank_job, northflank_job.Job, update_hidden="always", **CRON)
    assert sorted(differences(body, always.view(current), exact=job.exact_paths)) == ["deployment.internal",
                                                                                      "runtimeEnvironment"]


def test_job_built_from_git_is_not_taken_for_a_build_service_job():
    job = resource(northflank_job, northflank_job.Job, **CRON)
    body = prune(job.desired())
    current = {"id": "acme-scheduler-1", "name": "acme-scheduler-1", "jobType": "cron", "tags": [],
               "billing": {"deploymentPlan": "nf-compute-20"},
               "settings": {"backoffLimit": 0, "activeDeadlineSeconds": 3600,
                            "cron": {"schedule": "0 3 * * *", "concurrencyPolicy": "Forbid"}},
               "deployment": {"buildpack": {"configType": "customCommand", "customCommand": "rake cleanup"}},
               "vcsData": {"projectUrl": "https://github.com/acme/x", "projectType": "github", "projectBranch": "main",
                           "dockerFilePath": "/Dockerfile", "dockerWorkDir": "/"}}
    assert differences(body, job.view(current), exact=job.exact_paths) == ["deployment.internal"]


class FakeClient(object):
    def __init__(self):
        self.sent = []

    def put(self, route, body, **params):
        self.sent.append(("PUT", route, body))
        return body

    def patch(self, route, body, **params):
        self.sent.append(("PATCH", route, body))
        return body


def test_job_update_patches_settings_and_puts_a_new_source():
    job = resource(northflank_job, northflank_job.Job, **CRON)
    job.client = FakeClient()
    body = prune(job.desired())
    job.update(body, ["settings.cron.schedule"], {"id": "acme-scheduler-1"})
    method, route, sent = job.client.sent[-1]
    assert (method, route) == ("PATCH", northflank_job.JOB) and list(sent) == ["settings"]
    contract("PATCH", "/v1/projects/acme/jobs/acme-scheduler-1", sent)
    job.update(body, ["deployment.buildpack.customCommand"], {"id": "acme-scheduler-1"})
    method, route, sent = job.client.sent[-1]
    assert (method, route) == ("PUT", northflank_job.JOBS) and "jobType" not in sent
    contract("PUT", "/v1/projects/acme/jobs", sent)


def test_job_options_are_checked_before_any_request():
    assert "not valid" in resource(northflank_job, northflank_job.Job, **variant(CRON, name="a" * 53)).validate()
    no_source = dict(CRON)
    del no_source["deploy_from"]
    assert "deploy_from" in resource(northflank_job, northflank_job.Job, **no_source).validate()
    manual = dict(CRON)
    del manual["schedule"]
    assert "concurrency_policy" in resource(northflank_job, northflank_job.Job, **manual).validate()
    assert "build_plan" in resource(northflank_job, northflank_job.Job,
                                    **variant(CRON, build_plan="nf-compute-400-16")).validate()

# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Northflank emulator refuses what Northflank documents it refuses, and answers reads as documented.

Every case of ``REJECTED`` is a request the SDK types let through but Northflank's API reference (or GET /v1/regions,
/v1/plans, /v1/addon-types) rules out: the emulator answers 400 naming the field or node, and records the request as a
contract violation, so that any test of the collection that sent it fails. ``ACCEPTED`` holds the documented forms next
to them, which must keep passing.
"""

from __future__ import annotations

import pytest

from tests.integration.northflank_emulator_api import (
    ADDON,
    BUILD_SERVICE,
    DEPLOYMENT_SERVICE,
    logged,
    pipeline_template,
    project,
)

P = "/v1/projects/acme-web"
FLOW = f"{P}/pipelines/acme-pipeline/release-flows/development"
JOB = {
    "name": "acme-web-job",
    "billing": {"deploymentPlan": "nf-compute-20"},
    "deployment": {"internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"}},
    "settings": {"backoffLimit": 0},
}
SECRET = {"name": "acme-web-env", "secretType": "environment", "priority": 10, "secrets": {"variables": {"A": "1"}}}
HTTP_PORT = {"name": "web", "internalPort": 8080, "public": True, "protocol": "HTTP"}
PROBE = {
    "protocol": "HTTP",
    "type": "readinessProbe",
    "path": "/health",
    "port": 8080,
    "initialDelaySeconds": 5,
    "periodSeconds": 10,
    "timeoutSeconds": 2,
    "failureThreshold": 3,
}


def release(target="acme-web-web", **spec) -> dict:
    return {
        "kind": "Release",
        "spec": {
            "type": "build",
            "origin": {"id": "acme-web-builder", "branch": "main", "build": "latest"},
            "target": {"id": target, "type": "service"},
            **spec,
        },
    }


def flow(*steps, **top) -> dict:
    return {
        "apiVersion": "v1.2",
        "spec": {"kind": "Workflow", "spec": {"type": "sequential", "steps": list(steps)}},
        **top,
    }


def world(api) -> None:
    """A project with a build service, a deployment service, a job, an addon, a verified domain and a pipeline."""
    project(api)
    api.data("PUT", f"{P}/services/build", BUILD_SERVICE)
    api.data("PUT", f"{P}/services/deployment", DEPLOYMENT_SERVICE)
    api.data("PUT", f"{P}/jobs", JOB)
    api.data("PUT", f"{P}/addons", ADDON)
    api.data("POST", "/v1/domains", {"domain": "acme.com"})
    api.data("POST", "/v1/domains/acme.com/verify")
    api.data(
        "POST",
        "/v1/templates",
        pipeline_template(
            "acme-pipeline",
            [
                {
                    "name": "Development",
                    "nfObjects": [{"id": "acme-web-web", "type": "service"}, {"id": "acme-web-job", "type": "job"}],
                }
            ],
        ),
    )


def service(**changes) -> dict:
    return {**DEPLOYMENT_SERVICE, **changes}


# (case, method, path, body, what the error message names)
REJECTED = [
    # release flows: the document, its node kinds, the fields each kind requires, the references it makes
    ("flow: apiVersion", "POST", FLOW, {**flow(release()), "apiVersion": "v1"}, "apiVersion='v1'"),
    ("flow: no spec", "POST", FLOW, {"apiVersion": "v1.2", "spec": {}}, "must be a Workflow node"),
    ("flow: unknown node kind", "POST", FLOW, flow({"kind": "Nope", "spec": {}}), "spec.spec.steps[0].kind='Nope'"),
    (
        "flow: root is not a Workflow",
        "POST",
        FLOW,
        {"apiVersion": "v1.2", "spec": release()},
        "must be a Workflow node",
    ),
    (
        "flow: Workflow without type",
        "POST",
        FLOW,
        {"apiVersion": "v1.2", "spec": {"kind": "Workflow", "spec": {"steps": []}}},
        "spec (Workflow).spec.type",
    ),
    ("flow: node without spec", "POST", FLOW, flow({"kind": "JobRun"}), "steps[0] (JobRun).spec is required"),
    ("flow: unknown node field", "POST", FLOW, flow({**release(), "when": "now"}), "unknown fields ['when']"),
    ("flow: Release type", "POST", FLOW, flow(release(type="image")), "steps[0] (Release).spec.type='image'"),
    (
        "flow: Release without target",
        "POST",
        FLOW,
        flow({"kind": "Release", "spec": {"type": "build", "origin": {"build": "latest"}}}),
        "steps[0] (Release).spec.target.id is required",
    ),
    (
        "flow: deployment origin without type",
        "POST",
        FLOW,
        flow(
            {
                "kind": "Release",
                "spec": {"type": "deployment", "origin": {"id": "acme-web-web"}, "target": {"id": "acme-web-web"}},
            }
        ),
        "spec.origin.type is required",
    ),
    (
        "flow: origin field of another release type",
        "POST",
        FLOW,
        flow(
            {
                "kind": "Release",
                "spec": {
                    "type": "registry",
                    "origin": {"imagePath": "nginx", "branch": "main"},
                    "target": {"id": "acme-web-web"},
                },
            }
        ),
        "fields ['branch']",
    ),
    (
        "flow: Release condition",
        "POST",
        FLOW,
        flow({**release(), "condition": "success"}),
        "(Release).condition='success'",
    ),
    ("flow: timeoutDuration bounds", "POST", FLOW, flow({**release(), "timeoutDuration": 10}), "timeoutDuration"),
    (
        "flow: JobRun without jobId",
        "POST",
        FLOW,
        flow({"kind": "JobRun", "spec": {}}),
        "steps[0] (JobRun).spec.jobId is required",
    ),
    (
        "flow: Build type",
        "POST",
        FLOW,
        flow({"kind": "Build", "spec": {"id": "acme-web-builder", "type": "addon"}}),
        "(Build).spec.type='addon'",
    ),
    (
        "flow: nested node",
        "POST",
        FLOW,
        flow({"kind": "Workflow", "spec": {"type": "parallel", "steps": [{"kind": "Deploy", "spec": {}}]}}),
        "spec.spec.steps[0].spec.steps[0].kind='Deploy'",
    ),
    (
        "flow: target that does not exist",
        "POST",
        FLOW,
        flow(release("acme-web-api")),
        "spec.target.id='acme-web-api' is no service",
    ),
    (
        "flow: target of the wrong type",
        "POST",
        FLOW,
        flow(release("acme-web-job")),
        "spec.target.id='acme-web-job' is no service",
    ),
    (
        "flow: build origin that does not build",
        "POST",
        FLOW,
        flow(
            {
                "kind": "Release",
                "spec": {
                    "type": "build",
                    "origin": {"id": "acme-web-web", "build": "latest"},
                    "target": {"id": "acme-web-web"},
                },
            }
        ),
        "is a deployment service, not one that builds",
    ),
    (
        "flow: JobRun of no job",
        "POST",
        FLOW,
        flow({"kind": "JobRun", "spec": {"jobId": "acme-web-nope"}}),
        "spec.jobId='acme-web-nope' is no job",
    ),
    (
        "flow: backup of no addon",
        "POST",
        FLOW,
        flow({"kind": "AddonBackup", "spec": {"addonId": "acme-web-cache"}}),
        "is no addon",
    ),
    # jobs
    (
        "job: deployment typo",
        "PUT",
        f"{P}/jobs",
        {**JOB, "deployment": {"interal": {"id": "acme-web-builder"}}},
        "deployment.interal",
    ),
    (
        "job: cron field out of range",
        "PUT",
        f"{P}/jobs",
        {**JOB, "settings": {"backoffLimit": 0, "cron": {"schedule": "61 * * * *"}}},
        "settings.cron.schedule='61 * * * *'",
    ),
    (
        "job: cron words",
        "PUT",
        f"{P}/jobs",
        {**JOB, "settings": {"backoffLimit": 0, "cron": {"schedule": "every day"}}},
        "has 2 fields",
    ),
    (
        "job: cron backwards range",
        "PATCH",
        f"{P}/jobs/acme-web-job",
        {"settings": {"backoffLimit": 0, "cron": {"schedule": "0 5-1 * * *"}}},
        "backwards range",
    ),
    # catalogue
    (
        "project: unknown region",
        "POST",
        "/v1/projects",
        {"name": "acme-eu", "region": "mars-east"},
        "region='mars-east'",
    ),
    (
        "project: initialise in an unknown region",
        "POST",
        f"{P}/initialize",
        {"region": "us-east-2"},
        "region='us-east-2'",
    ),
    (
        "service: unknown plan",
        "PUT",
        f"{P}/services/deployment",
        service(billing={"deploymentPlan": "nf-compute-30"}),
        "billing.deploymentPlan='nf-compute-30'",
    ),
    (
        "service: build plan under 4 vCPU",
        "PUT",
        f"{P}/services/build",
        {**BUILD_SERVICE, "billing": {"buildPlan": "nf-compute-200-8"}},
        "billing.buildPlan='nf-compute-200-8' has 2 vCPU",
    ),
    (
        "job: unknown plan",
        "PATCH",
        f"{P}/jobs/acme-web-job",
        {"billing": {"deploymentPlan": "nf-compute-5"}},
        "billing.deploymentPlan",
    ),
    ("addon: unknown type", "PUT", f"{P}/addons", {**ADDON, "type": "cassandra"}, "type='cassandra'"),
    ("addon: bare major", "PUT", f"{P}/addons", {**ADDON, "version": "16"}, "version='16'"),
    ("addon: major the type lacks", "PUT", f"{P}/addons", {**ADDON, "version": "9-latest"}, "version='9-latest'"),
    ("addon: version form", "PUT", f"{P}/addons", {**ADDON, "version": "v16"}, "version='v16' is not latest"),
    (
        "addon: too many replicas",
        "PUT",
        f"{P}/addons",
        {**ADDON, "billing": {**ADDON["billing"], "replicas": 9}},
        "billing.replicas=9",
    ),
    (
        "addon: no replica",
        "PUT",
        f"{P}/addons",
        {**ADDON, "billing": {**ADDON["billing"], "replicas": 0}},
        "billing.replicas=0",
    ),
    (
        "addon: redis storage",
        "POST",
        f"{P}/addons",
        {
            **ADDON,
            "name": "cache",
            "type": "redis",
            "version": "7-latest",
            "billing": {**ADDON["billing"], "storage": 2048},
        },
        "4096 MB",
    ),
    (
        "addon: patch beyond the replicas limit",
        "PATCH",
        f"{P}/addons/acme-web-db",
        {"billing": {"replicas": 6}},
        "billing.replicas=6",
    ),
    # secret groups
    ("secret: priority over 100", "PUT", f"{P}/secrets", {**SECRET, "priority": 101}, "priority=101"),
    ("secret: negative priority", "PATCH", f"{P}/secrets/acme-web-env", {"priority": -1}, "priority=-1"),
    # ports and probes
    (
        "port: number too high",
        "PUT",
        f"{P}/services/deployment",
        service(ports=[{**HTTP_PORT, "internalPort": 70000}]),
        "ports[0].internalPort=70000",
    ),
    (
        "port: number zero",
        "PATCH",
        f"{P}/services/deployment/acme-web-web",
        {"ports": [{**HTTP_PORT, "internalPort": 0}]},
        "ports[0].internalPort=0",
    ),
    (
        "port: name twice",
        "PUT",
        f"{P}/services/deployment",
        service(ports=[HTTP_PORT, {**HTTP_PORT, "internalPort": 9090}]),
        "ports[1].name='web' repeats",
    ),
    (
        "port: internal port twice",
        "PUT",
        f"{P}/services/deployment",
        service(ports=[HTTP_PORT, {**HTTP_PORT, "name": "admin"}]),
        "ports[1].internalPort=8080 repeats",
    ),
    (
        "port: public TCP",
        "PUT",
        f"{P}/services/deployment",
        service(ports=[{**HTTP_PORT, "protocol": "TCP"}]),
        "only HTTP and HTTP/2 ports can be public",
    ),
    (
        "probe: HTTP without path",
        "PUT",
        f"{P}/services/deployment",
        service(healthChecks=[{k: v for k, v in PROBE.items() if k != "path"}]),
        "healthChecks[0].path is missing",
    ),
    (
        "probe: port out of range",
        "PUT",
        f"{P}/jobs",
        {**JOB, "healthChecks": [{**PROBE, "port": 65536}]},
        "healthChecks[0].port=65536",
    ),
    # subdomains
    ("subdomain: upper case", "POST", "/v1/domains/acme.com/subdomains", {"subdomain": "WWW"}, "subdomain='WWW'"),
    ("subdomain: underscore", "PUT", "/v1/domains/acme.com/subdomains", {"name": "my_api"}, "name='my_api'"),
]


@pytest.mark.contract_violations_expected
@pytest.mark.parametrize("case,method,path,body,named", REJECTED, ids=[c[0] for c in REJECTED])
def test_what_northflank_refuses_is_a_400_naming_the_field_and_logged(api, northflank, case, method, path, body, named):
    world(api)
    state = northflank.state()
    resp = api.call(method, path, body)
    assert resp.status_code == 400, resp.text
    assert named in resp.json()["error"]["message"]
    assert named in logged(northflank)[-1]["contract_error"]
    assert northflank.state() == state  # nothing was stored


# (case, method, path, body): the documented forms next to the refused ones
ACCEPTED = [
    (
        "flow: the docs' build deployment example",
        "POST",
        FLOW,
        {
            **flow(
                release(),
                {"kind": "Release", "spec": {**release()["spec"], "target": {"id": "acme-web-job", "type": "job"}}},
            ),
            "triggers": [],
        },
    ),
    (
        "flow: the docs' migration example",
        "POST",
        FLOW,
        flow(
            {
                "kind": "AddonBackup",
                "spec": {"addonId": "acme-web-db", "backupType": "snapshot"},
                "condition": "success",
            },
            {
                "kind": "Release",
                "spec": {
                    "type": "deployment",
                    "origin": {"id": "acme-web-job", "type": "job"},
                    "target": {"id": "acme-web-job", "type": "job"},
                },
                "condition": "running",
            },
            {"kind": "JobRun", "spec": {"jobId": "acme-web-job"}, "condition": "success"},
            triggers=[],
        ),
    ),
    (
        "flow: references resolve at run time",
        "POST",
        FLOW,
        flow(
            {
                "kind": "Build",
                "ref": "start-build",
                "spec": {"id": "acme-web-builder", "type": "service", "branch": "${args.BRANCH}"},
                "condition": "success",
            },
            {
                "kind": "Release",
                "spec": {
                    "type": "build",
                    "origin": {"branch": "${refs.start-build.branch}", "build": "${refs.start-build.id}"},
                    "target": {"id": "${args.TARGET}", "type": "service"},
                },
                "timeoutDuration": "${args.TIMEOUT}",
            },
        ),
    ),
    ("flow: an empty flow", "POST", FLOW, flow()),
    (
        "job: cron with ranges, steps and names",
        "PUT",
        f"{P}/jobs",
        {
            **JOB,
            "settings": {
                "backoffLimit": 0,
                "cron": {"schedule": "*/15 1-5,22 * JAN-MAR MON-FRI", "concurrencyPolicy": "forbid"},
            },
        },
    ),
    (
        "job: cron macro",
        "PATCH",
        f"{P}/jobs/acme-web-job",
        {"settings": {"backoffLimit": 0, "cron": {"schedule": "@daily"}}},
    ),
    ("job: no deployment source", "PUT", f"{P}/jobs", {**JOB, "deployment": {"buildpack": {"configType": "default"}}}),
    ("addon: major-latest", "PUT", f"{P}/addons", {**ADDON, "version": "16-latest"}),
    ("addon: major.minor-latest", "PUT", f"{P}/addons", {**ADDON, "version": "16.8-latest"}),
    ("addon: exact version", "PUT", f"{P}/addons", {**ADDON, "version": "16.8.0"}),
    (
        "addon: latest, 5 replicas",
        "PUT",
        f"{P}/addons",
        {**ADDON, "version": "latest", "billing": {**ADDON["billing"], "replicas": 5}},
    ),
    ("secret: priority bounds", "PUT", f"{P}/secrets", {**SECRET, "priority": 100}),
    (
        "port: public HTTP/2 and a private TCP",
        "PUT",
        f"{P}/services/deployment",
        service(ports=[{**HTTP_PORT, "protocol": "HTTP/2"}, {"name": "db", "internalPort": 5432, "protocol": "TCP"}]),
    ),
    (
        "probe: HTTP with a path, TCP without",
        "PUT",
        f"{P}/services/deployment",
        service(
            healthChecks=[
                PROBE,
                {**{k: v for k, v in PROBE.items() if k != "path"}, "protocol": "TCP", "type": "livenessProbe"},
            ]
        ),
    ),
    (
        "build plan of 4 vCPU",
        "PUT",
        f"{P}/services/build",
        {**BUILD_SERVICE, "billing": {"buildPlan": "nf-compute-400"}},
    ),
    ("subdomain: apex, wildcard, nested", "POST", "/v1/domains/acme.com/subdomains", {"subdomain": "api.eu-1"}),
    ("subdomain: apex", "PUT", "/v1/domains/acme.com/subdomains", {"name": "@"}),
]


@pytest.mark.parametrize("case,method,path,body", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_the_documented_forms_pass(api, case, method, path, body):
    world(api)
    resp = api.call(method, path, body)
    assert resp.status_code == 200, resp.text


@pytest.mark.contract_violations_expected
def test_a_flow_that_was_refused_leaves_the_stage_readable(api, northflank):
    """The defect this guards: a ``{"kind": "Nope"}`` node was stored, and the flow's GET then answered 500."""
    world(api)
    api.data("POST", FLOW, flow(release()))
    assert api.call("POST", FLOW, flow({"kind": "Nope", "spec": {}})).status_code == 400
    assert api.data("GET", FLOW)["spec"] == flow(release())["spec"]
    assert [e["path"] for e in logged(northflank) if e.get("contract_error")] == [FLOW]


@pytest.mark.contract_violations_expected
def test_a_pipeline_node_with_an_unknown_member_type_fails_its_node_with_a_400(api, northflank):
    """It used to drop the connection (a KeyError in the emulator)."""
    world(api)
    template = pipeline_template(
        "odd-pipeline", [{"name": "Staging", "nfObjects": [{"id": "acme-web-web", "type": "volume"}]}]
    )
    data = api.data("POST", "/v1/templates", template)
    node = data["templateRun"]["spec"]["spec"]["steps"][0]
    assert data["templateRun"]["status"] == "running" and node["response"]["status"] == "failure"
    assert (
        node["response"]["error"]["code"] == 400
        and "stages[0].nfObjects[0].type='volume'" in node["response"]["error"]["message"]
    )
    assert "nfObjects[0].type" in logged(northflank)[-1]["contract_error"]


@pytest.mark.contract_violations_expected
def test_a_pipeline_node_release_flow_is_validated_as_the_rest_one_is(api, northflank):
    world(api)
    template = pipeline_template(
        "acme-pipeline",
        [
            {
                "name": "Development",
                "nfObjects": [{"id": "acme-web-web", "type": "service"}],
                "releaseFlow": {"kind": "ReleaseFlow", "spec": flow(release("acme-web-api"))},
            }
        ],
    )
    node = api.data("POST", "/v1/templates", {**template, "name": "acme-pipeline-2"})["templateRun"]["spec"]["spec"][
        "steps"
    ][0]
    assert (
        node["response"]["status"] == "failure"
        and "target.id='acme-web-api' is no service" in node["response"]["error"]["message"]
    )
    assert api.call("GET", FLOW).status_code == 404  # nothing was stored


def test_secret_group_reads_follow_show(api):
    """get-secret: ``this`` the group's own secrets, ``inherited`` only the linked addons', ``all`` or nothing both."""
    world(api)
    api.data(
        "PUT",
        f"{P}/secrets",
        {
            **SECRET,
            "addonDependencies": [
                {
                    "addonId": "acme-web-db",
                    "keys": [{"keyName": "POSTGRES_URI", "aliases": ["DATABASE_URL"]}, {"keyName": "HOST"}],
                }
            ],
        },
    )
    group = f"{P}/secrets/acme-web-env"
    linked = {
        "DATABASE_URL",
        "NF_ACME-WEB-DB_HOST",
    }  # no alias: NF_<ADDON ID>_<KEY>, hyphens kept, as the docs' defaultKey
    assert set(api.data("GET", group)["secrets"]["variables"]) == {"A"} | linked
    assert set(api.data("GET", f"{group}?show=all")["secrets"]["variables"]) == {"A"} | linked
    assert set(api.data("GET", f"{group}?show=inherited")["secrets"]["variables"]) == linked
    assert api.data("GET", f"{group}?show=this")["secrets"]["variables"] == {"A": "1"}
    assert api.data("GET", f"{group}/details")["secrets"]["variables"] == {"A": "1"}


def test_addon_credentials_have_the_documented_shape(api):
    """get-addon-credentials' example: ``secrets`` holds ``username`` and ``password``; ``envs`` the connection
    details."""
    world(api)
    credentials = api.data("GET", f"{P}/addons/acme-web-db/credentials")
    assert set(credentials["secrets"]) == {"username", "password"}
    assert (
        credentials["envs"]["POSTGRES_URI"].startswith("postgresql://")
        and credentials["envs"]["PASSWORD"] == credentials["secrets"]["password"]
    )


def test_the_catalogue_lists_what_the_checks_enforce(api):
    world(api)
    regions = {r["id"] for r in api.data("GET", "/v1/regions")["regions"]}
    assert "europe-west" in regions and "mars-east" not in regions
    plans = {p["id"]: p["cpuResource"] for p in api.data("GET", "/v1/plans")["plans"]}
    assert plans["nf-compute-400-16"] == 4 and plans["nf-compute-200-8"] == 2
    postgres = next(t for t in api.data("GET", "/v1/addon-types")["addonTypes"] if t["type"] == "postgresql")
    assert postgres["resources"]["replicas"] == {"min": 1, "max": 5} and "16.8.0" in postgres["versions"]

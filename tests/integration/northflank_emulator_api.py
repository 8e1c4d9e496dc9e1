# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Northflank emulator's tests share: a client, the ``api`` fixture, the documented example requests,
bodies."""

from __future__ import annotations

import requests

from tests.helpers import EmulatorProcess

# The API reference's example requests (all pass nf_contract.check): (method, path[, body]), in the document's order.
EXAMPLES = [
    (
        "POST",
        "/v1/projects",
        {"name": "acme-web", "description": "Migrated from Heroku app acme-web", "region": "europe-west"},
    ),
    (
        "POST",
        "/v1/projects/acme-web/services/build",
        {
            "name": "acme-web-builder",
            "billing": {"buildPlan": "nf-compute-400-16"},
            "vcsData": {"projectUrl": "https://github.com/acme/web", "projectType": "github", "accountLogin": "acme"},
            "buildSettings": {
                "buildpack": {"builder": "HEROKU_24", "buildContext": "/", "buildpackLocators": ["heroku/nodejs"]}
            },
            "buildConfiguration": {"branchRestrictions": ["main", "release/*"], "prRestrictions": ["*"]},
            "buildArguments": {"NODE_ENV": "production"},
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/services/deployment",
        {
            "name": "acme-web-web",
            "billing": {"deploymentPlan": "nf-compute-20"},
            "deployment": {
                "instances": 2,
                "internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"},
                "buildpack": {"configType": "default"},
            },
            "ports": [{"name": "web", "internalPort": 8080, "public": True, "protocol": "HTTP"}],
            "runtimeEnvironment": {"PORT": "8080"},
            "healthChecks": [
                {
                    "protocol": "HTTP",
                    "type": "readinessProbe",
                    "path": "/health",
                    "port": 8080,
                    "initialDelaySeconds": 10,
                    "periodSeconds": 30,
                    "timeoutSeconds": 5,
                    "failureThreshold": 3,
                    "successThreshold": 1,
                }
            ],
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/services/deployment",
        {
            "name": "acme-web-worker",
            "billing": {"deploymentPlan": "nf-compute-20"},
            "deployment": {
                "instances": 1,
                "internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"},
                "buildpack": {"configType": "customProcess", "customProcess": "worker"},
            },
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/services/combined",
        {
            "name": "acme-web",
            "billing": {"deploymentPlan": "nf-compute-20", "buildPlan": "nf-compute-400-16"},
            "deployment": {"instances": 1},
            "vcsData": {"projectUrl": "https://github.com/acme/web", "projectType": "github", "projectBranch": "main"},
            "buildSettings": {"buildpack": {"builder": "HEROKU_24"}},
            "ports": [
                {"name": "web", "internalPort": 8080, "public": True, "protocol": "HTTP", "domains": ["www.acme.com"]}
            ],
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/addons",
        {
            "name": "acme-web-db",
            "type": "postgresql",
            "version": "16-latest",
            "billing": {"deploymentPlan": "nf-compute-50", "storage": 10240, "replicas": 1},
            "tlsEnabled": True,
            "backupSchedules": [
                {
                    "scheduling": {"interval": "daily", "minute": [0], "hour": [3]},
                    "backupType": "dump",
                    "retentionTime": 7,
                }
            ],
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/addons/acme-web-db/import",
        {"name": "heroku-import-1", "connectionString": "postgresql://u:p@host:5432/db", "importAllDatabases": False},
    ),
    ("POST", "/v1/projects/acme-web/addons/acme-web-db/backups/bk1/restore"),
    (
        "POST",
        "/v1/projects/acme-web/secrets",
        {
            "name": "acme-web-env",
            "secretType": "environment",
            "priority": 10,
            "secrets": {"variables": {"SECRET_KEY_BASE": "x"}},
            "addonDependencies": [
                {"addonId": "acme-web-db", "keys": [{"keyName": "POSTGRES_URI", "aliases": ["DATABASE_URL"]}]}
            ],
            "restrictions": {
                "restricted": True,
                "nfObjects": [{"id": "acme-web-web", "type": "service"}, {"id": "acme-web-worker", "type": "service"}],
            },
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/jobs",
        {
            "name": "acme-web-scheduler-1",
            "billing": {"deploymentPlan": "nf-compute-20"},
            "deployment": {
                "internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"},
                "buildpack": {"configType": "customCommand", "customCommand": "rake cleanup"},
            },
            "settings": {
                "backoffLimit": 0,
                "activeDeadlineSeconds": 3600,
                "runOnSourceChange": "never",
                "cron": {"schedule": "0 3 * * *", "concurrencyPolicy": "forbid", "suspended": False},
            },
        },
    ),
    (
        "POST",
        "/v1/projects/acme-web/jobs",
        {
            "name": "acme-web-release",
            "billing": {"deploymentPlan": "nf-compute-20"},
            "deployment": {"internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"}},
            "settings": {"backoffLimit": 0},
        },
    ),
    ("POST", "/v1/projects/acme-web/jobs/acme-web-release/runs", {}),
    ("POST", "/v1/domains", {"domain": "acme.com"}),
    ("POST", "/v1/domains/acme.com/verify"),
    ("POST", "/v1/domains/acme.com/subdomains", {"subdomain": "www"}),
    ("POST", "/v1/domains/acme.com/subdomains/www/verify"),
    (
        "POST",
        "/v1/domains/acme.com/subdomains/www/assign",
        {"projectId": "acme-web", "serviceId": "acme-web-web", "portName": "web"},
    ),
    (
        "POST",
        "/v1/projects/acme-web/volumes",
        {
            "name": "acme-web-data",
            "mounts": [{"containerMountPath": "/data"}],
            "spec": {"accessMode": "ReadWriteOnce", "storageSize": 5120},
            "attachedObjects": [{"id": "acme-web-web", "type": "service"}],
        },
    ),
    (
        "PATCH",
        "/v1/projects/acme-web/services/deployment/acme-web-web",
        {"deployment": {"instances": 3}, "billing": {"deploymentPlan": "nf-compute-50"}},
    ),
    (
        "POST",
        "/v1/projects/acme-web/pipelines/acme-pipeline/release-flows/development",
        {
            "apiVersion": "v1.2",
            "spec": {
                "kind": "Workflow",
                "spec": {
                    "type": "sequential",
                    "steps": [
                        {
                            "kind": "Release",
                            "spec": {
                                "type": "build",
                                "origin": {"id": "acme-web-builder", "branch": "main", "build": "latest"},
                                "target": {"id": "acme-web-web", "type": "service"},
                            },
                        }
                    ],
                },
            },
        },
    ),
    ("POST", "/v1/projects/acme-web/pipelines/acme-pipeline/release-flows/staging/runs", {"name": "promote-1"}),
    ("GET", "/v1/projects/acme-web/services?per_page=100&cursor=abc"),
]


class Api:
    """requests against the emulator with its token; ``call`` returns the response, ``data`` the unwrapped 2xx data."""

    def __init__(self, server: EmulatorProcess, token: str | None = None):
        self.url, self.token = server.url, server.token if token is None else token

    def call(self, method: str, path: str, body=None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return requests.request(
            method, self.url + path, json=body, headers=headers, timeout=kwargs.pop("timeout", 10), **kwargs
        )

    def data(self, method: str, path: str, body=None):
        resp = self.call(method, path, body)
        assert resp.status_code == 200, f"{method} {path} -> {resp.status_code} {resp.text}"
        return resp.json()["data"]

    def example(self, example: tuple, **substitutions) -> requests.Response:
        """Send one ``EXAMPLES`` entry; ``substitutions`` replace placeholders in its path."""
        method, path, *body = example
        for old, new in substitutions.items():
            path = path.replace(old, new)
        return self.call(method, path, body[0] if body else None)

    def poll(self, path: str, field: str, until: str, reads: int = 10) -> list:
        """The statuses seen by GET ``path`` until ``field`` equals ``until`` (each read moves one step)."""
        seen = []
        for _read in range(reads):
            seen.append(self.data("GET", path)[field])
            if seen[-1] == until:
                return seen
        raise AssertionError(f"{path}: {field} never became {until}: {seen}")


def logged(server: EmulatorProcess) -> list:
    return server.requests()["requests"]


def project(api: Api, name: str = "acme-web") -> None:
    api.data("POST", "/v1/projects", {"name": name, "region": "europe-west"})


BUILD_SERVICE = {
    "name": "acme-web-builder",
    "billing": {"buildPlan": "nf-compute-400-16"},
    "vcsData": {"projectUrl": "https://github.com/acme/web", "projectType": "github"},
    "buildSettings": {"buildpack": {"builder": "HEROKU_24"}},
}
DEPLOYMENT_SERVICE = {
    "name": "acme-web-web",
    "billing": {"deploymentPlan": "nf-compute-20"},
    "deployment": {"instances": 1, "internal": {"id": "acme-web-builder", "branch": "main", "buildSHA": "latest"}},
    "ports": [{"name": "web", "internalPort": 8080, "public": True, "protocol": "HTTP"}],
}
ADDON = {
    "name": "acme-web-db",
    "type": "postgresql",
    "version": "16-latest",
    "billing": {"deploymentPlan": "nf-compute-50", "storage": 10240, "replicas": 1},
}


def pipeline_template(name: str, stages: list) -> dict:
    """A template holding one Pipeline node (docs/assumptions.md), as the collection writes it."""
    node = {
        "kind": "Pipeline",
        "ref": "pipeline",
        "spec": {"name": "acme-pipeline", "projectId": "acme-web", "stages": stages},
    }
    return {
        "name": name,
        "apiVersion": "v1.2",
        "options": {"autorun": False, "runOnCreation": True},
        "spec": {
            "kind": "Workflow",
            "spec": {"type": "sequential", "context": {"projectId": "acme-web"}, "steps": [node]},
        },
    }

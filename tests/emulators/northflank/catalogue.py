# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalogue (plans, regions, addon types, VCS links) and the token's own description (``GET /v1/auth``)."""

from __future__ import annotations

from typing import Any, NamedTuple

from tests.contract import nf_contract
from tests.emulators._server import Request, Response
from tests.emulators.northflank.core import uid_of

# (plan ID, vCPU, RAM MB) as Northflank lists them (GET /v1/plans); prices are placeholders.
_PLANS = [
    ("nf-compute-10", 0.1, 256),
    ("nf-compute-20", 0.2, 512),
    ("nf-compute-50", 0.5, 1024),
    ("nf-compute-100-1", 1, 1024),
    ("nf-compute-100-2", 1, 2048),
    ("nf-compute-100-4", 1, 4096),
    ("nf-compute-200", 2, 4096),
    ("nf-compute-200-4", 2, 4096),
    ("nf-compute-200-8", 2, 8192),
    ("nf-compute-200-16", 2, 16384),
    ("nf-compute-400", 4, 8192),
    ("nf-compute-400-16", 4, 16384),
    ("nf-compute-800-8", 8, 8192),
    ("nf-compute-800-16", 8, 16384),
    ("nf-compute-800-24", 8, 24576),
    ("nf-compute-800-32", 8, 32768),
    ("nf-compute-800-40", 8, 40960),
    ("nf-compute-1200-24", 12, 24576),
    ("nf-compute-1600-32", 16, 32768),
    ("nf-compute-2000-40", 20, 40960),
]
PLANS = [
    {
        "id": pid,
        "name": pid,
        "cpuResource": float(cpu),
        "ramResource": float(ram),
        "amountPerHour": round(hourly, 4),
        "amountPerMonth": round(hourly * 720, 2),
        "currency": "USD",
    }
    for pid, cpu, ram in _PLANS
    for hourly in [cpu * 0.0167 + ram / 1024 * 0.0083]
]
REGIONS = [
    "europe-west",
    "europe-west-frankfurt",
    "europe-west-netherlands",
    "europe-west-zurich",
    "us-central",
    "us-east1",
    "us-east-ohio",
    "us-west",
    "us-west-california",
    "canada-central",
    "southamerica-east",
    "asia-east",
    "asia-northeast",
    "asia-southeast",
    "australia-southeast",
    "africa-south",
]


class AddonType(NamedTuple):
    name: str
    versions: list  # newest first; "latest" and "<major>-latest" are accepted too
    keys: list  # the connection keys a secret group can link (GET …/secrets/{id}/addons/{addonId}: availableKeys)
    min_storage: int  # MB; only Redis' 4096 is documented
    port: int
    scheme: str
    replicas: tuple = (
        1,
        5,
    )  # (min, max) as GET /v1/addon-types answers them; Northflank's own values are not documented


PLAN_CPU = {pid: cpu for pid, cpu, _ram in _PLANS}
BUILD_PLAN_MIN_CPU = 4
_P = "/v1/projects/{projectId}"
_BILLED = frozenset(
    [
        *((m, f"{_P}/services/{k}") for k in ("combined", "deployment", "build") for m in ("POST", "PUT")),
        *(("PATCH", f"{_P}/services/{k}/{{serviceId}}") for k in ("combined", "deployment", "build")),
        ("POST", f"{_P}/jobs"),
        ("PUT", f"{_P}/jobs"),
        ("PATCH", f"{_P}/jobs/{{jobId}}"),
        ("POST", f"{_P}/addons"),
        ("PUT", f"{_P}/addons"),
        ("PATCH", f"{_P}/addons/{{addonId}}"),
    ]
)


def addon_versions(kind: "AddonType") -> set:
    """The versions create-addon accepts for a type: ``latest``, each major and major.minor with ``-latest``
    (``14-latest``, ``14.5-latest``), and each exact version."""
    return {
        "latest",
        *kind.versions,
        *(f"{v.split('.')[0]}-latest" for v in kind.versions),
        *(f"{'.'.join(v.split('.')[:2])}-latest" for v in kind.versions),
    }


def check_catalogue(method: str, template: str, body: Any) -> None:
    """Regions, plans and addon types, versions and bounds as GET /v1/regions, /v1/plans and /v1/addon-types list them.
    Raises AssertionError naming the field, as the contract checks do."""
    if not isinstance(body, dict):
        return
    where = f"{method} {template}"
    if (method, template) in (("POST", "/v1/projects"), ("PUT", "/v1/projects"), ("POST", f"{_P}/initialize")):
        region = body.get("region")
        if region is not None and region not in REGIONS:
            raise AssertionError(
                f"{where}: region={region!r} is not a region of GET /v1/regions ({', '.join(REGIONS)})"
            )
    if (method, template) in _BILLED and isinstance(body.get("billing"), dict):
        for field in ("deploymentPlan", "buildPlan"):
            plan = body["billing"].get(field)
            if plan is None:
                continue
            if plan not in PLAN_CPU:
                raise AssertionError(f"{where}: billing.{field}={plan!r} is not a plan of GET /v1/plans")
            if field == "buildPlan" and PLAN_CPU[plan] < BUILD_PLAN_MIN_CPU:
                raise AssertionError(
                    f"{where}: billing.buildPlan={plan!r} has {PLAN_CPU[plan]:g} vCPU; build plans need "
                    f"{BUILD_PLAN_MIN_CPU} or more (nf-compute-400-16 is the default)"
                )
    if (method, template) in (("POST", f"{_P}/addons"), ("PUT", f"{_P}/addons")) and "type" in body:
        kind = ADDON_TYPES.get(body["type"])
        if kind is None:
            raise AssertionError(
                f"{where}: type={body['type']!r} is not an addon type of GET /v1/addon-types ({', '.join(ADDON_TYPES)})"
            )
        valid = addon_versions(kind)
        if body.get("version") not in valid:
            raise AssertionError(
                f"{where}: version={body.get('version')!r} is not a {body['type']} version; use one of {sorted(valid)}"
            )
        check_addon_bounds(where, kind, body.get("billing"))


def check_addon_bounds(where: str, kind: "AddonType", billing: Any) -> None:
    if not isinstance(billing, dict):
        return
    if isinstance(billing.get("storage"), int) and billing["storage"] < kind.min_storage:
        raise AssertionError(
            f"{where}: billing.storage={billing['storage']} is below the {kind.min_storage} MB "
            f"a {kind.name} addon needs"
        )
    lo, hi = kind.replicas
    if isinstance(billing.get("replicas"), int) and not lo <= billing["replicas"] <= hi:
        raise AssertionError(
            f"{where}: billing.replicas={billing['replicas']} is outside {lo}-{hi}, "
            f"the {kind.name} limits of GET /v1/addon-types"
        )


ADDON_TYPES = {
    "postgresql": AddonType(
        "PostgreSQL",
        ["17.4.0", "16.8.0", "15.12.0", "14.17.0"],
        ["HOST", "PORT", "DATABASE", "USERNAME", "PASSWORD", "POSTGRES_URI", "JDBC_POSTGRES_URI"],
        1024,
        5432,
        "postgresql",
    ),
    "mysql": AddonType(
        "MySQL",
        ["8.4.4", "8.0.41"],
        ["HOST", "PORT", "DATABASE", "USERNAME", "PASSWORD", "MYSQL_CONNECTOR_URI"],
        1024,
        3306,
        "mysql",
    ),
    "mongodb": AddonType(
        "MongoDB",
        ["8.0.5", "7.0.16", "6.0.20"],
        ["HOST", "PORT", "DATABASE", "USERNAME", "PASSWORD", "MONGO_SRV"],
        1024,
        27017,
        "mongodb+srv",
    ),
    "redis": AddonType(
        "Redis",
        ["7.4.2", "7.2.7", "6.2.17"],
        ["HOST", "PORT", "USERNAME", "PASSWORD", "REDIS_MASTER_URL"],
        4096,
        6379,
        "rediss",
    ),
    "minio": AddonType("MinIO", ["2025.4.22"], ["MINIO_ENDPOINT", "ACCESS_KEY", "SECRET_KEY"], 1024, 443, "https"),
    "rabbitmq": AddonType(
        "RabbitMQ", ["4.0.7", "3.13.7"], ["HOST", "PORT", "USERNAME", "PASSWORD", "AMQP_URI"], 1024, 5671, "amqps"
    ),
}
VCS_LINKS = [{"login": "demo", "name": "Demo GitHub account", "vcsLinkId": "demo-github", "vcsService": "github"}]


class Catalogue:
    """A mixin of ``NorthflankEmulator``."""

    def routes(self) -> list:
        """(method, SDK path template, handler) of the routes this family serves."""
        return [
            ("GET", "/v1/auth", self.get_auth),
            ("GET", "/v1/plans", lambda req: self.ok({"plans": PLANS})),
            ("GET", "/v1/regions", self.list_regions),
            ("GET", "/v1/addon-types", self.list_addon_types),
            ("GET", "/v1/integrations/vcs", lambda req: self.ok({"vcsAccountLinks": VCS_LINKS})),
        ]

    def validate_catalogue(self, route: nf_contract.Route, body: Any) -> None:
        check_catalogue(route.method, route.plain_template, body)

    def get_auth(self, req: Request) -> Response:
        scopes: dict = {"teamScope": set(), "projectScope": set()}
        for method, template in self.served:
            permission = nf_contract.find(method, template).endpoint.required_permissions
            if permission:
                scopes["projectScope" if permission.startswith("Project") else "teamScope"].add(permission)
        return self.ok(
            {
                "id": "emulator-token",
                "name": "emulator",
                "entityType": "team",
                "entityId": "demo-team",
                "entityUid": uid_of("team", "demo-team"),
                "tokenKind": "api",
                "createdAt": "2026-01-01T00:00:00.000Z",
                "permissions": {k: sorted(v) for k, v in scopes.items()},
                "projectRestrictions": {"enabled": False, "projects": [], "restrictionMode": "in"},
            }
        )

    def list_regions(self, req: Request) -> Response:
        return self.ok(
            {
                "regions": [
                    {"id": r, "name": r.replace("-", " ").title(), "regionName": r, "gpuDevices": []} for r in REGIONS
                ]
            }
        )

    def list_addon_types(self, req: Request) -> Response:
        features = dict.fromkeys(
            (
                "importDump",
                "importLive",
                "backupsDump",
                "tls",
                "externalAccess",
                "customDBName",
                "forkAddon",
                "scaleReplicas",
            ),
            True,
        )
        return self.ok(
            {
                "addonTypes": [
                    {
                        "type": t,
                        "name": a.name,
                        "description": f"Managed {a.name}",
                        "versions": a.versions,
                        "major": sorted({v.split(".")[0] for v in a.versions}, reverse=True),
                        "features": features,
                        "resources": {
                            "storage": {"min": a.min_storage},
                            "replicas": {"min": a.replicas[0], "max": a.replicas[1]},
                        },
                    }
                    for t, a in ADDON_TYPES.items()
                ]
            }
        )

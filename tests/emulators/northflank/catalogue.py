# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalogue (plans, regions, addon types, VCS links) and the token's own description (``GET /v1/auth``)."""

from __future__ import annotations

from typing import NamedTuple

from tests.contract import nf_contract
from tests.emulators._server import Request, Response
from tests.emulators.northflank.core import uid_of

# (plan ID, vCPU, RAM MB) as Northflank lists them (GET /v1/plans); prices are placeholders.
_PLANS = [("nf-compute-10", 0.1, 256), ("nf-compute-20", 0.2, 512), ("nf-compute-50", 0.5, 1024), ("nf-compute-100-1", 1, 1024),
          ("nf-compute-100-2", 1, 2048), ("nf-compute-100-4", 1, 4096), ("nf-compute-200", 2, 4096), ("nf-compute-200-4", 2, 4096),
          ("nf-compute-200-8", 2, 8192), ("nf-compute-200-16", 2, 16384), ("nf-compute-400", 4, 8192), ("nf-compute-400-16", 4, 16384),
          ("nf-compute-800-8", 8, 8192), ("nf-compute-800-16", 8, 16384), ("nf-compute-800-24", 8, 24576), ("nf-compute-800-32", 8, 32768),
          ("nf-compute-800-40", 8, 40960), ("nf-compute-1200-24", 12, 24576), ("nf-compute-1600-32", 16, 32768),
          ("nf-compute-2000-40", 20, 40960)]
PLANS = [{"id": pid, "name": pid, "cpuResource": float(cpu), "ramResource": float(ram), "amountPerHour": round(hourly, 4),
          "amountPerMonth": round(hourly * 720, 2), "currency": "USD"}
         for pid, cpu, ram in _PLANS for hourly in [cpu * 0.0167 + ram / 1024 * 0.0083]]
REGIONS = ["europe-west", "europe-west-frankfurt", "europe-west-netherlands", "europe-west-zurich", "us-central", "us-east1", "us-east-ohio",
           "us-west", "us-west-california", "canada-central", "southamerica-east", "asia-east", "asia-northeast", "asia-southeast",
           "australia-southeast", "africa-south"]


class AddonType(NamedTuple):
    name: str
    versions: list        # newest first; "latest" and "<major>-latest" are accepted too
    keys: list            # the connection keys a secret group can link (GET …/secrets/{id}/addons/{addonId}: availableKeys)
    min_storage: int      # MB; only Redis' 4096 is documented
    port: int
    scheme: str


ADDON_TYPES = {
    "postgresql": AddonType("PostgreSQL", ["17.4.0", "16.8.0", "15.12.0", "14.17.0"],
                            ["HOST", "PORT", "DATABASE", "USERNAME", "PASSWORD", "POSTGRES_URI", "JDBC_POSTGRES_URI"], 1024, 5432, "postgresql"),
    "mysql": AddonType("MySQL", ["8.4.4", "8.0.41"], ["HOST", "PORT", "DATABASE", "USERNAME", "PASSWORD", "MYSQL_CONNECTOR_URI"], 1024, 3306, "mysql"),
    "mongodb": AddonType("MongoDB", ["8.0.5", "7.0.16", "6.0.20"], ["HOST", "PORT", "DATABASE", "USERNAME", "PASSWORD", "MONGO_SRV"], 1024, 27017,
                         "mongodb+srv"),
    "redis": AddonType("Redis", ["7.4.2", "7.2.7", "6.2.17"], ["HOST", "PORT", "USERNAME", "PASSWORD", "REDIS_MASTER_URL"], 4096, 6379, "rediss"),
    "minio": AddonType("MinIO", ["2025.4.22"], ["MINIO_ENDPOINT", "ACCESS_KEY", "SECRET_KEY"], 1024, 443, "https"),
    "rabbitmq": AddonType("RabbitMQ", ["4.0.7", "3.13.7"], ["HOST", "PORT", "USERNAME", "PASSWORD", "AMQP_URI"], 1024, 5671, "amqps"),
}
VCS_LINKS = [{"login": "demo", "name": "Demo GitHub account", "vcsLinkId": "demo-github", "vcsService": "github"}]


class Catalogue:
    """A mixin of ``NorthflankEmulator``."""

    def routes(self) -> list:
        """(method, SDK path template, handler) of the routes this family serves."""
        return [("GET", "/v1/auth", self.get_auth), ("GET", "/v1/plans", lambda req: self.ok({"plans": PLANS})),
                ("GET", "/v1/regions", self.list_regions), ("GET", "/v1/addon-types", self.list_addon_types),
                ("GET", "/v1/integrations/vcs", lambda req: self.ok({"vcsAccountLinks": VCS_LINKS}))]

    def get_auth(self, req: Request) -> Response:
        scopes: dict = {"teamScope": set(), "projectScope": set()}
        for method, template in self.served:
            permission = nf_contract.find(method, template).endpoint.required_permissions
            if permission:
                scopes["projectScope" if permission.startswith("Project") else "teamScope"].add(permission)
        return self.ok({"id": "emulator-token", "name": "emulator", "entityType": "team", "entityId": "demo-team",
                        "entityUid": uid_of("team", "demo-team"), "tokenKind": "api", "createdAt": "2026-01-01T00:00:00.000Z",
                        "permissions": {k: sorted(v) for k, v in scopes.items()},
                        "projectRestrictions": {"enabled": False, "projects": [], "restrictionMode": "in"}})

    def list_regions(self, req: Request) -> Response:
        return self.ok({"regions": [{"id": r, "name": r.replace("-", " ").title(), "regionName": r, "gpuDevices": []} for r in REGIONS]})

    def list_addon_types(self, req: Request) -> Response:
        features = dict.fromkeys(("importDump", "importLive", "backupsDump", "tls", "externalAccess", "customDBName", "forkAddon",
                                  "scaleReplicas"), True)
        return self.ok({"addonTypes": [
            {"type": t, "name": a.name, "description": f"Managed {a.name}", "versions": a.versions,
             "major": sorted({v.split(".")[0] for v in a.versions}, reverse=True), "features": features,
             "resources": {"storage": {"min": a.min_storage}, "replicas": {"min": 1, "max": 5}}}
            for t, a in ADDON_TYPES.items()]})


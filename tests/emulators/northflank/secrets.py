# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret groups and their links to addons."""

from __future__ import annotations

import copy
from typing import Callable, Optional

from tests.emulators._server import HttpError, Request, Response
from tests.emulators.northflank.catalogue import ADDON_TYPES
from tests.emulators.northflank.core import P, merge, now_iso, pick


class SecretGroups:
    """A mixin of ``NorthflankEmulator``."""

    def routes(self) -> list:
        """(method, SDK path template, handler) of the routes this family serves."""
        group = f"{P}/secrets/{{secretId}}"
        return [
            ("GET", f"{P}/secrets", self.list_secrets),
            ("POST", f"{P}/secrets", self.save_secret),
            ("PUT", f"{P}/secrets", self.save_secret),
            ("GET", group, self.get_secret),
            ("GET", f"{group}/details", self.get_secret_details),
            ("PATCH", group, self.patch_secret),
            ("POST", group, self.patch_secret),
            ("DELETE", group, self.delete_secret),
            ("GET", f"{group}/addons/{{addonId}}", self.get_secret_link),
            ("POST", f"{group}/addons/{{addonId}}", self.link_secret),
        ]

    def check_secret(self, pid: str) -> Callable:
        def check(body: dict, existing: Optional[dict]) -> None:
            for dep in body.get("addonDependencies", []):
                self.check_link_keys(pid, dep["addonId"], dep["keys"])
            self.check_aliases(body)

        return check

    @staticmethod
    def check_aliases(spec: dict) -> None:
        """Northflank's reference does not say what happens when a linked key's alias is also a variable of the group
        (or an alias of another link): the emulator refuses it (409), so that a switch from a copied connection string
        to an addon link must drop the variable in the same write (docs/emulators.md, "Addon links")."""
        taken = {name: "the group's own variable" for name in (spec.get("secrets") or {}).get("variables") or {}}
        for dep in spec.get("addonDependencies") or []:
            for key in dep.get("keys") or []:
                for alias in key.get("aliases") or []:
                    if alias in taken:
                        raise HttpError(
                            409,
                            f"Alias {alias!r} of key {key['keyName']} of addon {dep['addonId']!r} "
                            f"collides with {taken[alias]} of the same name",
                        )
                    taken[alias] = f"an alias of addon {dep['addonId']!r}"

    def check_link_keys(self, pid: str, addon_id: str, keys: list) -> dict:
        addon = self.addons.find(pid, addon_id)
        if addon is None:
            raise HttpError(404, f"Addon {addon_id!r} not found in project {pid!r}")
        available = ADDON_TYPES[addon["spec"]["type"]].keys
        unknown = [k["keyName"] for k in keys if k["keyName"] not in available]
        if unknown:
            raise HttpError(400, f"Addon {addon_id!r} has no keys {unknown}; available: {available}")
        return addon

    def save_secret(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        record = self.upsert(self.secrets, pid, req, check=self.check_secret(pid))
        return self.ok(self.secret_create_view(record))

    @staticmethod
    def secret_create_view(record: dict) -> dict:
        return {
            **copy.deepcopy(record["spec"]),
            "id": record["id"],
            "createdAt": record["createdAt"],
            "updatedAt": record["updatedAt"],
        }

    def secret_view(self, pid: str, record: dict, show: str = "this") -> dict:
        """GetSecretResponse. ``show`` as https://northflank.com/docs/v1/api/secrets/get-secret documents it: ``this``,
        the
        group's own secrets; ``inherited``, only the values of linked addon keys, under their aliases (or
        NF_<ADDON>_<KEY>);
        ``all`` (the default of the API), both."""
        spec = record["spec"]
        own = show in ("this", "all")
        secrets = {
            "variables": dict(spec.get("secrets", {}).get("variables", {})) if own else {},
            "files": dict(spec.get("secrets", {}).get("files", {})) if own else {},
        }
        if show in ("inherited", "all"):
            for dep in self.linked_addons(pid, spec):
                values = self.addon_values(pid, dep["addonId"])
                for key in dep["keys"]:
                    for name in key.get("aliases") or [self.default_key(dep["addonId"], key["keyName"])]:
                        secrets["variables"][name] = values[key["keyName"]]
        return {
            "id": record["id"],
            "name": spec["name"],
            "projectId": pid,
            "priority": spec["priority"],
            "secretType": spec["secretType"],
            "type": spec.get("type", "secret"),
            "tags": spec.get("tags", []),
            "secrets": secrets,
            "restrictions": spec.get("restrictions", {"restricted": False, "nfObjects": [], "tags": []}),
            "createdAt": record["createdAt"],
            "updatedAt": record["updatedAt"],
            **pick(spec, "description"),
        }

    def linked_addons(self, pid: str, spec: dict) -> list:
        """The group's addon dependencies whose addon still exists."""
        return [dep for dep in spec.get("addonDependencies", []) if self.addons.find(pid, dep["addonId"])]

    @staticmethod
    def default_key(addon_id: str, key: str) -> str:
        """As update-secret-addon-link's example shows it: ``NF_EXAMPLE-ADDON_USERNAME`` (hyphens kept)."""
        return f"NF_{addon_id.upper()}_{key}"

    def secret(self, req: Request) -> dict:
        return self.secrets.get(self.project(req)["id"], req.params["secretId"])

    def list_secrets(self, req: Request) -> Response:
        pid = self.project(req)["id"]
        return self.page(
            req,
            [
                {k: v for k, v in self.secret_view(pid, r).items() if k not in ("secrets", "createdAt", "updatedAt")}
                for r in self.secrets.all(pid)
            ],
            "secrets",
        )

    def get_secret(self, req: Request) -> Response:
        return self.ok(self.secret_view(req.params["projectId"], self.secret(req), req.query.get("show") or "all"))

    def get_secret_details(self, req: Request) -> Response:
        pid, record = req.params["projectId"], self.secret(req)
        addon_secrets = []
        for dep in self.linked_addons(pid, record["spec"]):
            addon, values = self.addons.get(pid, dep["addonId"]), self.addon_values(pid, dep["addonId"])
            addon_secrets.append(
                {
                    "id": addon["id"],
                    "name": addon["spec"]["name"],
                    "addonType": addon["spec"]["type"],
                    "version": self.addon_version(addon),
                    "variables": {k["keyName"]: values[k["keyName"]] for k in dep["keys"]},
                }
            )
        return self.ok({**self.secret_view(pid, record), "addonSecrets": addon_secrets})

    def patch_secret(self, req: Request) -> Response:
        pid, record = req.params["projectId"], self.secret(req)
        self.check_secret(pid)(merge(record["spec"], req.data), record)
        self.patch(record, req.data)
        # PATCH answers the group; POST /secrets/{id} answers {} (docs/emulators.md, "PATCH")
        return self.ok(self.secret_create_view(record) if req.method == "PATCH" else {})

    def delete_secret(self, req: Request) -> Response:
        self.secrets.remove(req.params["projectId"], self.secret(req)["id"])
        return self.ok({})

    def secret_link_keys(self, record: dict, addon_id: str) -> list:
        dep = next((d for d in record["spec"].get("addonDependencies", []) if d["addonId"] == addon_id), {"keys": []})
        return [
            {"keyName": k["keyName"], "defaultKey": self.default_key(addon_id, k["keyName"]), **pick(k, "aliases")}
            for k in dep["keys"]
        ]

    def get_secret_link(self, req: Request) -> Response:
        pid, record = req.params["projectId"], self.secret(req)
        addon = self.addons.get(pid, req.params["addonId"])
        keys = self.secret_link_keys(record, addon["id"])
        return self.ok(
            {
                "secretId": record["id"],
                "secretName": record["spec"]["name"],
                "addonId": addon["id"],
                "addonName": addon["spec"]["name"],
                "addonType": addon["spec"]["type"],
                "availableKeys": ADDON_TYPES[addon["spec"]["type"]].keys,
                "linked": bool(keys),
                "linkedKeys": keys,
            }
        )

    def link_secret(self, req: Request) -> Response:
        pid, record, addon_id = req.params["projectId"], self.secret(req), req.params["addonId"]
        self.check_link_keys(pid, addon_id, req.data["keys"])
        deps = [d for d in record["spec"].get("addonDependencies", []) if d["addonId"] != addon_id]
        deps.append({"addonId": addon_id, "keys": req.data["keys"]})
        self.check_aliases({**record["spec"], "addonDependencies": deps})
        record["spec"]["addonDependencies"] = deps
        record["updatedAt"] = now_iso()
        return self.ok({"keys": self.secret_link_keys(record, addon_id)})

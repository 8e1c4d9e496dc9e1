# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domains, their subdomains, and the links of subdomains to service ports."""

from __future__ import annotations

from tests.emulators._server import HttpError, Request, Response
from tests.emulators.northflank.core import now_iso, pick, uid_of


class Domains:
    """A mixin of ``NorthflankEmulator``."""

    def routes(self) -> list:
        """(method, SDK path template, handler) of the routes this family serves."""
        sub = "/v1/domains/{domain}/subdomains/{subdomain}"
        return [
            ("GET", "/v1/domains", self.list_domains),
            ("POST", "/v1/domains", self.create_domain),
            ("GET", "/v1/domains/{domain}", self.get_domain),
            ("DELETE", "/v1/domains/{domain}", self.delete_domain),
            ("POST", "/v1/domains/{domain}/verify", self.verify_domain),
            ("POST", "/v1/domains/{domain}/subdomains", self.save_subdomain),
            ("PUT", "/v1/domains/{domain}/subdomains", self.save_subdomain),
            ("GET", sub, self.get_subdomain),
            ("DELETE", sub, self.delete_subdomain),
            ("POST", f"{sub}/verify", self.verify_subdomain),
            ("POST", f"{sub}/assign", self.assign_subdomain),
            ("DELETE", f"{sub}/assign", self.unassign_subdomain),
        ]

    @staticmethod
    def check_dns(name: str) -> None:
        """Names under the reserved ``.invalid`` TLD fail DNS verification, so tests can exercise the 400."""
        if name.endswith(".invalid"):
            raise HttpError(400, f"Verification failed: the DNS record for {name} was not found")

    def domain_view(self, record: dict) -> dict:
        """CreateDomainResponse / ListDomainsResponseDomain."""
        return {
            "name": record["id"],
            "status": record["status"],
            "hostname": record["hostname"],
            "token": record["token"],
            **(
                {"options": pick(record["spec"]["options"], "tlsMode", "minTlsProtocolVersion")}
                if "options" in record["spec"]
                else {}
            ),
            **pick(record["spec"], "loadBalancer"),
        }

    def create_domain(self, req: Request) -> Response:
        name = req.data["domain"].lower()
        record = self.new_record(
            name,
            req.data,
            status="pending",
            hostname=f"nfverify{int(uid_of('dns', name)[:8], 16)}",
            token=uid_of("token", name),
        )
        self.domains.add("", record, conflict="The domain is already registered with this account")
        return self.ok(self.domain_view(record))

    def domain(self, req: Request) -> dict:
        return self.domains.get("", req.params["domain"].lower())

    def get_domain(self, req: Request) -> Response:
        record = self.domain(req)
        return self.ok(
            {
                **self.domain_view(record),
                "subdomains": [{"name": s["id"], "fullName": s["fullName"]} for s in self.subdomains.all(record["id"])],
            }
        )

    def list_domains(self, req: Request) -> Response:
        return self.page(req, [self.domain_view(r) for r in self.domains.all("")], "domains")

    def verify_domain(self, req: Request) -> Response:
        record = self.domain(req)
        self.check_dns(record["id"])
        record.update(status="verified", updatedAt=now_iso())
        return self.ok({})

    def delete_domain(self, req: Request) -> Response:
        domain = self.domains.remove("", self.domain(req)["id"])
        for sub in self.subdomains.all(domain["id"]):
            self.unlink_host(sub["fullName"])
        self.subdomains.drop(domain["id"])
        return self.ok({})

    @staticmethod
    def subdomain_view(record: dict) -> dict:
        """AddDomainSubdomainResponse / GetSubdomainResponse."""
        return {
            "name": record["id"],
            "fullName": record["fullName"],
            "recordType": "CNAME",
            "content": record["content"],
            "verified": record["verified"],
            **pick(record["spec"], "routingMode", "options"),
        }

    def save_subdomain(self, req: Request) -> Response:
        """POST adds (409 if present); PUT (keyed by ``name``) creates or replaces, as PUT does everywhere."""
        domain = self.domain(req)
        if domain["status"] != "verified":
            raise HttpError(400, f"The domain {domain['id']} has not been verified")
        name = req.data.get("subdomain", req.data.get("name"))
        existing = self.subdomains.find(domain["id"], name)
        if existing and req.method == "POST":
            raise HttpError(409, "The subdomain has already been added to this domain")
        if existing:
            existing.update(spec=req.data, updatedAt=now_iso())
            return self.ok(self.subdomain_view(existing))
        full = domain["id"] if name == "@" else f"{name}.{domain['id']}"
        record = self.new_record(
            name, req.data, fullName=full, verified=False, content=f"{uid_of('cname', full)[:12]}.dns.northflank.app"
        )
        return self.ok(self.subdomain_view(self.subdomains.add(domain["id"], record)))

    def subdomain(self, req: Request) -> dict:
        return self.subdomains.get(self.domain(req)["id"], req.params["subdomain"])

    def get_subdomain(self, req: Request) -> Response:
        return self.ok(self.subdomain_view(self.subdomain(req)))

    def verify_subdomain(self, req: Request) -> Response:
        record = self.subdomain(req)
        self.check_dns(record["fullName"])
        record.update(verified=True, updatedAt=now_iso())
        return self.ok({})

    def delete_subdomain(self, req: Request) -> Response:
        record = self.subdomains.remove(self.domain(req)["id"], self.subdomain(req)["id"])
        self.unlink_host(record["fullName"])
        return self.ok({})

    def assign_subdomain(self, req: Request) -> Response:
        """Linking a subdomain and listing it in a port's ``domains`` are one state (docs/emulators.md, "Subdomain
        links"): the link shows on
        the service GET, and a host routes to one port at a time."""
        record, body = self.subdomain(req), req.data
        if not record["verified"]:
            raise HttpError(400, f"The domain {record['fullName']} has not been verified")
        service = self.services.get(self.projects.get("", body["projectId"])["id"], body["serviceId"])
        port = next((p for p in service["spec"].get("ports", []) if p["name"] == body["portName"]), None)
        if port is None:
            raise HttpError(404, f"Service {service['id']!r} has no port named {body['portName']!r}")
        self.unlink_host(record["fullName"])
        port.setdefault("domains", []).append(record["fullName"])
        service["updatedAt"] = now_iso()
        return self.ok({})

    def unassign_subdomain(self, req: Request) -> Response:
        self.unlink_host(self.subdomain(req)["fullName"])
        return self.ok({})

    def unlink_host(self, host: str) -> None:
        for service in self.services.each():
            for port in service["spec"].get("ports", []):
                if host in port.get("domains", []):
                    port["domains"].remove(host)
                    service["updatedAt"] = now_iso()

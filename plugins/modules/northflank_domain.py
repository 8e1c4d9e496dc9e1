#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: northflank_domain
short_description: Register a custom domain on Northflank, add its subdomains and link them to service ports
version_added: 1.0.0
description:
  - Ensures a custom domain is registered with the Northflank team, optionally verified, with the given subdomains added
    and each linked to a port of a service, or that the domain is absent.
  - Returns the DNS records to publish (the TXT record that proves ownership of the domain, and the CNAME record of each
    subdomain), so that a migration report can list them for the DNS cut-over.
  - Northflank adds subdomains only to a verified domain. Until the domain is verified, the subdomains are listed under
    RV(pending) and the task does not fail.
  - Verification is asked for only with O(verify=true), and only for what is not verified yet. A failed check
    (Northflank answers HTTP 400 when the DNS record is not found) is reported in RV(verification_errors) with
    Northflank's words and as a warning, and does not fail the task, unless O(wait_for_verification=true).
  - A subdomain is linked to its service port once it is verified (Northflank refuses to link it before), when the port
    does not list it among its C(domains) yet (C(GET /v1/projects/{project}/services/{service})). Until then it is
    listed under RV(pending).
  - Subdomains that the task does not list are left alone.
author:
  - herokumigrate maintainers (@herokumigrate)
extends_documentation_fragment:
  - herokumigrate.northflank.northflank
  - herokumigrate.northflank.northflank_resource
options:
  domain:
    description:
      - The domain, for example V(acme.com). Domains are team-wide and keyed by their DNS name.
      - With O(state=absent), the domain and all its subdomains are deleted.
    type: str
    required: true
  project:
    description:
      - ID of the project of the services the subdomains are linked to, unless a subdomain sets its own.
    type: str
  subdomains:
    description:
      - Subdomains to add to the domain, and the service port each one routes to.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The subdomain, for example V(www), V(@) for the domain itself (apex) or V(*) for a wildcard.
          - Compared and sent in lower case, as O(domain) is (Northflank accepts lower-case subdomain names only).
        type: str
        required: true
      service:
        description:
          - ID of the service to link the subdomain to. Without it the subdomain is added but not linked.
        type: str
      port:
        description:
          - Name of the service's port to link the subdomain to, for example V(web). Required with
            O(subdomains[].service).
        type: str
      project:
        description:
          - ID of the project of O(subdomains[].service). Defaults to O(project).
        type: str
  verify:
    description:
      - Ask Northflank to check the DNS records of the domain and of its subdomains that are not verified yet.
      - Publish the records of RV(dns_records) first. A first run usually leaves this V(false), to get the records.
    type: bool
    default: false
  wait_for_verification:
    description:
      - With O(verify=true), keep asking until every check passes or O(wait_timeout) runs out, and then fail. DNS
        changes can take a while to propagate.
      - With V(false), a failed check is only reported.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to keep asking for verification with O(wait_for_verification=true), for each name.
    type: int
    default: 600
  poll_interval:
    description:
      - Seconds before the second verification attempt. Each next wait doubles, up to six times this value
        (5, 10, 20, 30, 30... seconds by default), to spare the 1000 requests an hour Northflank allows.
      - At least V(1).
    type: int
    default: 5
notes:
  - Each verification attempt is a write request (C(POST .../verify)); a re-run that finds everything verified and
    linked sends none.
"""

EXAMPLES = r"""
- name: Register the domain and get the records to publish
  herokumigrate.northflank.northflank_domain:
    domain: acme.com
  register: acme_domain

- name: Show the DNS records
  ansible.builtin.debug:
    var: acme_domain.dns_records

- name: After publishing the TXT record, verify the domain, add www and link it to the web port
  herokumigrate.northflank.northflank_domain:
    domain: acme.com
    project: acme-web
    verify: true
    wait_for_verification: true
    subdomains:
      - name: www
        service: acme-web-web
        port: web
      - name: "@"
        service: acme-web-web
        port: web

- name: Delete the domain and its subdomains
  herokumigrate.northflank.northflank_domain:
    domain: acme.com
    state: absent
"""

RETURN = r"""
domain:
  description:
    - The domain as Northflank returns it (C(name), C(status) V(pending) or V(verified), C(hostname) and C(token) of the
      verification record, C(subdomains)).
    - In check mode, for a domain not registered yet, only C(name) and C(status).
  returned: when O(state=present)
  type: dict
  sample:
    name: acme.com
    status: verified
    hostname: nfverify1608026055
    token: 5f8d0d55b54764421b7156c3
    subdomains:
      - name: www
        fullName: www.acme.com
subdomains:
  description:
    - Each subdomain the task lists that exists (or, in check mode, would be added), as Northflank returns it.
    - C(link) names the service port it is linked to; C(link.linked) is V(false) only in check mode, for a link not made
      yet.
  returned: when O(state=present)
  type: list
  elements: dict
  sample:
    - name: www
      fullName: www.acme.com
      recordType: CNAME
      content: a1b2c3d4e5f6.dns.northflank.app
      verified: true
      link: {project: acme-web, service: acme-web-web, port: web, linked: true}
dns_records:
  description:
    - The DNS records to publish. C(name) is the full record name, C(host) the name relative to the domain, C(verified)
      whether Northflank has checked the record.
    - The TXT record proves ownership of the domain; each subdomain has a CNAME (C(recordType)) record pointing to
      Northflank, and a certificate validation record when Northflank gives one.
  returned: when O(state=present)
  type: list
  elements: dict
  sample:
    - {type: TXT, name: nfverify1608026055.acme.com, host: nfverify1608026055, value: 5f8d0d55b54764421b7156c3,
       purpose: domain verification, verified: true}
    - {type: CNAME, name: www.acme.com, host: www, value: a1b2c3d4e5f6.dns.northflank.app, purpose: route to Northflank,
      verified: true}
pending:
  description: Subdomains that could not be added, or not linked, yet (their parent or they themselves are not
    verified), with the reason.
  returned: when O(state=present)
  type: list
  elements: dict
  sample:
    - {name: www, reason: "the domain acme.com is not verified yet: publish its TXT record, then run with verify: true"}
verification_errors:
  description: Names whose verification failed in this run, with Northflank's message.
  returned: when O(state=present)
  type: dict
  sample: {acme.com: "Verification failed: the DNS record for acme.com was not found"}
actions:
  description: What this task did (or, in check mode, would do), in order.
  returned: always
  type: list
  elements: str
  sample: ["register acme.com", "verify acme.com", "add www.acme.com", "link www.acme.com to acme-web/acme-web-web:web"]
api_requests:
  description: Requests sent to the Northflank API by this task, per method and route.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank import NorthflankError
from ansible_collections.herokumigrate.northflank.plugins.module_utils.northflank_module import (
    NorthflankModule, state_option)

DOMAINS = "/v1/domains"
DOMAIN = DOMAINS + "/{domain}"
VERIFY = DOMAIN + "/verify"
SUBDOMAINS = DOMAIN + "/subdomains"
SUBDOMAIN = SUBDOMAINS + "/{subdomain}"
SUBDOMAIN_VERIFY = SUBDOMAIN + "/verify"
ASSIGN = SUBDOMAIN + "/assign"
SERVICE = "/v1/projects/{project}/services/{service}"


def full_name(domain, subdomain):
    return domain if subdomain == "@" else "%s.%s" % (subdomain, domain)


def port_domains(port):
    """Host names linked to a port: strings on a service GET, ``{name, certificate}`` on the ports GET."""
    return [d if isinstance(d, str) else (d or {}).get("name") for d in port.get("domains") or []]


class Domain(NorthflankModule):
    kind = "domain"

    def validate(self):
        params = self.params
        for sub in params["subdomains"]:  # DNS names are case-insensitive, Northflank's subdomain pattern is lower case
            sub["name"] = sub["name"].strip().lower()
        if params["poll_interval"] < 1:
            return "poll_interval must be at least 1 second"
        names = [s["name"] for s in params["subdomains"]]
        if len(set(names)) != len(names):
            return "subdomains lists a name twice: %s" % ", ".join(sorted(set(n for n in names if names.count(n) > 1)))
        for sub in params["subdomains"]:
            if sub["service"] and not (sub["project"] or params["project"]):
                return ("subdomain %r is linked to service %r: set project (of the task or of the subdomain)"
                        % (sub["name"], sub["service"]))
        return None

    @property
    def name(self):
        return self.params["domain"].strip().rstrip(".").lower()

    # -- verification ---------------------------------------------------------------------------
    def attempt(self, route, **params):
        """One verification request: None when it passed, else Northflank's words (it answers 400)."""
        try:
            self.client.post(route, None, **params)
            return None
        except NorthflankError as exc:
            if exc.status == 400:
                return exc.message
            raise

    def verified(self, what, route, **params):
        """Ask for verification (until it passes with wait_for_verification); the error of a failed check, or None."""
        if not self.params["wait_for_verification"]:
            return self.attempt(route, **params)
        self.poll(lambda: self.attempt(route, **params), done=lambda error: error is None,
                  what="%s verification" % what, describe=lambda error: error, **self.pacing())
        return None

    # -- reads and writes -----------------------------------------------------------------------
    def register(self):
        try:
            return dict(self.client.post(DOMAINS, dict(domain=self.name)), subdomains=[])
        except NorthflankError as exc:
            if exc.status != 409:  # "already registered": another run got there first
                raise
        return self.client.get(DOMAIN, domain=self.name)

    def add_subdomain(self, name):
        try:
            return self.client.post(SUBDOMAINS, dict(subdomain=name), domain=self.name)
        except NorthflankError as exc:
            if exc.status != 409:  # "already added"
                raise
        return self.client.get(SUBDOMAIN, domain=self.name, subdomain=name)

    def port(self, project, service, port):
        """The service's port, or None when the service does not exist. Each service is read once per task."""
        key = (project, service)
        if key not in self.services:
            self.services[key] = self.client.get_or_none(SERVICE, project=project, service=service)
        found = self.services[key]
        if found is None:
            return None
        ports = found.get("ports") or []
        match = [x for x in ports if x.get("name") == port]
        if not match:
            self.fail("service %r of project %r has no port named %r (its ports: %s)"
                      % (service, project, port, ", ".join(x.get("name", "?") for x in ports) or "none"))
        return match[0]

    # -- the cycle ------------------------------------------------------------------------------
    def _run(self):
        params, check = self.params, self.module.check_mode
        domain = self.client.get_or_none(DOMAIN, domain=self.name)
        if params["state"] == "absent":
            if domain is None:
                return dict(changed=False, actions=[])
            if not check:
                self.client.delete(DOMAIN, domain=self.name)
            return dict(changed=True, actions=["delete %s" % self.name],
                        diff=dict(before=self.summary(domain), after={}))

        self.services, self.links_before, actions, errors, pending = {}, [], [], {}, []
        before = self.summary(domain)
        if domain is None:
            actions.append("register %s" % self.name)
            domain = dict(name=self.name, status="pending", subdomains=[]) if check else self.register()
        if domain.get("status") != "verified" and params["verify"]:
            error = None if check else self.verified(self.name, VERIFY, domain=self.name)
            if error:
                errors[self.name] = error
            else:
                actions.append("verify %s" % self.name)
                domain = dict(domain, status="verified")  # the check answers 200 only when it passed
        usable = domain.get("status") == "verified"

        existing = set(s.get("name") for s in domain.get("subdomains") or [])
        subdomains = []
        for sub in params["subdomains"]:
            full = full_name(self.name, sub["name"])
            if sub["name"] in existing:
                info = self.client.get(SUBDOMAIN, domain=self.name, subdomain=sub["name"])
            elif not usable:
                pending.append(dict(name=sub["name"],
                                    reason="the domain %s is not verified yet: publish its TXT record, then run with "
                                           "verify: true" % self.name))
                continue
            else:
                actions.append("add %s" % full)
                info = dict(name=sub["name"], fullName=full,
                            verified=False) if check else self.add_subdomain(sub["name"])
                domain = dict(domain,
                              subdomains=(domain.get("subdomains") or []) + [dict(name=sub["name"], fullName=full)])
            if not info.get("verified") and params["verify"]:
                error = None if check else self.verified(full, SUBDOMAIN_VERIFY, domain=self.name,
                                                         subdomain=sub["name"])
                if error:
                    errors[full] = error
                else:
                    actions.append("verify %s" % full)
                    info = dict(info, verified=True)
            if sub["service"] and info.get("verified"):
                info = dict(info, link=self.link(sub, full, actions, check))
            elif sub["service"]:  # Northflank links only verified subdomains
                pending.append(dict(name=sub["name"],
                                    reason="%s is not verified yet: publish its %s record, then run with verify: true "
                                           "to link it" % (full, info.get("recordType") or "CNAME")))
            subdomains.append(info)
        for name, error in sorted(errors.items()):
            self.module.warn("Northflank could not verify %s: %s. Publish the records of dns_records and run again."
                             % (name, error))

        result = dict(changed=bool(actions), actions=actions, domain=domain, subdomains=subdomains, pending=pending,
                      verification_errors=errors, dns_records=self.records(domain, subdomains))
        if actions:
            if before:
                before["links"] = sorted(self.links_before)
            after = self.summary(domain)
            after["links"] = sorted(self.describe_link(s["fullName"], s["link"]) for s in subdomains if s.get("link"))
            result["diff"] = dict(before=before, after=after)
        return result

    def link(self, sub, full, actions, check):
        project = sub["project"] or self.params["project"]
        link = dict(project=project, service=sub["service"], port=sub["port"])
        port = self.port(project, sub["service"], sub["port"])
        if port is None and not check:
            self.fail("cannot link %s: service %r does not exist in project %r" % (full, sub["service"], project))
        if port is not None and full in port_domains(port):
            self.links_before.append(self.describe_link(full, link))
            return dict(link, linked=True)
        # Not linked yet (in check mode, a service that does not exist yet would be created by an earlier task).
        actions.append("link %s" % self.describe_link(full, link))
        if check:
            return dict(link, linked=False)
        self.client.post(ASSIGN, dict(projectId=project, serviceId=sub["service"], portName=sub["port"]),
                         domain=self.name, subdomain=sub["name"])
        return dict(link, linked=True)

    @staticmethod
    def describe_link(full, link):
        return "%s to %s/%s:%s" % (full, link["project"], link["service"], link["port"])

    @staticmethod
    def summary(domain):
        """The before/after of the diff: what is registered and verified (links are added by the caller)."""
        if domain is None:
            return {}
        return dict(domain=domain.get("name"), status=domain.get("status"),
                    subdomains=sorted(set(s.get("name") for s in domain.get("subdomains") or [])))

    def records(self, domain, subdomains):
        records = []
        if domain.get("hostname") and domain.get("token"):
            records.append(dict(type="TXT", name="%s.%s" % (domain["hostname"], self.name), host=domain["hostname"],
                                value=domain["token"], purpose="domain verification",
                                verified=domain.get("status") == "verified"))
        for sub in subdomains:
            if sub.get("content"):
                records.append(dict(type=sub.get("recordType") or "CNAME", name=sub["fullName"], host=sub["name"],
                                    value=sub["content"], purpose="route to Northflank",
                                    verified=bool(sub.get("verified"))))
            dcv = sub.get("dcvRecord") or {}
            if dcv.get("record") and dcv.get("target"):
                records.append(dict(type="CNAME", name=dcv["record"], host=dcv["record"], value=dcv["target"],
                                    purpose="certificate validation", verified=bool(sub.get("verified"))))
        return records


def main():
    module = AnsibleModule(
        argument_spec=Domain.spec(
            state=state_option(),
            domain=dict(type="str", required=True),
            project=dict(type="str"),
            subdomains=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                service=dict(type="str"),
                port=dict(type="str"),
                project=dict(type="str"),
            ), required_together=[("service", "port")]),
            verify=dict(type="bool", default=False),
            wait_for_verification=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=600),
            poll_interval=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    Domain(module).run()


if __name__ == "__main__":
    main()

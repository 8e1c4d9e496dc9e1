# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Northflank emulator: domains, subdomains and their links to service ports."""

from __future__ import annotations

from tests.integration.northflank_emulator_api import BUILD_SERVICE, DEPLOYMENT_SERVICE, project


# -- domains, templates, pipelines, release flows -------------------------------------------------------------
def test_subdomains_need_a_verified_domain_and_failed_checks_are_400(api):
    api.data("POST", "/v1/domains", {"domain": "acme.com"})
    resp = api.call("POST", "/v1/domains/acme.com/subdomains", {"subdomain": "www"})
    assert resp.status_code == 400 and "not been verified" in resp.json()["error"]["message"]
    api.data("POST", "/v1/domains", {"domain": "nope.invalid"})
    assert api.call("POST", "/v1/domains/nope.invalid/verify").status_code == 400
    api.data("POST", "/v1/domains/acme.com/verify")
    sub = api.data("POST", "/v1/domains/acme.com/subdomains", {"subdomain": "www"})
    assert sub["fullName"] == "www.acme.com" and sub["recordType"] == "CNAME" and sub["verified"] is False
    assert api.call("POST", "/v1/domains/acme.com/subdomains", {"subdomain": "www"}).json()["error"]["message"] == \
        "The subdomain has already been added to this domain"
    api.data("POST", "/v1/domains/acme.com/subdomains/www/verify")
    assert api.data("GET", "/v1/domains/acme.com/subdomains/www")["verified"] is True
    assert api.data("GET", "/v1/domains/acme.com")["subdomains"] == [{"name": "www", "fullName": "www.acme.com"}]


def test_a_linked_subdomain_is_listed_on_the_service_port(api):
    project(api)
    api.data("PUT", "/v1/projects/acme-web/services/build", BUILD_SERVICE)
    api.data("PUT", "/v1/projects/acme-web/services/deployment", DEPLOYMENT_SERVICE)
    api.data("POST", "/v1/domains", {"domain": "acme.com"})
    api.data("POST", "/v1/domains/acme.com/verify")
    api.data("POST", "/v1/domains/acme.com/subdomains", {"subdomain": "www"})
    assign = "/v1/domains/acme.com/subdomains/www/assign"
    link = {"projectId": "acme-web", "serviceId": "acme-web-web", "portName": "web"}
    assert api.call("POST", assign, link).status_code == 400  # the subdomain is not verified yet
    api.data("POST", "/v1/domains/acme.com/subdomains/www/verify")
    assert api.call("POST", assign, {**link, "portName": "admin"}).status_code == 404
    api.data("POST", assign, link)
    assert api.data("GET", "/v1/projects/acme-web/services/acme-web-web")["ports"][0]["domains"] == ["www.acme.com"]
    api.data("DELETE", assign)
    assert api.data("GET", "/v1/projects/acme-web/services/acme-web-web")["ports"][0]["domains"] == []

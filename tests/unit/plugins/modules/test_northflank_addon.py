"""The addon module's comparison rules that the emulator cannot exercise: versions and upgrades."""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.modules import northflank_addon


def test_version_matches_major_latest_exact_and_latest():
    assert northflank_addon.version_matches("16-latest", "16.4")
    assert northflank_addon.version_matches("16-latest", "16-latest")
    assert not northflank_addon.version_matches("16-latest", "15.7")
    assert not northflank_addon.version_matches("16-latest", "160.1")
    assert northflank_addon.version_matches("4.2-latest", "4.2.14")
    assert northflank_addon.version_matches("16.4", "16.4")
    assert not northflank_addon.version_matches("16.4", "16.5")
    assert northflank_addon.version_matches("latest", "12.1")  # latest never asks for an upgrade
    assert northflank_addon.version_matches(None, "12.1")


class _Client(object):
    def __init__(self, offered):
        self.offered = offered

    def get(self, route, **params):
        assert route == northflank_addon.VERSION
        return {"version": "15.7", "lifecycleStatus": "active", "upgradeHistory": [],
                "upgradeTo": [{"type": "minor", "version": v} for v in self.offered]}


def _addon(offered):
    addon = object.__new__(northflank_addon.Addon)
    addon.params = {"project": "p", "name": "db"}
    addon.client = _Client(offered)
    return addon


def test_an_upgrade_goes_to_the_newest_offered_version_that_matches():
    body, view = {"name": "db", "version": "16-latest"}, {"version": "15.7", "billing": {}}
    addon = _addon(["15.8", "16.2", "16.4", "17.1"])
    assert addon.forbidden_change(body, view, ["version"]) is None
    assert addon.upgrade_to == "16.4"


def test_a_version_not_offered_is_refused_with_what_is_offered():
    body, view = {"name": "db", "version": "14-latest"}, {"version": "15.7", "billing": {}}
    message = _addon(["15.8", "16.4"]).forbidden_change(body, view, ["version"])
    assert "from 15.7 to 14-latest" in message and "it offers upgrades to 15.8, 16.4 only" in message
    assert "it offers no upgrade" in _addon([]).forbidden_change(body, view, ["version"])


def test_decreases_are_refused_and_increases_allowed():
    addon = _addon([])
    view = {"billing": {"storage": 8192, "replicas": 2}}
    message = addon.forbidden_change({"name": "db", "billing": {"storage": 4096, "replicas": 1}}, view,
                                     ["billing.storage", "billing.replicas"])
    assert "storage cannot decrease from 8192 to 4096" in message and "replicas cannot decrease from 2 to 1" in message
    assert addon.forbidden_change({"name": "db", "billing": {"storage": 10240}}, view, ["billing.storage"]) is None


def test_view_reads_the_docs_and_the_create_body_key_names():
    addon = _addon([])
    addon.params.update(version="16-latest", backup_schedules=None)
    docs = {"name": "db", "spec": {"type": "postgresql", "config": {"versionTag": "16.4", "deployment": {
        "planId": "nf-compute-20", "storageSize": 4096, "replicas": 1}, "networking": {"tlsEnabled": True}}}}
    body = {"name": "db", "spec": {"type": "postgresql", "config": {"versionTag": "16-latest", "deployment": {
        "deploymentPlan": "nf-compute-20", "storage": 4096, "replicas": 1}, "networking": {"tlsEnabled": True}}}}
    for current in (docs, body):
        view = addon.view(current)
        assert view["billing"] == {"deploymentPlan": "nf-compute-20", "storage": 4096, "replicas": 1}
        assert view["version"] == "16-latest" and view["tlsEnabled"] is True

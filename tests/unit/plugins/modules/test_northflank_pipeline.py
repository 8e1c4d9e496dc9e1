"""The membership logic of northflank_pipeline: what is compared, and what a write carries."""

from __future__ import annotations

from ansible_collections.herokumigrate.northflank.plugins.modules.northflank_pipeline import Pipeline

CURRENT = {"name": "acme", "nfObjects": [
    {"id": "web-dev", "type": "service", "stage": "Development"},
    {"id": "admin-dev", "type": "service", "stage": "Development"},
    {"id": "web-stg", "type": "service", "stage": "Staging"},
    {"id": "db", "type": "addon", "stage": "Production"},
]}


def pipeline(stages, purge=False, **params):
    """A Pipeline without a module or a client: only its pure methods are used."""
    obj = Pipeline.__new__(Pipeline)
    obj.params = dict(project="p", name="acme", description=None, template_name=None, stages=stages,
                      purge_members=purge, **params)
    return obj


def members(services=(), jobs=(), addons=()):
    return {"services": list(services), "jobs": list(jobs), "addons": list(addons)}


def test_view_without_purge_shows_only_listed_members_so_extras_are_no_difference():
    obj = pipeline({"development": members(["web-dev"])})
    assert obj.view(CURRENT)["stages"] == {"development": members(["web-dev"])}
    assert obj.unmanaged(CURRENT) == [{"id": "admin-dev", "type": "service", "stage": "development"}]


def test_view_with_purge_shows_every_member_of_the_given_stages():
    obj = pipeline({"development": members(["web-dev"])}, purge=True)
    assert obj.view(CURRENT)["stages"] == {"development": members(["admin-dev", "web-dev"])}


def test_a_write_keeps_unlisted_members_of_the_stages_it_touches():
    obj = pipeline({"development": members(["web-dev", "worker-dev"]), "production": members(addons=["db"])})
    assert obj.write_stages(CURRENT) == {
        "development": members(["admin-dev", "web-dev", "worker-dev"]),
        "production": members(addons=["db"]),
    }


def test_a_write_with_purge_carries_only_the_listed_members():
    obj = pipeline({"development": members(["web-dev"])}, purge=True)
    assert obj.write_stages(CURRENT) == {"development": members(["web-dev"])}


def test_a_member_listed_in_another_stage_moves_there_and_is_not_kept_behind():
    obj = pipeline({"development": members(["web-dev"]), "staging": members(["admin-dev"])})
    stages = obj.write_stages(CURRENT)
    assert stages["development"] == members(["web-dev"])
    assert stages["staging"] == members(["admin-dev", "web-stg"])


def test_validation_names_and_duplicates():
    assert pipeline({"development": members(["web"]),
                     "staging": members(["web"])}).validate().startswith("service 'web' is listed in two")
    bad = pipeline({})
    bad.params["name"] = "1-acme"
    assert "not valid on Northflank" in bad.validate()
    ok = pipeline({"development": members(["web"]), "staging": members(jobs=["web"])})
    assert ok.validate() is None  # a service and a job may share an ID
    assert ok.template_name == "p-acme-pipeline"

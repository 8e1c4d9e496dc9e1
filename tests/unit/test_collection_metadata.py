# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's metadata agrees with its content.

- meta/runtime.yml: every module is in its action group (``northflank_*`` in ``northflank``,
  ``heroku_*`` in ``heroku``) exactly once, and every group entry is an existing module, so that
  ``module_defaults: group/herokumigrate.northflank.northflank`` reaches every Northflank module.
- galaxy.yml: the fields Galaxy and Automation Hub require, and a build_ignore that keeps tests out
  of the built collection.
- roles: every tunable is declared once, in roles/herokumigrate/meta/argument_specs.yml, with its default in
  roles/herokumigrate/defaults/main.yml only; every entry point is described.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
GROUP_OF_PREFIX = {"northflank_": "northflank", "heroku_": "heroku"}
# Galaxy wants at least one of its standard categories among the tags.
GALAXY_CATEGORIES = {
    "application",
    "cloud",
    "database",
    "infrastructure",
    "linux",
    "monitoring",
    "networking",
    "security",
    "storage",
    "tools",
    "windows",
}
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def load_yaml(relpath):
    with open(ROOT / relpath, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def module_names():
    return sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.name != "__init__.py")


@pytest.fixture(scope="module", name="runtime")
def runtime_fixture():
    return load_yaml("meta/runtime.yml")


@pytest.fixture(scope="module", name="galaxy")
def galaxy_fixture():
    return load_yaml("galaxy.yml")


def group_members(runtime, group):
    """Module names of one action group; a leading ``metadata`` entry (extend_group) is not a module."""
    entries = (runtime.get("action_groups") or {}).get(group) or []
    return [entry for entry in entries if not (isinstance(entry, dict) and set(entry) == {"metadata"})]


def test_action_groups_are_the_two_apis(runtime):
    assert set(runtime.get("action_groups") or {}) == set(GROUP_OF_PREFIX.values())


@pytest.mark.parametrize("group", sorted(GROUP_OF_PREFIX.values()))
def test_group_entries_are_existing_modules_of_that_api(runtime, group):
    members = group_members(runtime, group)
    assert all(isinstance(m, str) for m in members), "group %s lists something that is not a module name: %r" % (
        group,
        members,
    )
    assert len(members) == len(set(members)), "group %s lists a module twice: %r" % (group, members)
    prefix = [p for p, g in GROUP_OF_PREFIX.items() if g == group][0]
    assert [m for m in members if not m.startswith(prefix)] == [], "group %s holds modules of another API" % group
    missing = sorted(set(members) - set(module_names()))
    assert missing == [], "meta/runtime.yml group %s lists modules that do not exist in plugins/modules/: %s" % (
        group,
        missing,
    )


@pytest.mark.parametrize(
    "module", module_names() or [pytest.param(None, marks=pytest.mark.skip(reason="no module yet"))]
)
def test_every_module_is_in_its_group(runtime, module):
    groups = [g for p, g in GROUP_OF_PREFIX.items() if module.startswith(p)]
    assert groups, "module %s: names start with %s" % (module, " or ".join(sorted(GROUP_OF_PREFIX)))
    assert group_members(runtime, groups[0]).count(module) == 1, "add %s to action_groups.%s in meta/runtime.yml" % (
        module,
        groups[0],
    )


def test_requires_ansible_admits_the_supported_cores(runtime):
    spec = SpecifierSet(runtime["requires_ansible"])
    for version in ("2.15.0", "2.16.0", "2.17.0", "2.18.0", "2.19.0", "2.19.14"):
        assert spec.contains(version), "requires_ansible %s excludes ansible-core %s" % (spec, version)
    assert not spec.contains("2.14.18")


def test_galaxy_required_fields(galaxy):
    assert (galaxy["namespace"], galaxy["name"]) == ("herokumigrate", "northflank")
    version = SEMVER.match(str(galaxy["version"]))
    assert version, "version must be semantic: %s" % galaxy["version"]
    assert int(version.group(1)) >= 1, "ansible-lint's production profile wants version 1.0.0 or later"
    assert galaxy["license"] == ["GPL-3.0-or-later"]
    assert "license_file" not in galaxy, "give either license or license_file, not both"
    assert galaxy["authors"] and all(isinstance(a, str) and a for a in galaxy["authors"])
    assert galaxy["description"]
    assert (ROOT / galaxy["readme"]).is_file()
    for key in ("repository", "documentation", "issues"):
        assert str(galaxy[key]).startswith("https://"), key


def test_galaxy_tags(galaxy):
    tags = galaxy["tags"]
    assert {"heroku", "northflank", "migration"} <= set(tags)
    assert GALAXY_CATEGORIES & set(tags), "tags need one of Galaxy's categories: %s" % sorted(GALAXY_CATEGORIES)
    assert len(tags) <= 20 and len(tags) == len(set(tags))
    assert all(re.match(r"^[a-z][a-z0-9_]{0,63}$", t) for t in tags), tags


def test_user_agent_carries_the_galaxy_version(galaxy):
    text = (ROOT / "plugins" / "module_utils" / "api.py").read_text(encoding="utf-8")
    assert 'user_agent = "herokumigrate.northflank/%s"' % galaxy["version"] in text


def ignored_by_build(relpath, patterns):
    """Whether ``ansible-galaxy collection build`` leaves relpath out. Like it, match every directory on the way down
    and the file itself, each by its path from the collection root, with fnmatch (whose ``*`` also matches ``/``)."""
    parts = relpath.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in patterns)


def test_build_leaves_out_tests_and_tooling(galaxy):
    patterns = galaxy["build_ignore"]
    for path in (".venv", "build", "tools", "tests/emulators", "tests/unit", "tests/integration", "tests/contract"):
        assert ignored_by_build(path, patterns), "galaxy.yml build_ignore must list %s" % path
    shipped = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "tests").rglob("*")
        if p.is_file() and not ignored_by_build(str(p.relative_to(ROOT)), patterns)
    )
    assert shipped in ([], ["tests/config.yml"]), "add these to build_ignore in galaxy.yml: %s" % shipped


def test_execution_environment_installs_the_python_requirements():
    ee = load_yaml("meta/execution-environment.yml")
    assert ee["version"] == 1
    requirements = ee["dependencies"]["python"]
    assert requirements == "requirements.txt"
    names = {
        re.split(r"[<>=!~ ;\[]", line, maxsplit=1)[0].lower()
        for line in (ROOT / requirements).read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"requests", "pyyaml"} <= names


# -- roles: every tunable declared once --------------------------------------------------------------------------------
ROLES = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))
# Set by the role itself (derived from the playbook and check mode), never by the user.
INTERNAL_DEFAULTS = {"herokumigrate_mode"}
# The one input of the scenario roles (single_dyno and multi_dyno both take an app), not a tunable of the migration.
SCENARIO_ROLE_INPUTS = {"herokumigrate_app", "herokumigrate_pipeline"}


def argument_specs():
    """``{(role, entry point): spec}`` of every role."""
    return {
        (role, entry): spec
        for role in ROLES
        for entry, spec in load_yaml("roles/%s/meta/argument_specs.yml" % role)["argument_specs"].items()
    }


def test_every_role_entry_point_is_described():
    """antsibull-docs lint-collection-docs wants a description, the role docs a short one."""
    for (role, entry), spec in argument_specs().items():
        assert spec.get("short_description") and spec.get("description"), (
            "%s entry point %s needs short_description and description" % (role, entry)
        )


def test_a_tunable_is_declared_in_one_argument_spec_only():
    declared = {}
    for (role, entry), spec in argument_specs().items():
        for option in set(spec.get("options") or {}) - SCENARIO_ROLE_INPUTS:
            declared.setdefault(option, []).append("%s:%s" % (role, entry))
    twice = {option: where for option, where in declared.items() if len(where) > 1}
    assert not twice, "declare each option once (roles/herokumigrate/meta/argument_specs.yml): %s" % twice


def test_every_default_of_the_migration_is_declared_and_every_declared_option_has_a_default():
    defaults = set(load_yaml("roles/herokumigrate/defaults/main.yml")) - INTERNAL_DEFAULTS
    options = {
        option: spec
        for key, entry in argument_specs().items()
        if key[0] == "herokumigrate"
        for option, spec in (entry.get("options") or {}).items()
    }
    assert sorted(defaults - set(options)) == [], "declare these in roles/herokumigrate/meta/argument_specs.yml"
    undefaulted = sorted(o for o, spec in options.items() if o not in defaults and not spec.get("required"))
    assert undefaulted == [], (
        "give these a default in roles/herokumigrate/defaults/main.yml (not in the spec: one copy)"
    )
    assert not [o for o, spec in options.items() if "default" in spec], "defaults live in defaults/main.yml only"


@pytest.mark.parametrize(
    "role, option",
    [("single_dyno", "herokumigrate_app"), ("multi_dyno", "herokumigrate_app"), ("pipeline", "herokumigrate_pipeline")],
)
def test_the_scenario_roles_take_their_one_input_only(role, option):
    assert list(load_yaml("roles/%s/meta/argument_specs.yml" % role)["argument_specs"]["main"]["options"]) == [option]

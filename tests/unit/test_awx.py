# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/awx/: what AWX / Automation Platform needs to run the collection, as AWX and awx.awx take it.

- Every file loads. The credential types have the inputs and injectors AWX requires, inject only declared
  inputs, keep their keys secret, and inject the environment variables the collection reads.
- The inventory source file is one the collection's inventory plugin takes, with its cache on.
- Job templates, schedules (the rrules parse as AWX parses them) and the workflow (plan, approval, migrate,
  verify, then the pending cut-over) refer to each other consistently and to playbooks that exist.
- configure-awx.yml passes ``ansible-playbook --syntax-check`` and runs end to end against stand-ins for the
  awx.awx modules (awx.awx is not installed here, and no collection may be downloaded): each stand-in accepts
  only options the real module documents and records what it was given, which must be the definitions, with
  the injector templates left for AWX to render and no secret in the output.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jinja2
import jinja2.meta
import pytest
import yaml
from dateutil.rrule import rrulestr

from ansible_collections.herokumigrate.northflank.plugins.module_utils import heroku as heroku_client
from ansible_collections.herokumigrate.northflank.plugins.module_utils import northflank as northflank_client
from tests.awx_stub import AWX_MODULE_OPTIONS, write_stub_collections

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "docs" / "awx"
PROJECT = AWX / "project"
BIN = Path(sys.executable).parent
COLLECTIONS = ROOT / "build" / "collections"
AWX_FILES = sorted(p for p in AWX.rglob("*") if p.suffix in (".yml", ".yaml", ".json"))

# What AWX accepts in a credential type (awx/main/models/credential: the inputs and injectors schemas).
FIELD_KEYS = {"id", "label", "type", "secret", "multiline", "help_text", "choices", "format", "ask_at_runtime"}
INJECTOR_KINDS = {"env", "extra_vars", "file"}
CUSTOM_KINDS = {"cloud", "net"}  # the kinds AWX allows for custom credential types
SECRET_WORDS = ("key", "token", "password", "secret")
HEROKU_SECRET = "heroku-NEVER-PRINT-0001"
NORTHFLANK_SECRET = "nf-NEVER-PRINT-0002"


def load(path: Path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle) if path.suffix == ".json" else yaml.safe_load(handle)


@pytest.fixture(scope="module", name="objects")
def objects_fixture():
    return load(AWX / "objects.yml")


@pytest.fixture(scope="module", name="credential_types")
def credential_types_fixture():
    return load(AWX / "credential_types.json")


def injector_variables(injectors) -> set:
    """Every variable the injector templates use (AWX renders them with the credential's inputs)."""
    env = jinja2.Environment()
    found = set()
    for kind in injectors.values():
        for template in kind.values():
            found |= jinja2.meta.find_undeclared_variables(env.parse(template))
    return found


def plugin_documentation() -> dict:
    """The inventory plugin's documentation as Ansible merges it (its doc fragments included): `ansible-doc --json`."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build" / "collections"))
    out = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "-t", "inventory", "--json",
                          "herokumigrate.northflank.heroku"], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)["herokumigrate.northflank.heroku"]["doc"]


# -- every file loads ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", AWX_FILES, ids=lambda p: str(p.relative_to(AWX)))
def test_every_file_loads(path):
    assert load(path) is not None


def test_the_files_tested_here_exist():
    names = {str(p.relative_to(AWX)) for p in AWX_FILES}
    assert {
        "credential_types.json",
        "objects.yml",
        "configure-awx.yml",
        "execution-environment.yml",
        "requirements.yml",
        "project/plan.yml",
        "project/migrate.yml",
        "project/verify.yml",
        "project/inventory/herokumigrate.heroku.yml",
    } <= names
    assert (AWX / "README.md").is_file()


# -- credential types ----------------------------------------------------------------------------
def test_credential_types_have_what_awx_requires(credential_types):
    assert [t["name"] for t in credential_types] == [
        "Heroku API key (herokumigrate)",
        "Northflank API token (herokumigrate)",
    ]
    for ctype in credential_types:
        assert set(ctype) <= {"name", "description", "kind", "inputs", "injectors"}
        assert ctype["kind"] in CUSTOM_KINDS
        assert set(ctype["inputs"]) <= {"fields", "required"} and set(ctype["injectors"]) <= INJECTOR_KINDS
        fields = ctype["inputs"]["fields"]
        ids = [f["id"] for f in fields]
        assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-z_][a-z0-9_]*", i) for i in ids), ids
        for field in fields:
            assert set(field) <= FIELD_KEYS and {"id", "label", "type"} <= set(field), field
            assert field["type"] in ("string", "boolean")
            if any(word in field["id"] for word in SECRET_WORDS):
                assert field.get("secret") is True, "%s: %s must be secret: true" % (ctype["name"], field["id"])
        assert set(ctype["inputs"]["required"]) <= set(ids)


def test_injectors_use_only_declared_inputs(credential_types):
    for ctype in credential_types:
        ids = {f["id"] for f in ctype["inputs"]["fields"]}
        used = injector_variables(ctype["injectors"])
        assert used and used <= ids, "%s injects undeclared inputs: %s" % (ctype["name"], sorted(used - ids))
        # a value injected from an optional input would be an empty variable, which the collection reads as set
        assert used <= set(ctype["inputs"]["required"])


def test_injected_variables_are_the_ones_the_collection_reads(credential_types):
    env = {name: template for ctype in credential_types for name, template in ctype["injectors"]["env"].items()}
    assert (
        set(env) == {heroku_client.TOKEN_ENV, northflank_client.TOKEN_ENV} == {"HEROKU_API_KEY", "NORTHFLANK_API_TOKEN"}
    )
    inventory_env = [e["name"] for e in plugin_documentation()["options"]["api_token"]["env"]]
    assert heroku_client.TOKEN_ENV in inventory_env, (
        "the inventory plugin must read the variable the credential injects"
    )
    for name in env:
        documented = (
            ROOT / "plugins" / "doc_fragments" / ("heroku.py" if name.startswith("HEROKU") else "northflank.py")
        )
        assert "E(%s)" % name in documented.read_text(encoding="utf-8")


# -- inventory source ----------------------------------------------------------------------------
def test_inventory_source_file_is_one_the_plugin_takes_with_cache():
    path = PROJECT / "inventory" / "herokumigrate.heroku.yml"
    assert path.name.endswith(("heroku.yml", "heroku.yaml")), "the plugin only reads files named *heroku.yml"
    config = load(path)
    assert config["plugin"] == "herokumigrate.northflank.heroku"
    documented = set(plugin_documentation()["options"])
    # options of the doc fragments the plugin extends (constructed, inventory_cache)
    documented |= {
        "compose",
        "groups",
        "keyed_groups",
        "strict",
        "leading_separator",
        "use_extra_vars",
        "cache",
        "cache_plugin",
        "cache_timeout",
        "cache_connection",
        "cache_prefix",
    }
    assert set(config) <= documented, sorted(set(config) - documented)
    assert config["cache"] is True and config["cache_timeout"] > 0
    assert "api_token" not in config, "the key comes from the AWX credential, never from the file"


def test_awx_inventory_source_reads_that_file_with_the_heroku_credential(objects, credential_types):
    source = objects["herokumigrate_awx_inventory_source"]
    assert source["source"] == "scm" and (PROJECT / source["source_path"]).is_file()
    heroku = [c for c in objects["herokumigrate_awx_credentials"] if c["name"] == source["credential"]]
    assert heroku and heroku[0]["credential_type"] == credential_types[0]["name"]
    assert source["update_on_launch"] is True and source["update_cache_timeout"] > 0


# -- job templates, schedules, workflow ----------------------------------------------------------
def collection_playbook(project_playbook: Path) -> Path:
    """The collection playbook a project playbook imports (herokumigrate.northflank.NAME -> playbooks/NAME.yml)."""
    (play,) = load(project_playbook)
    name = play["ansible.builtin.import_playbook"]
    assert name.startswith("herokumigrate.northflank.")
    return ROOT / "playbooks" / (name.rsplit(".", 1)[1] + ".yml")


def test_job_templates_run_project_playbooks_that_import_the_collections(objects):
    templates = objects["herokumigrate_awx_job_templates"]
    assert [t["name"] for t in templates] == ["herokumigrate plan", "herokumigrate migrate", "herokumigrate verify"]
    for template in templates:
        assert set(template) <= AWX_MODULE_OPTIONS["job_template"]
        assert template["job_type"] in ("run", "check")
        playbook = PROJECT / template["playbook"]
        assert playbook.is_file(), "%s: no %s in docs/awx/project/" % (template["name"], template["playbook"])
        assert collection_playbook(playbook).is_file()
        assert collection_playbook(playbook).stem == template["playbook"][:-4]


def test_cut_over_is_marked_pending_while_the_collection_has_no_cutover_playbook(objects):
    template = objects["herokumigrate_awx_cutover_job_template"]
    assert set(template) <= AWX_MODULE_OPTIONS["job_template"]
    assert template["playbook"] == "cutover.yml"
    if not (ROOT / "playbooks" / "cutover.yml").exists():
        assert objects["herokumigrate_awx_cutover"] is False, (
            "AWX refuses a job template whose playbook is not in the project"
        )
        assert "PENDING" in template["description"]
        assert not (PROJECT / "cutover.yml").exists()


def parse_awx_rrule(rule: str):
    """As AWX does: ``DTSTART;TZID=...:... RRULE:...``, the two parts separated by a space, read by dateutil."""
    assert re.fullmatch(r"DTSTART;TZID=[A-Za-z_/+-]+:\d{8}T\d{6} RRULE:\S+", rule), rule
    return rrulestr(rule.replace(" ", "\n"))


def test_schedules_rrules_parse_plan_nightly_verify_hourly(objects):
    schedules = {s["unified_job_template"]: s for s in objects["herokumigrate_awx_schedules"]}
    assert set(schedules) == {"herokumigrate plan", "herokumigrate verify"}, (
        "migrate runs only from the approved workflow"
    )
    templates = {t["name"] for t in objects["herokumigrate_awx_job_templates"]}
    for schedule in schedules.values():
        assert set(schedule) <= AWX_MODULE_OPTIONS["schedule"] and schedule["unified_job_template"] in templates
    plan = list(itertools.islice(parse_awx_rrule(schedules["herokumigrate plan"]["rrule"]), 3))
    assert [(b - a).total_seconds() for a, b in zip(plan, plan[1:])] == [86400, 86400]
    assert plan[0].hour < 6, "nightly"
    verify = list(itertools.islice(parse_awx_rrule(schedules["herokumigrate verify"]["rrule"]), 3))
    assert [(b - a).total_seconds() for a, b in zip(verify, verify[1:])] == [3600, 3600]


def test_workflow_is_plan_approval_migrate_verify_then_cut_over(objects):
    workflow = objects["herokumigrate_awx_workflow"]
    assert set(workflow) <= AWX_MODULE_OPTIONS["workflow_job_template"]
    nodes = {n["identifier"]: n for n in workflow["workflow_nodes"]}
    assert len(nodes) == len(workflow["workflow_nodes"])
    for node in nodes.values():
        assert set(node["related"]) == {"success_nodes", "failure_nodes", "always_nodes", "credentials"}, (
            "awx.awx wants all four"
        )
        for kind in ("success_nodes", "failure_nodes", "always_nodes"):
            assert all(child["identifier"] in nodes for child in node["related"][kind])
    children = {i: [c["identifier"] for c in n["related"]["success_nodes"]] for i, n in nodes.items()}
    parents = {c for cs in children.values() for c in cs}
    (root,) = [i for i in nodes if i not in parents]
    chain = [root]
    while children[chain[-1]]:
        (nxt,) = children[chain[-1]]
        chain.append(nxt)
    assert chain == ["plan", "approve", "migrate", "verify"] and len(chain) == len(nodes)
    assert all(not n["related"]["failure_nodes"] and not n["related"]["always_nodes"] for n in nodes.values()), (
        "a failed or unapproved step must stop the workflow"
    )
    approval = nodes["approve"]["unified_job_template"]
    assert approval["type"] == "workflow_approval" and approval["timeout"] > 0 and approval["name"]
    templates = {t["name"] for t in objects["herokumigrate_awx_job_templates"]}
    for identifier in ("plan", "migrate", "verify"):
        ujt = nodes[identifier]["unified_job_template"]
        assert ujt["type"] == "job_template" and ujt["name"] in templates
        assert ujt["organization"]["name"] == objects["herokumigrate_awx_organization"]
    cutover = objects["herokumigrate_awx_cutover_node"]
    assert cutover["after"] == "verify" and cutover["identifier"] not in nodes
    assert cutover["unified_job_template"]["name"] == objects["herokumigrate_awx_cutover_job_template"]["name"]


# -- the playbooks --------------------------------------------------------------------------------
@pytest.fixture(scope="module", name="awx_stub")
def awx_stub_fixture(tmp_path_factory):
    """A collections tree holding the awx.awx stand-ins, searched before build/collections."""
    return write_stub_collections(tmp_path_factory.mktemp("awx-stub"))


def ansible(command: str, *args, collections: str, extra_env=None, check=True):
    from tests.helpers import ensure_collection_link

    ensure_collection_link()
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=collections,
        ANSIBLE_CONFIG=str(ROOT / "tests" / "ansible.cfg"),
        ANSIBLE_FORCE_COLOR="0",
        **(extra_env or {}),
    )
    result = subprocess.run(
        [str(BIN / command), *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if check:
        assert result.returncode == 0, "%s %s failed:\n%s\n%s" % (
            command,
            " ".join(map(str, args)),
            result.stdout,
            result.stderr,
        )
    return result


def test_project_playbooks_pass_syntax_check():
    playbooks = [PROJECT / name for name in ("plan.yml", "migrate.yml", "verify.yml")]
    result = ansible("ansible-playbook", "--syntax-check", "-i", "localhost,", *playbooks, collections=str(COLLECTIONS))
    assert result.stdout.count("playbook: ") == 3, result.stdout


def test_configure_playbook_passes_syntax_check(awx_stub):
    ansible(
        "ansible-playbook", "--syntax-check", AWX / "configure-awx.yml", collections="%s:%s" % (awx_stub, COLLECTIONS)
    )


def test_configure_playbook_uses_only_awx_modules_and_their_options():
    (play,) = load(AWX / "configure-awx.yml")
    assert play["hosts"] == "localhost" and play["vars_files"] == ["objects.yml"]
    for task in play["tasks"]:
        modules = [k for k in task if k.startswith("awx.awx.")]
        assert len(modules) == 1, task["name"]
        name = modules[0].split(".", 2)[2]
        assert set(task[modules[0]]) <= AWX_MODULE_OPTIONS[name], (
            task["name"],
            sorted(set(task[modules[0]]) - AWX_MODULE_OPTIONS[name]),
        )


def run_configure(awx_stub, tmp_path, *extra):
    log = tmp_path / "awx-calls.jsonl"
    secrets = [
        "-e",
        "herokumigrate_heroku_api_key=" + HEROKU_SECRET,
        "-e",
        "herokumigrate_northflank_api_token=" + NORTHFLANK_SECRET,
    ]
    result = ansible(
        "ansible-playbook",
        AWX / "configure-awx.yml",
        *secrets,
        *extra,
        "-v",
        collections="%s:%s" % (awx_stub, COLLECTIONS),
        extra_env={"AWX_STUB_LOG": str(log)},
    )
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return result, calls


def by_module(calls, module):
    return [c["params"] for c in calls if c["module"] == module]


def test_configure_playbook_creates_the_definitions(awx_stub, tmp_path, objects, credential_types):
    result, calls = run_configure(awx_stub, tmp_path)
    output = result.stdout + result.stderr
    assert HEROKU_SECRET not in output and NORTHFLANK_SECRET not in output
    # the injector templates reach AWX as written: AWX renders them, not Ansible
    assert by_module(calls, "credential_type") == credential_types
    credentials = {c["name"]: c for c in by_module(calls, "credential")}
    assert credentials["Heroku API key"]["inputs"] == {"api_key": HEROKU_SECRET}
    assert credentials["Northflank API token"]["inputs"] == {"api_token": NORTHFLANK_SECRET}
    templates = by_module(calls, "job_template")
    assert [t["name"] for t in templates] == [t["name"] for t in objects["herokumigrate_awx_job_templates"]]
    for template in templates:
        assert template["credentials"] == ["Heroku API key", "Northflank API token"]
        assert template["execution_environment"] == objects["herokumigrate_awx_execution_environment"]["name"]
        assert template["project"] == objects["herokumigrate_awx_project"]["name"]
    assert [s["rrule"] for s in by_module(calls, "schedule")] == [
        s["rrule"] for s in objects["herokumigrate_awx_schedules"]
    ]
    (workflow,) = by_module(calls, "workflow_job_template")
    assert workflow["workflow_nodes"] == objects["herokumigrate_awx_workflow"]["workflow_nodes"]
    assert by_module(calls, "workflow_job_template_node") == [], "the cut-over stays out while it is pending"
    (source,) = by_module(calls, "inventory_source")
    assert source["source_path"] == "inventory/herokumigrate.heroku.yml" and source["credential"] == "Heroku API key"


def test_configure_playbook_adds_the_cut_over_when_enabled(awx_stub, tmp_path, objects):
    calls = run_configure(awx_stub, tmp_path, "-e", "herokumigrate_awx_cutover=true")[1]
    assert by_module(calls, "job_template")[-1]["playbook"] == "cutover.yml"
    created, linked = by_module(calls, "workflow_job_template_node")
    assert created["identifier"] == "cut-over" and created["unified_job_template"] == "herokumigrate cut-over"
    assert linked["identifier"] == "verify" and linked["success_nodes"] == ["cut-over"]

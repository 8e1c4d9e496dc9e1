#!/usr/bin/env bash
# `make release-changelog`: release the changelog of the version in galaxy.yml, once, after every change of the
# release is merged. The fragments in changelogs/fragments/ become the release's entry in changelogs/changelog.yaml
# and CHANGELOG.rst, and are deleted (changelogs/config.yaml: keep_fragments: false); antsibull-changelog also lists
# the modules and plugins whose version_added is this version as new. Commit the result, fragments' deletion included.
#
# Refuses to run when the version is already released (bump galaxy.yml's version first, and the user agent in
# plugins/module_utils/api.py with it, see tests/unit/test_collection_metadata.py) or when there is no fragment.
#
# Usage: tools/release-changelog.sh [YYYY-MM-DD]   (the release date; default today)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=$ROOT/.venv/bin
# antsibull-changelog finds the collection's plugins with ansible-doc, through the tree `make venv` links.
export ANSIBLE_COLLECTIONS_PATH=$ROOT/build/collections
export PATH=$BIN:$PATH
test -e "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/herokumigrate/northflank" || {
  echo "run \`make venv\` first (build/collections)" >&2; exit 1; }

VERSION=$("$BIN/python" -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
if "$BIN/python" - "$VERSION" <<'PY'
import sys, yaml
releases = yaml.safe_load(open("changelogs/changelog.yaml")).get("releases") or {}
sys.exit(0 if sys.argv[1] in releases else 1)
PY
then
  echo "version $VERSION is already released in changelogs/changelog.yaml; bump galaxy.yml's version first" >&2
  exit 1
fi
if ! compgen -G "changelogs/fragments/*.yml" > /dev/null && ! compgen -G "changelogs/fragments/*.yaml" > /dev/null; then
  echo "no changelog fragment in changelogs/fragments/: nothing to release" >&2
  exit 1
fi

DATE_ARGS=()
if [ $# -ge 1 ]; then DATE_ARGS=(--date "$1"); fi
antsibull-changelog lint
antsibull-changelog release --version "$VERSION" --reload-plugins "${DATE_ARGS[@]}"
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
# A cache of ansible-doc's output, rebuilt by --reload-plugins at every release: not worth keeping.
rm -f changelogs/.plugin-cache.yaml
echo "released $VERSION: commit changelogs/changelog.yaml, CHANGELOG.rst and the deleted fragments"

#!/usr/bin/env bash
# Install the system packages the tests need (git, PostgreSQL, Chromium for the HTML report's rendering test) when they are
# missing and we are root.
set -euo pipefail
missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  missing+=(chromium)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: please install ${missing[*]} (tests that need them will be skipped)" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null

# The two commands: `make demo` and `make test`. Each sets itself up on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# A collections tree in which this checkout is herokumigrate.northflank.
COLLECTIONS := build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/herokumigrate/northflank
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)
export ANSIBLE_CONFIG := $(CURDIR)/tests/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: all demo test unit integration integration-oldest venv-oldest contract sanity lint style build bench system-deps \
	release-changelog docsite clean

all: test

$(STAMP): tests/requirements.in tests/constraints.txt requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.in -c tests/constraints.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

venv: $(STAMP) $(COLLECTION_LINK)

# The oldest ansible-core the collection claims (meta/runtime.yml), in a venv of its own under build/ (so that
# sanity, lint and the galaxy build never see it), pinned in tests/constraints-oldest.txt. It runs a
# representative subset of the integration targets (the resource base class with check mode and diff, secret
# values, the largest module); the newest ansible-core (.venv) runs them all. OLDEST_TARGETS= runs every target.
OLDEST_VENV := build/venv-oldest
OLDEST_STAMP := $(OLDEST_VENV)/.installed
OLDEST_CORE := $(shell sed -n 's/^ansible-core==//p' tests/constraints-oldest.txt)
OLDEST_TARGETS ?= northflank_project,northflank_secret_group,northflank_service

$(OLDEST_STAMP): tests/constraints-oldest.txt requirements.txt
	test -x $(OLDEST_VENV)/bin/python || $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check ansible-core==$(OLDEST_CORE) \
		-r requirements.txt -c tests/constraints-oldest.txt
	touch $@

venv-oldest: $(OLDEST_STAMP) $(COLLECTION_LINK)

# PostgreSQL and git for the data and Git tests; installed only when running as root and missing.
system-deps:
	@bash tools/system-deps.sh

demo: venv
	$(BIN)/python tools/demo.py

# pytest-xdist: three workers on the CI's two cores (the tests wait on subprocesses and servers about a fifth of the
# time); a file stays on one worker, so the emulators and worlds a module fixture builds are built once
# (tests/conftest.py starts the heaviest files first).
PYTEST_PARALLEL ?= -n 3 --dist loadfile

test: venv venv-oldest system-deps
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) tests/integration tests/unit
	$(MAKE) --no-print-directory style integration-oldest sanity lint build

unit: venv
	$(BIN)/python -m pytest -q tests/unit

integration: venv venv-oldest
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) tests/integration

# The integration targets (tests/integration/test_targets.py) with the oldest ansible-core's ansible-playbook.
integration-oldest: venv venv-oldest
	HEROKUMIGRATE_ANSIBLE_BIN=$(CURDIR)/$(OLDEST_VENV)/bin HEROKUMIGRATE_ANSIBLE_CORE=$(OLDEST_CORE) \
		HEROKUMIGRATE_TARGETS=$(OLDEST_TARGETS) $(BIN)/python -m pytest -q tests/integration/test_targets.py

sanity: venv
	bash tools/sanity.sh

# The Python style (ruff.toml: pycodestyle and pyflakes, lines up to 120). Also a pre-commit hook.
style: venv
	$(BIN)/ruff check .

# awx.awx is not installed (and nothing is downloaded): ansible-lint resolves the awx.awx modules of
# docs/awx/configure-awx.yml, and checks their options, with the stand-ins of tests/awx_stub.py.
AWX_STUB := build/awx-stub

# ansible-lint, the changelog, and the documentation as Galaxy and docs.ansible.com render it (antsibull-docs: every
# plugin's and role's documentation, docs/docsite/ with extra-docs.yml, links.yml and the rst guides).
lint: venv
	$(BIN)/python -m tests.awx_stub $(AWX_STUB)
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(AWX_STUB):$(ANSIBLE_COLLECTIONS_PATH) $(BIN)/ansible-lint --profile production
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs --validate-collection-refs=dependent \
		--disallow-unknown-collection-refs .

# docs/docsite/rst/ from the Markdown guides (tools/docsite.py); tests/unit/test_docsite.py fails until it is rerun.
docsite: venv
	$(BIN)/python tools/docsite.py

# Once, when releasing: the changelog fragments become the release's entry in changelogs/changelog.yaml and CHANGELOG.rst.
release-changelog: venv
	bash tools/release-changelog.sh

build: venv
	mkdir -p build/dist
	$(BIN)/ansible-galaxy collection build --force --output-path build/dist .

# BENCH_SIZES=10,50 runs a subset of the fleet sizes (default 10,50,200); see tools/bench.py.
bench: venv
	$(BIN)/python tools/bench.py

# The fault, interruption and secret-hygiene suites at full length: 20 fault seeds, 20 kill points of the migration and
# every write of the cut-over, on two workers (pytest-xdist); `make test` runs 2 seeds and 2 kill points of each.
.PHONY: soak
soak: venv
	SOAK=1 $(BIN)/python -m pytest -q -n 2 --dist load tests/integration/test_faults.py tests/integration/test_interruptions.py \
		tests/integration/test_secret_hygiene.py tests/integration/test_cutover_interruptions.py

clean:
	rm -rf build .pytest_cache

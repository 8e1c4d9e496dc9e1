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

.PHONY: all demo test unit integration contract sanity lint style build bench system-deps clean

all: test

$(STAMP): tests/requirements.in tests/constraints.txt requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.in -c tests/constraints.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

venv: $(STAMP) $(COLLECTION_LINK)

# PostgreSQL and git for the data and Git tests; installed only when running as root and missing.
system-deps:
	@bash tools/system-deps.sh

demo: venv
	$(BIN)/python tools/demo.py

test: venv system-deps
	$(BIN)/python -m pytest -q tests/unit tests/integration
	$(MAKE) --no-print-directory sanity lint build

unit: venv
	$(BIN)/python -m pytest -q tests/unit

integration: venv
	$(BIN)/python -m pytest -q tests/integration

sanity: venv
	bash tools/sanity.sh

# The Python style (ruff.toml: pycodestyle and pyflakes, lines up to 120). Also a pre-commit hook.
style: venv
	$(BIN)/ruff check .

lint: venv
	$(BIN)/ansible-lint --profile production
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

build: venv
	mkdir -p build/dist
	$(BIN)/ansible-galaxy collection build --force --output-path build/dist .

# BENCH_SIZES=10,50 runs a subset of the fleet sizes (default 10,50,200); see tools/bench.py.
bench: venv
	$(BIN)/python tools/bench.py

clean:
	rm -rf build .pytest_cache

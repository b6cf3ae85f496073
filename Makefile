# Vitrine: `make run` starts everything with a demo brand; `make test` checks everything.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
# The suite runs in parallel, one worker per core (at most 4: each starts servers and
# Chromium). Each worker takes a contiguous run of tests (a module's fixtures start once)
# and an idle one takes work from the other's end, so a long test file does not finish alone.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n < 4 ? n : 4 )))
PYTEST_ARGS ?=
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal

.PHONY: messages compile-messages run test install lint format typecheck test-sqlite test-postgres browser-deps deploy-tools services migrate seed bench clean help

help:
	@echo "make run    - install, migrate, seed the demo brand, start web + media relay"
	@echo "make test   - install test needs (Chromium, nginx, coturn included), lint, type-check, run the suite on SQLite and PostgreSQL"
	@echo "make lint | format | typecheck | bench | clean"

$(BIN)/python:
	@command -v $(PY) >/dev/null || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,dev]'
	@# No longer a dependency, and Engine.IO would still pick it up (deploy/gunicorn.conf.py).
	-@$(BIN)/pip uninstall -y -q gevent-websocket 2>/dev/null
	@touch $(STAMP)

# Compiled catalogues (.mo) are built, never committed: the .po files are the source.
MO := $(patsubst %.po,%.mo,$(wildcard web/translations/*/LC_MESSAGES/messages.po))

install: $(STAMP) web/static/vendor/.stamp $(MO)

web/translations/%/LC_MESSAGES/messages.mo: web/translations/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel -q compile -d web/translations -l $*

compile-messages: $(MO)

# Extract every marked string and add the new ones to each language's catalogue.
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k N_ -k t -k tn:1,2 -o web/translations/messages.pot \
		--no-location --sort-output --project=Vitrine .
	$(BIN)/pybabel -q update -i web/translations/messages.pot -d web/translations \
		--no-fuzzy-matching --ignore-obsolete

web/static/vendor/.stamp: package.json package-lock.json
	scripts/vendor-assets
	@touch $@

migrate: install
	$(BIN)/vitrine migrate

seed: migrate
	$(BIN)/vitrine seed-demo --if-empty

run: seed
	VITRINE_ENV=$${VITRINE_ENV:-development} $(BIN)/vitrine run

browser-deps:
	scripts/ensure-chromium

deploy-tools:
	scripts/ensure-deploy-tools

services:
	scripts/ensure-services

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy sessions web streaming bench

test-sqlite: install browser-deps deploy-tools
	$(PYTEST) $(PYTEST_ARGS)

test-postgres: install browser-deps deploy-tools services
	TEST_DATABASE_URL=$(PG_TEST_URL) $(PYTEST) $(PYTEST_ARGS)

# The catalogues are compiled first (install builds the .mo files): a fresh clone has none.
test: install compile-messages browser-deps deploy-tools services lint typecheck
	$(PYTEST) $(PYTEST_ARGS)
	TEST_DATABASE_URL=$(PG_TEST_URL) $(PYTEST) $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/relay_bench.py
	$(BIN)/python bench/chat_fanout.py
	$(BIN)/python bench/hot_path.py
	$(BIN)/python bench/flash_sale.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache node_modules web/static/vendor

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

.PHONY: run test install lint format typecheck test-sqlite test-postgres browser-deps deploy-tools services migrate seed bench clean help

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

install: $(STAMP) web/static/vendor/.stamp

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

test: install browser-deps deploy-tools services lint typecheck
	$(PYTEST) $(PYTEST_ARGS)
	TEST_DATABASE_URL=$(PG_TEST_URL) $(PYTEST) $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/relay_bench.py
	$(BIN)/python bench/chat_fanout.py
	$(BIN)/python bench/hot_path.py
	$(BIN)/python bench/flash_sale.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache node_modules web/static/vendor

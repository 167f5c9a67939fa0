# Two commands for a newcomer: `make demo` and `make test`. Needs Python 3.12+ and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell for p in python3.13 python3.12 python3; do command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
UV ?= $(shell command -v uv 2>/dev/null || echo var/uv/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
DEMO_PORT ?= 8000
SANDBOX_PORT ?= 8010
SMTP_PORT ?= 8025
export UV_PYTHON_DOWNLOADS := never
# Local runs: debug settings, SQLite and the file-system Celery broker unless the caller says otherwise.
export DEBUG ?= 1

.PHONY: help install demo test test-fast lint format typecheck e2e bench load clean

help:
	@echo "make demo       run dashboard + worker + beat + Telnyx sandbox (Ctrl-C stops all)"
	@echo "make test       run the whole test suite (browser tests need /usr/bin/chromium)"
	@echo "make lint       ruff lint and format check, import rules;  make typecheck  mypy"
	@echo "make e2e        browser tests only;  make bench  benchmarks"
	@echo "make load       load test: Locust against gunicorn on PostgreSQL (DATABASE_URL) and Redis"

var/uv/bin/uv:
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (python3.13, python3.12 or python3 on PATH)."; exit 1; }
	$(PYTHON) -m venv var/uv
	var/uv/bin/pip install --quiet uv

$(BIN)/.installed: pyproject.toml uv.lock | $(UV)
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (python3.13, python3.12 or python3 on PATH)."; exit 1; }
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py telnyx_sandbox --seed 500 --write-customers var/demo-customers.csv
	$(BIN)/python manage.py setup_demo --port $(DEMO_PORT) --sandbox-port $(SANDBOX_PORT) --smtp-port $(SMTP_PORT)
	PATH="$(CURDIR)/$(BIN):$$PATH" DEMO_PORT=$(DEMO_PORT) SANDBOX_PORT=$(SANDBOX_PORT) SMTP_PORT=$(SMTP_PORT) $(BIN)/honcho -f Procfile.demo --env var/demo.env start

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

e2e: install
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy .

# Each benchmark on SQLite, then (scripts that use a database) on PostgreSQL when
# BENCH_DATABASE_URL, or a DATABASE_URL naming a PostgreSQL server, is set.
BENCH_PG := $(or $(BENCH_DATABASE_URL),$(filter postgres%,$(DATABASE_URL)))
bench: install
	@for script in bench/[!_]*.py; do \
	  echo "== $$script (SQLite)"; env -u DATABASE_URL $(BIN)/python $$script || exit 1; \
	  if [ -n "$(BENCH_PG)" ] && grep -q _throwaway_db $$script; then \
	    echo "== $$script (PostgreSQL)"; DATABASE_URL="$(BENCH_PG)" $(BIN)/python $$script || exit 1; \
	  fi; \
	done

# The load test (not part of `make test` or CI): gunicorn, Locust headless on loopback, a
# throwaway database on the PostgreSQL server of BENCH_DATABASE_URL or DATABASE_URL, and
# REDIS_URL as the cache. LOAD_ARGS e.g. "--gunicorn 2x4,3x2 --duration 30".
load: install
	@test -n "$(BENCH_PG)" || { echo "make load needs DATABASE_URL (or BENCH_DATABASE_URL) naming a PostgreSQL server."; exit 1; }
	DATABASE_URL="$(BENCH_PG)" $(BIN)/python bench/load/run.py $(LOAD_ARGS)

clean:
	rm -rf var $(VENV)

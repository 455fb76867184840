# leadops — the two commands of the README are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run demo serve test test-unit lint bench clean i18n

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

## Build the demo database on SQLite when there is none, then serve the app.
run: install
	@if [ ! -f leadops.db ]; then $(BIN)/leadops demo; else echo "Using the existing leadops.db (delete it to rebuild the demo)."; fi
	$(BIN)/leadops serve --host $(HOST) --port $(PORT)

demo: install
	$(BIN)/leadops demo --force

## Lint, then every test: SQLite always, PostgreSQL when it is reachable.
test: install lint
	@bash scripts/browser.sh
	@bash scripts/test.sh

test-unit: install
	$(BIN)/pytest -q tests/unit

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

## Add new strings of the web app to the ja/en catalogs (translations already made are kept).
i18n: install
	$(BIN)/python -c "from leadops.web.i18n import update_catalogs; print('untranslated:', update_catalogs())"

bench: install
	$(BIN)/leadops bench all

clean:
	rm -rf $(VENV) leadops.db leadops.db-wal leadops.db-shm .pytest_cache .mypy_cache .ruff_cache

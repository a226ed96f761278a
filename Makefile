# Two entry points for a newcomer: `make run` and `make test`. Everything else is detail.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup lint demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/passnum demo

## Set up, migrate, load the demo data and serve on http://localhost:8000 (SQLite, no accounts).
run: demo
	$(BIN)/passnum serve

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## Set up and run the whole test suite (database tests also on PASSNUM_TEST_DATABASE_URL).
test: setup lint
	$(BIN)/pytest -q

bench: setup
	$(BIN)/passnum bench

clean:
	rm -rf $(VENV) passnum.db passnum.db-wal passnum.db-shm

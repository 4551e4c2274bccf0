# Developer and CI entry points. Only python3 (>= 3.11) and make are assumed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test unit integration bench lint typecheck check clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tipline needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tipline run

test: $(STAMP)
	scripts/system-deps
	$(BIN)/python -m pytest -q tests

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

integration: $(STAMP)
	scripts/system-deps
	$(BIN)/python -m pytest -q tests/integration

# Figures are printed and kept in benchmarks/results/<name>.txt (not committed: they are this
# machine's, not the project's).
bench: $(STAMP)
	@mkdir -p benchmarks/results
	@set -o pipefail; for b in benchmarks/bench_*.py; do \
		echo "== $$b"; $(BIN)/python $$b | tee benchmarks/results/$$(basename $$b .py).txt || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .tipline .pytest_cache .mypy_cache .ruff_cache

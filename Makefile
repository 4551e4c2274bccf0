# Developer and CI entry points. Only python3 (>= 3.11) and make are assumed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test unit integration bench lint typecheck check clean test-kafka kafka-jars

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

# The Apache Kafka tier: the integration suite and tests/kafka on a real 3-node KRaft cluster
# (tests/kafka/cluster.py). Needs Java 17 and Maven; the broker jars come from Maven Central
# into .cache/kafka-jars (not committed).
KAFKA_JARS := .cache/kafka-jars
$(KAFKA_JARS)/.fetched: tests/kafka/pom.xml
	@command -v java >/dev/null || { echo "make test-kafka needs Java 17: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
	@command -v mvn >/dev/null || { echo "make test-kafka needs Maven: apt-get install maven" >&2; exit 1; }
	rm -rf $(KAFKA_JARS)
	mvn -q -f tests/kafka/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(KAFKA_JARS)
	touch $@

kafka-jars: $(KAFKA_JARS)/.fetched

test-kafka: $(STAMP) $(KAFKA_JARS)/.fetched
	TIPLINE_TEST_BROKER=apache $(BIN)/python -m pytest -q tests/integration tests/kafka
	@! pgrep -f '$(CURDIR)/[.]cache/kafka-jars/.* kafka[.]Kafka' >/dev/null || { echo "Kafka JVMs left running:" >&2; pgrep -af '$(CURDIR)/[.]cache/kafka-jars/.* kafka[.]Kafka' >&2; exit 1; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .tipline .pytest_cache .mypy_cache .ruff_cache

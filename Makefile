# The two commands of the README: `make demo` and `make test`. Everything else is a step of theirs.
# Setup is idempotent: the venv is rebuilt only when requirements.lock or pyproject.toml change,
# the jars are fetched only when missing or failing their checksum.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

.PHONY: setup demo airflow dashboard bench test test-fast lint format lock jars chromium clean-data

setup: $(STAMP) jars

$(STAMP): requirements.lock pyproject.toml
	@echo "== setting up $(VENV) from requirements.lock"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	@$(BIN)/uv pip sync -q --python $(BIN)/python requirements.lock
	@$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

jars: $(STAMP)
	@$(BIN)/python -m clickstream.spark.jars

# Airflow standalone (SQLite, LocalExecutor) runs clickstream_streaming once, then stops.
demo: setup
	@$(BIN)/clickstream airflow demo

# The Airflow UI (and scheduler) on http://localhost:8080 until Ctrl-C.
airflow: setup
	@$(BIN)/clickstream airflow up

# The live dashboard on http://localhost:8501 until Ctrl-C (no Spark: it reads the Delta tables).
dashboard: setup
	@$(BIN)/clickstream dashboard

# The dashboard's browser test drives Debian's chromium through chromium-driver (as root, as CI is).
chromium:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { \
		echo "== installing chromium and chromium-driver (apt)"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends chromium chromium-driver; }

test: setup chromium
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/lint-imports --no-cache
	@$(BIN)/pytest -n 2 --dist loadgroup

# The everyday lane: lint and every test but the slow ones (Airflow, Spark jobs as processes, kills,
# the browser, minute-long drains; tests/conftest.py lists them). make test runs them all.
test-fast: setup
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/lint-imports --no-cache
	@$(BIN)/pytest -n 2 --dist loadgroup -m "not slow"

# Benchmarks into bench/results/ (BENCH_ARGS=--quick: every part at a smaller size).
bench: setup
	@$(BIN)/clickstream bench $(BENCH_ARGS)

# Style, format, and the layering rule (the import contracts in pyproject.toml).
lint: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/lint-imports --no-cache

format: $(STAMP)
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

# Re-resolve the whole dependency set after editing pyproject.toml.
lock: $(STAMP)
	@$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		-o requirements.lock --custom-compile-command "make lock" -q

clean-data:
	rm -rf data/raw data/bronze data/silver data/quarantine data/gold data/checkpoints data/metrics

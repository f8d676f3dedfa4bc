# Vitrine: `make run` serves the demo catalog, `make test` runs the whole suite.
# Both create the virtualenv (.venv, with uv) on first use; nothing else needs installing.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.9
PORT ?= 8000
export PORT
MANAGE := $(BIN)/python manage.py

.PHONY: run test lint fmt bench fuzz venv migrate demo worker clean browsers wrk

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --python $(BIN)/python
	@touch $@

venv: $(VENV)/.synced

migrate: venv
	$(MANAGE) migrate --noinput

demo: migrate
	$(MANAGE) load_demo

# The web server and two task workers (builds; predictions and everything else), so a
# long build never holds up a prediction. Ctrl-C stops them all, and their Cog processes.
run: demo
	@echo "Vitrine on http://127.0.0.1:$(PORT)/ (API at /v1/, admin at /admin/)"
	@trap 'kill 0' EXIT; \
	$(MANAGE) runworker --queue-name builds --interval 0.5 & \
	$(MANAGE) runworker --queue-name predictions,webhooks,search,default --interval 0.05 & \
	$(MANAGE) runserver 127.0.0.1:$(PORT)

worker: venv
	$(MANAGE) runworker --queue-name '*' --interval 0.1

# Debian's Chromium for the browser tests (never a downloaded browser).
browsers:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

# Debian's wrk, the load generator of the API benchmarks (bench/bench_api.py).
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		echo "Installing Debian's wrk for the benchmarks"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq wrk; fi; }

test: venv browsers
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(MANAGE) makemigrations --check --dry-run

fmt: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Schemathesis against /v1/openapi.json on a live server, with many more generated cases per
# operation than the suite's run (VITRINE_FUZZ_EXAMPLES=N to choose).
fuzz: venv
	VITRINE_FUZZ_EXAMPLES=$${VITRINE_FUZZ_EXAMPLES:-500} $(BIN)/python -m pytest \
		tests/registry/api/test_fuzz_openapi.py -s -q $(PYTEST_ARGS)

bench: venv wrk
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

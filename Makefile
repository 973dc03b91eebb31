# Two commands: `make serve` runs the product, `make test` runs every test.
# Both install what they need first and are fast when already set up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp-install
BEACON_SRC := $(wildcard js-beacon/package.json js-beacon/package-lock.json js-beacon/src/*.ts js-beacon/src/*/*.ts js-beacon/scripts/*)
DASHBOARD_SRC := $(wildcard dashboard/package.json dashboard/package-lock.json dashboard/tsconfig.json dashboard/src/* dashboard/scripts/*)

.PHONY: serve test install beacon dashboard system-deps lint typecheck pytest js-test bench bench-deps clean

serve: install beacon dashboard
	$(BIN)/rum serve

test: install beacon dashboard system-deps lint typecheck js-test pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# The browser agent: built when its sources change (needs node + npm).
beacon: js-beacon/dist/rum.js

js-beacon/dist/rum.js: $(BEACON_SRC)
	@if [ -f js-beacon/package.json ]; then \
	  cd js-beacon && npm ci --no-audit --no-fund --loglevel=error && npm run build; \
	else echo "js-beacon not present yet: skipping"; fi

# The built-in dashboard served at / (needs node + npm): typechecked and built when its sources change.
dashboard: dashboard/dist/dashboard.js

dashboard/dist/dashboard.js: $(DASHBOARD_SRC)
	cd dashboard && npm ci --no-audit --no-fund --loglevel=error && npm run typecheck && npm run build

# Debian's chromium for the real-browser tests and docker-compose to parse the stack
# file (only installable as root).
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null; \
	  else echo "warning:$$missing missing and not root: browser and compose tests will fail"; fi; \
	fi

lint: install
	$(BIN)/ruff check collector pipeline queries rollups cli alerts grafana demo tests bench

typecheck: install
	$(BIN)/mypy

js-test: beacon
	@if [ -f js-beacon/package.json ]; then cd js-beacon && npm test && npm run size; fi

pytest: install
	$(BIN)/pytest -q

# wrk (the load generator) and taskset (pinning) for the intake and pipeline benches
bench-deps:
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null; \
	  else echo "warning: wrk missing and not root: apt-get install wrk"; fi; }

bench: install beacon bench-deps
	$(BIN)/python bench/intake_bench.py

clean:
	rm -rf $(VENV) js-beacon/node_modules js-beacon/dist dashboard/node_modules dashboard/dist .rum-data

# Lead Cleanser: the two set-up commands are `make up` and `make test`.
SHELL := /bin/bash
UV_VERSION := 0.13.9
BOOTSTRAP := .local/bootstrap
UV := $(BOOTSTRAP)/bin/uv
VENV := .venv
RUN := $(UV) run --frozen --no-sync

.PHONY: install system-deps up down test lint typecheck unit integration bench clean faults

$(BOOTSTRAP)/bin/uv:
	python3 -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install --quiet uv==$(UV_VERSION)

install: $(UV) ## the workspace and every package, from the lock file
	$(UV) sync --all-packages --frozen --quiet

system-deps: ## Debian packages the tests need: SIPp and Chromium
	@bash scripts/install-system-deps.sh

up: install ## start the whole system locally (no Docker)
	$(RUN) lc-stack up

down: ## stop everything `make up` started
	@if [ -x $(VENV)/bin/lc-stack ]; then $(RUN) lc-stack down; else echo "nothing to stop"; fi

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: install
	$(RUN) mypy libs/common/src libs/sip/src services/*/src sim/carrier/src tools/localstack/src clients/leadcleanser/src

test: install system-deps lint typecheck ## install everything, lint, type-check, run every test
	$(RUN) pytest -q -p no:cacheprovider

unit: install
	$(RUN) pytest -q tests/unit

bench: install system-deps ## benchmarks: print their figures
	@for b in bench/*.py; do echo "== $$b"; $(RUN) python $$b || exit 1; done

clean: down
	rm -rf .local $(VENV)

faults: install ## the fault-injection suite, quick and long faults (tests/faults/README.md)
	$(RUN) pytest -q -p no:cacheprovider -m "faults or faults_long" tests/faults

# The two commands: `make run` (demo server) and `make test` (lint, types, tests on SQLite and, when
# SUPERAPP_TEST_POSTGRES_URL is set, again on PostgreSQL, then Apollo Client and urql against a production-mode
# server from tests/js with Node.js). Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
JS := tests/js

.PHONY: run test lint typecheck pytest jstest venv clean bench

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml examples/superapp-example-library/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet -e examples/superapp-example-library
	touch $@

run: venv
	$(BIN)/superapp migrate
	$(BIN)/superapp seed
	@echo
	@echo "GraphiQL:           http://$(HOST):$(PORT)/graphql"
	@echo "Demo citizen token (send as 'Authorization: Bearer <token>'):"
	@$(BIN)/superapp token --demo 2>/dev/null | tail -n 1
	@echo "Agency sandboxes advance dossiers every $${SUPERAPP_SANDBOX_ADVANCE_SECONDS:-10} s."
	@echo "Sandbox payment gateway: test cards 4111111111111111 (confirms), 4000000000000002 (declines),"
	@echo "  4000000000000119 (never answers); payDossierFee answers the page to post one to (README, Payments)."
	@echo
	@echo "Pushes arrive at the FCM stand-in: http://127.0.0.1:$${SUPERAPP_STANDIN_FCM_PORT:-8110}/_control/received"
	@echo
	SUPERAPP_SANDBOX_CALLBACK_URL=http://$(HOST):$(PORT) $(BIN)/superapp sandbox & SANDBOX=$$!; \
	$(BIN)/superapp standins & STANDINS=$$!; \
	$(BIN)/superapp worker & WORKER=$$!; \
	trap 'kill $$SANDBOX $$STANDINS $$WORKER 2>/dev/null' EXIT INT TERM; \
	$(BIN)/superapp serve --host $(HOST) --port $(PORT)

lint: venv
	$(BIN)/ruff check .

typecheck: venv
	$(BIN)/mypy

pytest: venv
	@echo "== tests on SQLite =="
	env -u SUPERAPP_DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)
	@if [ -n "$$SUPERAPP_TEST_POSTGRES_URL" ]; then \
		echo "== tests on PostgreSQL =="; \
		SUPERAPP_DATABASE_URL="$$SUPERAPP_TEST_POSTGRES_URL" $(BIN)/pytest $(PYTEST_ARGS); \
	else \
		echo "(SUPERAPP_TEST_POSTGRES_URL not set: PostgreSQL run skipped)"; \
	fi

# Standard clients (tests/js): installed with `npm ci` from the pinned lock file when missing or stale.
# Without Node.js the tests are skipped with the reason, except in CI (CI=true), where they must run.
jstest: venv
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		if [ "$$CI" = true ]; then echo "tests/js: node and npm are required in CI" >&2; exit 1; fi; \
		echo "(node/npm not found: the Apollo Client and urql tests in $(JS) are skipped; install Node.js >= 20)"; \
	else \
		echo "== standard clients (Node.js $$(node --version)) =="; \
		if [ ! -f $(JS)/node_modules/.installed ] || [ $(JS)/package-lock.json -nt $(JS)/node_modules/.installed ]; then \
			(cd $(JS) && npm ci --no-audit --no-fund --loglevel=error) && touch $(JS)/node_modules/.installed || exit 1; \
		fi; \
		cd $(JS) && SUPERAPP_BIN="$(CURDIR)/$(BIN)/superapp" node --test --test-concurrency=1; \
	fi

test: lint typecheck pytest jstest

# Every benchmark in bench/, in turn (about 2-3 minutes; SUPERAPP_DATABASE_URL=postgresql+... runs them on that
# database, dropping its public schema). Figures and how to read them: docs/BENCHMARKS.md.
bench: venv
	$(BIN)/python -m bench.sync
	$(BIN)/python bench/notifications.py --events 200
	$(BIN)/python bench/abuse.py --seconds 20

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis $(JS)/node_modules

# Two commands do all set-up: `make run` (the app) and `make test` (lint + tests).
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export ANONYMIZED_TELEMETRY ?= False
export GRADIO_ANALYTICS_ENABLED ?= False

.PHONY: install models index run eval test test-slow lint browser-deps server-deps serve-multi clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

models: install
	$(BIN)/assistant models prepare

index: models
	$(BIN)/assistant index --if-missing

run: index
	$(BIN)/python app.py

# One machine, several processes: a Chroma server, PostgreSQL for feedback and 2 app processes (UI +
# POST /api/ask on 7861, 7862); README 「複数プロセス・複数台での運用」. Ctrl-C stops them all.
serve-multi: models server-deps
	$(BIN)/python -m assistant.serve_multi --apps 2

lint: install
	$(BIN)/ruff check assistant tests app.py eval

# Debian's Chromium, CJK fonts and LibreOffice Impress (the slide-deck PDF) for the browser
# tests (as root, where apt-get exists).
BROWSER_PKGS := chromium fonts-noto-cjk libreoffice-impress
browser-deps:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/soffice ] && fc-list 2>/dev/null | grep -qi "noto sans cjk"; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		(apt-get install -y -q --no-install-recommends $(BROWSER_PKGS) >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends $(BROWSER_PKGS) >/dev/null)) \
		|| echo "warning: could not install $(BROWSER_PKGS); the browser tests will skip"; \
	else echo "note: chromium/soffice not installed (needs root + apt-get); the browser tests will skip"; fi

# Debian's PostgreSQL server binaries for tests/test_feedback_postgres.py (tests/pg_server.py starts a
# private server on a loopback port; no cluster is configured). As root, where apt-get exists.
server-deps:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		(apt-get install -y -q --no-install-recommends postgresql >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends postgresql >/dev/null)) \
		|| echo "warning: could not install postgresql; the PostgreSQL tests will skip"; \
	else echo "note: PostgreSQL server binaries not installed (needs root + apt-get); the PostgreSQL tests will skip"; fi

# Regression gate on the public QA set (eval/qa.jsonl vs eval/baseline.json and eval/thresholds.json).
eval: index
	$(BIN)/assistant eval

test: models index lint browser-deps server-deps eval
	$(BIN)/python -m pytest

test-slow: models index
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf $(VENV) models
	find index -mindepth 1 ! -name README.md -exec rm -rf {} +

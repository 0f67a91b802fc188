# Two commands do all set-up: `make run` (the app) and `make test` (lint + tests).
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export ANONYMIZED_TELEMETRY ?= False
export GRADIO_ANALYTICS_ENABLED ?= False

.PHONY: install models index run test test-slow lint browser-deps clean

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

lint: install
	$(BIN)/ruff check assistant tests app.py eval

test: models lint
	$(BIN)/python -m pytest

test-slow: models
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf $(VENV) index/chroma* index/manifest* models

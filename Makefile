# riskkit — the front door. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE ?= data/sample

.PHONY: help install demo test test-fast lint format lab bench sample clean

help: ## list targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml tests/axe/package-lock.json
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/axe --no-audit --no-fund --silent; \
	 else echo "npm not found: the browser tests' accessibility checks need it (axe-core)"; fi
	@touch $(STAMP)

install: $(STAMP) ## create .venv (python3 -m venv) and install riskkit with test and bench extras

demo: $(STAMP) ## run the latest complete cycle of the embedded sample; prints the path of index.html
	$(BIN)/riskkit summary $(SAMPLE)
	@$(BIN)/riskkit run --cycle latest --data $(SAMPLE) --out reports > .demo-index
	@echo "open: $$(cat .demo-index)"; rm -f .demo-index

test: $(STAMP) ## lint, then the whole test suite (2 workers; a notebook's cells stay on one worker)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15 \
		--nbval-lax --nbval-sanitize-with notebooks/nbval_sanitize.cfg tests notebooks

test-fast: $(STAMP) ## the tests without browsers, notebooks or slow runs (seconds, for the edit loop)
	$(BIN)/python -m pytest -n 2 -m "not browser and not notebook and not slow and not spark" tests

lint: $(STAMP) ## ruff check and format check only
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

lab: $(STAMP) ## open JupyterLab on notebooks/
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP) ## run the benchmarks (medians and ratios; slow)
	$(BIN)/python benchmarks/run.py

sample: $(STAMP) ## regenerate the committed sample pack (deterministic)
	$(BIN)/riskkit sample --out $(SAMPLE) --overwrite

clean: ## remove caches and generated reports (keeps .venv)
	rm -rf .pytest_cache .ruff_cache .hypothesis reports build dist test-artifacts .bench
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

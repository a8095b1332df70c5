# parley: `make train` and `make test` work on a fresh clone with Python 3.11.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV_DATA := ../shared/corpora/realnews-dev.jsonl

.PHONY: help train test test-all lint format clean

help:
	@echo "make train     create .venv, build the dataset, train + evaluate the default models"
	@echo "make test      create .venv and run the fast test suite"
	@echo "make test-all  also the slow tests (real encoder)"
	@echo "make lint      ruff check + format check"
	@echo "make format    ruff format + autofix"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,export,ray,distributed]'
	touch $(STAMP)

train: $(STAMP)
	$(BIN)/parley build-data configs/baseline.yaml
	$(BIN)/parley train configs/baseline.yaml --overwrite
	$(BIN)/parley train configs/minilm.yaml --overwrite
	$(BIN)/parley compare runs/baseline runs/minilm --data runs/datasets/corpus --report runs/compare-test
	@if [ -f $(DEV_DATA) ]; then \
	  $(BIN)/parley compare runs/baseline runs/minilm --data $(DEV_DATA) --report runs/compare-realnews-dev; \
	else echo "($(DEV_DATA) not found: skipping the real-news comparison)"; fi

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m "slow or not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf runs .pytest_cache .ruff_cache

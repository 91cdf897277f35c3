# Two front doors: `make demo` (set up, scan the bundled sample posts) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint setup setup-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install -q -e .

setup-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

demo: setup
	$(BIN)/qinglang scan --sample -o sample-verdicts.jsonl

test: setup-test
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/python -m pytest -q

lint: setup-test
	$(BIN)/ruff check src tests benchmarks scripts

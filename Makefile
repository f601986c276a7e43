# The two commands that matter: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/deskpulse demo $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not integration" $(ARGS)

bench: $(STAMP)
	$(BIN)/deskpulse bench $(ARGS)

clean:
	rm -rf $(VENV) .deskpulse .pytest_cache .hypothesis

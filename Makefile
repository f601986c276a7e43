# The two commands that matter: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS := $(VENV)/.tools
# Debian packages the tests use: promtool (prometheus) checks the alert rules;
# chromium and its chromedriver load the dashboard page.
DEBS := prometheus chromium chromium-driver

.PHONY: setup demo test test-unit lint bench bench-live bench-reports bench-gaps chaos screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

$(TOOLS): $(STAMP)
	@command -v promtool >/dev/null && command -v chromedriver >/dev/null || { export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq --no-install-recommends $(DEBS) >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $(DEBS); }; }
	touch $(TOOLS)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/deskpulse demo $(ARGS)

# Layers and style first (seconds), then every test.
test: $(TOOLS) lint
	$(BIN)/python -m pytest -q -p no:cacheprovider $(ARGS)

# Pure logic only: no broker, no ClickHouse, no Debian tools.
test-unit: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m unit tests/unit $(ARGS)

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/deskpulse bench $(ARGS)

bench-live: $(STAMP)
	$(BIN)/deskpulse bench-live $(ARGS)

bench-reports: $(STAMP)
	$(BIN)/deskpulse bench-reports $(ARGS)

bench-gaps: $(STAMP)
	$(BIN)/deskpulse bench-gaps $(ARGS)

# kill -9 under load, many times; prints chaos: kills=K events=N lost=0 duplicated=0 ...
chaos: $(STAMP)
	$(BIN)/deskpulse chaos $(ARGS)

# Refreshes docs/dashboard.png (tests never write tracked files).
screenshots: $(TOOLS)
	DESKPULSE_SCREENSHOT=$(CURDIR)/docs/dashboard.png DESKPULSE_REPORTS_SCREENSHOT=$(CURDIR)/docs/reports.png \
	  $(BIN)/python -m pytest -q -p no:cacheprovider tests/e2e/test_dashboard.py tests/e2e/test_reports_page.py

clean:
	rm -rf $(VENV) .deskpulse .pytest_cache .hypothesis

# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run    - install into .venv and run the default scenario
#   make test   - install into .venv (with test extras) and run the whole test suite
#   make dashboard - the classroom dashboard on http://127.0.0.1:8521 (ARGS="--host 0.0.0.0" opens it)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
SUM    := $(shell cksum pyproject.toml | cut -d' ' -f1)
BASE   := $(VENV)/.installed-base-$(SUM)
STAMP  := $(VENV)/.installed-test-$(SUM)

ASSETS := $(VENV)/share/solara/cdn/.complete
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench clean dashboard system-deps

# NegMAS (a test dependency, for the cross-check) ships a command also named `negotiate`:
# reinstalling this package last, without dependencies, keeps ours on the PATH.
$(BASE): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	rm -f $(VENV)/.installed-base-* && touch $@

$(STAMP): $(BASE)
	$(BIN)/python -m pip install -q -e ".[test]"
	$(BIN)/python -m pip install -q --no-deps --force-reinstall -e .
	rm -f $(VENV)/.installed-test-* && touch $@

run: $(BASE)
	$(BIN)/negotiate $(ARGS)

test: $(STAMP) $(ASSETS) system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# the dashboard's front-end files, fetched once with npm into the venv (the page then needs no internet)
$(ASSETS): $(STAMP)
	command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends npm; }
	$(BIN)/negotiate-dashboard --install-assets && touch $@

# Debian's chromium for the browser tests (playwright drives it; it cannot download browsers here)
system-deps:
	command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; }

dashboard: $(STAMP) $(ASSETS)
	$(BIN)/negotiate-dashboard $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks experiments

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache

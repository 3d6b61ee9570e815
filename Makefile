# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run    - install into .venv and run the default scenario
#   make test   - install into .venv (with test extras) and run the whole test suite
#   make dashboard - the classroom dashboard on http://127.0.0.1:8521 (ARGS="--host 0.0.0.0" opens it)
#   make docs   - build the documentation site into site/ (mkdocs build --strict)
#   make lab    - JupyterLab on notebooks/
# Every target installs the exact versions pinned in uv.lock (with uv, itself pinned below);
# pyproject.toml keeps the ranges for installing the package into another environment.
# After changing a dependency in pyproject.toml, `make lock` renews uv.lock.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8
UV     := $(BIN)/uv
SUM    := $(shell cat pyproject.toml uv.lock | cksum | cut -d' ' -f1)
BASE   := $(VENV)/.installed-base-$(SUM)
STAMP  := $(VENV)/.installed-test-$(SUM)
DASH   := $(VENV)/.installed-dashboard-$(SUM)
DOCS   := $(VENV)/.installed-docs-$(SUM)
LAB    := $(VENV)/.installed-notebooks-$(SUM)
ASSETS := $(VENV)/share/solara/cdn/.complete-$(SUM)
# --locked: stop if uv.lock no longer matches pyproject.toml; --inexact: keep what other targets installed
SYNC   := UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --inexact --no-python-downloads --python $(BIN)/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-fast lint bench clean dashboard docs lab lock system-deps

$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "uv==$(UV_VERSION)"

$(BASE): pyproject.toml uv.lock | $(UV)
	$(SYNC)
	rm -f $(VENV)/.installed-base-* && touch $@

# NegMAS (a test dependency, for the cross-check) ships a command also named `negotiate`:
# reinstalling this package last, without dependencies, keeps ours on the PATH.
$(STAMP): $(BASE)
	$(SYNC) --extra test
	$(UV) pip install -q --python $(BIN)/python --no-deps --reinstall-package negotiation-sim -e .
	rm -f $(VENV)/.installed-test-* && touch $@

# the dashboard extra carries the page's front-end files (solara-assets), not the test extra
$(DASH): $(BASE)
	$(SYNC) --extra dashboard
	rm -f $(VENV)/.installed-dashboard-* && touch $@

# The page then needs no internet. Solara asks for the charts' libraries by major version
# (vega@5, vega-lite@5, vega-embed@6), which solara-assets does not hold under those names:
# those few are fetched once with npm into the venv (only if missing).
$(ASSETS): $(DASH)
	$(BIN)/python -c "from sim.app import missing_assets as m; raise SystemExit(bool(m()))" || { \
	  command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends npm; }; \
	  $(BIN)/negotiate-dashboard --install-assets; }
	rm -f $(VENV)/share/solara/cdn/.complete-* && touch $@

$(DOCS): $(BASE)
	$(SYNC) --extra docs
	rm -f $(VENV)/.installed-docs-* && touch $@

$(LAB): $(BASE)
	$(SYNC) --extra notebooks
	rm -f $(VENV)/.installed-notebooks-* && touch $@

run: $(BASE)
	$(BIN)/negotiate $(ARGS)

test: $(STAMP) $(ASSETS) system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# everyday work, under two minutes: the engine, protocols, theory, agents and classroom logic;
# no slow, browser, notebook or end-to-end workflow tests (CI runs `make test`: all of them)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser and not workflow" -q $(PYTEST_ARGS)

# Debian's chromium for the browser tests (playwright drives it; it cannot download browsers here)
system-deps:
	command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; }

dashboard: $(DASH) $(ASSETS)
	$(BIN)/negotiate-dashboard $(ARGS)

docs: $(DOCS)
	$(BIN)/python scripts/config_reference.py docs/config.md
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

lab: $(LAB)
	$(BIN)/jupyter lab notebooks/ $(ARGS)

lock: | $(UV)
	$(UV) lock

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks experiments scripts
	$(BIN)/ruff format --check sim tests benchmarks experiments scripts

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) outputs multirun site .pytest_cache

# Every target bootstraps its own virtual environment from nothing, so a fresh clone needs only make
# and a Python >= 3.11 on the PATH.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The example adapter plugin, built and installed like a third-party package, but into a directory
# of its own: o2c's own tests expect no third-party entry points, the plugin's tests need one.
PLUGIN       := examples/plugins/o2c-jsonl-ledger
PLUGIN_SITE  := $(VENV)/plugin-site
PLUGIN_STAMP := $(PLUGIN_SITE)/.installed-stamp

.PHONY: demo test lint typecheck imports pytest plugin-tests benchmarks docs-check docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(PLUGIN_STAMP): $(STAMP) $(PLUGIN)/pyproject.toml $(wildcard $(PLUGIN)/src/*/*.py)
	rm -rf $(PLUGIN_SITE)
	$(BIN)/python -m pip install --quiet --no-deps --target $(PLUGIN_SITE) ./$(PLUGIN)
	touch $(PLUGIN_STAMP)

demo: $(STAMP)
	$(BIN)/o2c demo

test: lint typecheck imports pytest plugin-tests docs

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict src tests/typing

imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

# Run from the plugin's own directory: its own pytest configuration, never collected twice.
plugin-tests: $(PLUGIN_STAMP)
	$(BIN)/mypy --strict $(PLUGIN)/src $(PLUGIN)/tests
	cd $(PLUGIN) && PYTHONPATH=$(CURDIR)/$(PLUGIN_SITE) $(CURDIR)/$(BIN)/python -m pytest -q

benchmarks: $(STAMP)
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

docs-check: $(STAMP)
	$(BIN)/python scripts/generate_docs.py --check

# The documentation site, always rebuilt whole; any warning (a broken reference, a bad docstring)
# fails the build.
docs: $(STAMP)
	$(BIN)/sphinx-build -E -W --keep-going -j auto -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis build dist docs/_build

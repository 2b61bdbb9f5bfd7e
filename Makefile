# The README's two commands: `make demo` and `make test`. Both create .venv and install what
# they need from the lock files on a fresh machine with Python 3.11.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev
BENCH_STAMP   := $(VENV)/.installed-bench

.PHONY: demo test lint format typecheck bench serve lock clean

demo: $(RUNTIME_STAMP)  ## Run the platform on its embedded default (SQLite, real bundled data)
	$(BIN)/allweather demo

test: lint typecheck  ## Lint, type-check and run the whole test suite
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/lint-imports

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix src tests bench scripts
	$(BIN)/ruff format src tests bench scripts

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

bench: $(BENCH_STAMP)  ## Benchmarks against peer libraries, reported as ratios
	$(BIN)/python bench/run.py

serve: $(RUNTIME_STAMP)
	$(BIN)/allweather serve

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (python3.11 not found)"; exit 2; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "Python >= 3.11 is required; $(PYTHON) is older. Install python3.11."; exit 2; }
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements/runtime.lock pyproject.toml | $(BIN)/python
	$(PIP) install -r requirements/runtime.lock
	$(PIP) install --no-deps -e .
	@touch $@

$(DEV_STAMP): requirements/dev.lock pyproject.toml | $(BIN)/python
	$(PIP) install -r requirements/dev.lock
	$(PIP) install --no-deps -e .
	@touch $@ $(RUNTIME_STAMP)

$(BENCH_STAMP): requirements/bench.lock pyproject.toml | $(BIN)/python
	$(PIP) install -r requirements/bench.lock
	$(PIP) install --no-deps -e .
	@touch $@ $(DEV_STAMP) $(RUNTIME_STAMP)

lock:  ## Re-resolve the lock files (needs uv: pip install uv)
	uv pip compile pyproject.toml --python-version 3.11 --no-header -o requirements/runtime.lock
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements/dev.lock
	uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 --no-header -o requirements/bench.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

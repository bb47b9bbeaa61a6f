# The two front-door commands: `make demo` and `make test`. Each does the whole
# set-up first (idempotently: a second run skips what is done) and then runs.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Appium 3 and its fake driver live inside the virtualenv (npm packages, not PyPI).
APPIUM_DIR := $(VENV)/appium
APPIUM_VERSION ?= 3
FAKE_DRIVER_VERSION ?= 6
export APPIUM_HOME := $(abspath $(APPIUM_DIR))
export PATH := $(CURDIR)/$(BIN):/usr/lib/postgresql/15/bin:$(PATH)
export OMP_THREAD_LIMIT := 1

.PHONY: setup system-deps venv appium demo run test lint typecheck bench clean

setup: system-deps $(STAMP) appium

# apt only when something is missing, so a second run starts in seconds.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing="$$missing fonts-noto-color-emoji"; \
	dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing="$$missing fonts-dejavu-core"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@# Debian's headless-only Chromium (a third less memory per profile); without it headless
	@# runs use chromium, so a machine that cannot install it still works.
	@command -v chromium-headless-shell >/dev/null || { \
	  echo "installing system packages: chromium-headless-shell"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	      chromium-headless-shell >/dev/null; } \
	    || echo "chromium-headless-shell could not be installed: headless runs use chromium"; }

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Checked on every run (two file tests), so a half-finished install is completed and a
# finished one never touches the network; npm's cache is preferred and a missing registry
# fails in seconds, not minutes. A failed install only warns: the Appium tests then skip
# (and fail under CI=true).
appium:
	@if [ -f $(APPIUM_DIR)/node_modules/appium/package.json ] && \
	   [ -f $(APPIUM_DIR)/node_modules/@appium/fake-driver/package.json ]; then exit 0; fi; \
	echo "installing Appium $(APPIUM_VERSION) and @appium/fake-driver $(FAKE_DRIVER_VERSION) into $(APPIUM_DIR)"; \
	mkdir -p $(APPIUM_DIR); \
	export npm_config_yes=true npm_config_fund=false npm_config_audit=false \
	  npm_config_update_notifier=false npm_config_prefer_offline=true \
	  npm_config_fetch_retries=1 npm_config_fetch_retry_mintimeout=2000 \
	  npm_config_fetch_retry_maxtimeout=5000; \
	( [ -f $(APPIUM_DIR)/node_modules/appium/package.json ] || \
	    npm install --prefix $(APPIUM_DIR) --loglevel=error appium@$(APPIUM_VERSION) ) && \
	( [ -f $(APPIUM_DIR)/node_modules/@appium/fake-driver/package.json ] || \
	    $(APPIUM_DIR)/node_modules/.bin/appium driver install --source=npm \
	      @appium/fake-driver@$(FAKE_DRIVER_VERSION) >/dev/null ) || \
	echo "warning: Appium could not be installed (no npm registry?); its tests will skip"

demo: setup
	bash scripts/demo.sh

# The scheduler on the demo home (after make demo), until Ctrl-C: sweeps when due, sends
# approved replies, `inbox-agent status` in another terminal shows it.
run: setup
	INBOX_AGENT_HOME=$${INBOX_AGENT_HOME:-$(CURDIR)/.inbox-agent} SANDBOX_PASSWORD=$${SANDBOX_PASSWORD:-sandbox} \
	  bash scripts/run.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check agent workspaces devices flows runlogs sandbox tests bench

typecheck: setup
	$(BIN)/mypy

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -n auto --maxprocesses=4

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .inbox-agent .pytest_cache .mypy_cache .ruff_cache

# ctiserver — set-up and checks. Every target installs what it needs on a fresh Debian 12 box (as root).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the test-suite needs (real servers, browser). Installed only when missing.
TEST_DEBS := redis-server postgresql chromium systemd

.PHONY: help venv system-deps test test-fast demo lint bench clean

help:
	@echo "make demo   - run the daemon on embedded defaults with the Asterisk simulator and live traffic"
	@echo "make test   - run the whole test-suite (installs what it needs)"
	@echo "make lint   - ruff + mypy --strict"
	@echo "make bench  - benchmarks (bench/)"

$(BIN)/activate:
	@$(PY) -m venv --help >/dev/null 2>&1 && $(PY) -c 'import ensurepip' 2>/dev/null || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv python3-pip python3-dev build-essential; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# setup.py compiles the AMI decoder's fast path (ctiserver/pbx/ami/_fastpath.pyx) with Cython: it needs a C
# compiler and the Python headers (pure Python without them, slower).
$(VENV)/.installed: $(BIN)/activate pyproject.toml setup.py ctiserver/pbx/ami/_fastpath.pyx
	@command -v cc >/dev/null && $(BIN)/python -c 'import os, sys, sysconfig; \
	  sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' || \
	  { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq gcc python3-dev; }
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	  $(SUDO) systemctl disable --now redis-server postgresql >/dev/null 2>&1 || true; \
	fi

test: venv system-deps
	CTISERVER_REQUIRE_ACCEL=1 $(BIN)/pytest -n 2 -q -p no:cacheprovider --durations=15

test-fast: venv
	$(BIN)/pytest -n 2 -q -m "not browser and not postgres and not redis and not slow"

demo: venv
	$(BIN)/ctiserver demo

lint: venv
	$(BIN)/ruff check ctiserver tests bench
	$(BIN)/mypy

bench: venv
	$(BIN)/python bench/ami_ingest.py ../shared/asterisk-traces/13-load-queue/ami.raw

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Two commands: `make run` (install, create the SQLite database, load the
# demo data when it is empty, serve on http://127.0.0.1:5000 with one worker) and
# `make test` (install the development tools and Chromium, run the suite).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-lowest install install-dev chromium nginx lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# Debian's Chromium for the browser tests (Playwright drives it through
# executable_path; it never downloads a browser of its own), and a CJK font
# so the Traditional Chinese screens render in screenshots.
chromium:
	@if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/truetype/wqy ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		apt-get update -q >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			chromium fonts-wqy-microhei >/dev/null; \
	else echo "chromium is missing: run 'sudo apt-get install -y --no-install-recommends chromium fonts-wqy-microhei'"; fi

# Debian's nginx for tests/hardening/test_nginx.py, which runs the sample
# deploy/nginx/fieldvisit.conf in an nginx process of its own on free
# loopback ports (it never uses the package's service or its config).
nginx:
	@if [ -x /usr/sbin/nginx ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		apt-get update -q >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			nginx >/dev/null; \
	else echo "nginx is missing: run 'sudo apt-get install -y --no-install-recommends nginx'"; fi

# The worker (webhooks, promise upkeep, attachment purge) runs beside the
# server and stops with it (tools/run_dev.py).
run: install
	$(FLASK) init-db
	$(FLASK) demo --if-empty
	$(BIN)/python tools/run_dev.py --host $(HOST) --port $(PORT)

test: install-dev chromium nginx
	$(BIN)/pytest

# The API, sync-core and supervisor tests once more against the lowest versions of the
# direct dependencies that pyproject.toml allows, so a lower bound that is
# too low is caught (CI runs it after `make test`).
LOWEST := .venv-lowest
test-lowest:
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/pip install -q uv
	$(LOWEST)/bin/uv pip install -q --python $(LOWEST)/bin/python --resolution lowest-direct -e .
	$(LOWEST)/bin/uv pip install -q --python $(LOWEST)/bin/python pytest pytest-timeout webtest hypothesis
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider tests/api tests/sync tests/supervisor \
		-m "not browser"

lint: install-dev
	$(BIN)/ruff check server sync tests bench

bench: install-dev
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) $(LOWEST) instance .pytest_cache test-artifacts

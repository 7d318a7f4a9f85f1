# Two commands: `make up` (the dev stack on the best cluster this machine has) and `make test`.
# `make up`, `preview`, `diff` and `down` run scripts/up.py: STACK=<name> picks another stack file,
# YES=1 applies without asking, CHARTS=<dir> takes the charts from a folder (see its docstring).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv

# Local file state backend in the repository by default; point it elsewhere for shared stacks.
# Secrets: PULUMI_CONFIG_PASSPHRASE (or _FILE); without one, stacks other than prod use a
# passphrase generated once per checkout in .local/passphrase, and prod refuses to run.
export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
export PULUMI_SKIP_UPDATE_CHECK ?= true

.PHONY: up preview diff down test e2e reference snapshots engine clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# The policy pack needs exactly the project's dependencies (policy/requirements.txt is
# ../requirements.txt), so it runs in the project's virtualenv rather than building its own.
policy/venv:
	ln -s ../$(VENV) $@

up preview diff down: $(VENV)/.installed | policy/venv
	scripts/up.sh $@

test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python -m pytest

# The real engine: builds the Pulumi CLI, providers, helm and a local control plane from Go modules
# when missing (tools/engine/build, with progress), then runs the engine smoke test, the end-to-end
# suite (`make up` itself included) and the renders of the published charts with helm.
e2e: $(VENV)/.installed engine
	PATH="$$(tools/engine/build --print-bin-dir):$$PATH" $(VENV)/bin/python -m pytest -m "engine or e2e or charts"

snapshots: $(VENV)/.installed
	$(VENV)/bin/python -m review snapshot --update

reference: $(VENV)/.installed
	$(VENV)/bin/python -m review.readme

engine:
	$(PYTHON) -m scripts.engine

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

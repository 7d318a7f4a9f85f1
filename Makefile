# Two commands: `make up` (pulumi up of the dev stack on a local cluster) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STACK ?= dev

# Local file state backend in the repository by default; point it elsewhere for shared stacks.
export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
# The dev stack holds no secrets; set a real passphrase for any stack that does.
export PULUMI_CONFIG_PASSPHRASE ?=
export PULUMI_SKIP_UPDATE_CHECK ?= true

.PHONY: up preview test e2e reference snapshots engine clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

up: $(VENV)/.installed
	STACK=$(STACK) scripts/up.sh up

preview: $(VENV)/.installed
	STACK=$(STACK) scripts/up.sh preview

test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python -m pytest

# The real engine: builds the Pulumi CLI, providers, helm and a local control plane from Go modules
# when missing (tools/engine/build), then runs the engine smoke test, the end-to-end suite and the
# renders of the published charts with helm.
e2e: $(VENV)/.installed engine
	PATH="$$(tools/engine/build --print-bin-dir):$$PATH" $(VENV)/bin/python -m pytest -m "engine or e2e or charts"

snapshots: $(VENV)/.installed
	$(VENV)/bin/python -m review snapshot --update

reference: $(VENV)/.installed
	$(VENV)/bin/python -m review.readme

engine:
	tools/engine/build

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

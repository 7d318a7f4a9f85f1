#!/usr/bin/env bash
# What `make up`, `make preview`, `make diff` and `make down` run: scripts/up.py in the project's
# virtualenv (the one Pulumi.yaml names). Its docstring says which cluster it picks, which engine
# it uses and which environment variables it reads.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m scripts.up "$@"

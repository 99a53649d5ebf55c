#!/usr/bin/env bash
# Set up (a venv with the package) and start the service on http://127.0.0.1:8000, on SQLite
# under ./data, with the action plan loaded into a fresh database.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e .
exec .venv/bin/u4ssc-calendar serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"

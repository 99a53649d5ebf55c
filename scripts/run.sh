#!/usr/bin/env bash
# Set up (.venv exactly as uv.lock has it, the package installed editable) and start the service
# on http://127.0.0.1:8000, with the action plan loaded into a fresh database. The store is
# DATABASE_URL, else the SQLite file in $XDG_DATA_HOME/u4ssc-calendar (~/.local/share/...), the
# one `.venv/bin/u4ssc-calendar` finds from any folder; serve prints it at start.
# uv itself comes from PyPI on first use (scripts/uv).
set -euo pipefail
cd "$(dirname "$0")/.."
# --inexact: the test tools that scripts/test.sh put in .venv stay; every version is the lock's.
scripts/uv sync --locked --inexact --quiet
.venv/bin/python scripts/check_lock.py \
    || { echo "run.sh: .venv differs from uv.lock; remove .venv and run again" >&2; exit 1; }
if [[ -z ${DATABASE_URL:-} && -f data/u4ssc-calendar.db ]]; then
    echo "run.sh: ./data/u4ssc-calendar.db is where older versions kept the store; it is not used." \
        "To serve it: DATABASE_URL=sqlite:///$PWD/data/u4ssc-calendar.db ./scripts/run.sh" >&2
fi
exec .venv/bin/u4ssc-calendar serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"

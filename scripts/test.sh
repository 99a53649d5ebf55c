#!/usr/bin/env bash
# Set up everything the tests need (the locked venv, node packages, Chromium, libical,
# PostgreSQL), then run lint, format check, type check and the whole suite: on SQLite, and again
# on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
# .venv exactly as uv.lock has it, with the test extras (uv itself comes from PyPI: scripts/uv).
scripts/uv sync --locked --extra dev --quiet
.venv/bin/python scripts/check_lock.py --extra dev
# Browser tests drive Debian's Chromium through Playwright's executable_path: `playwright install`
# would download a browser, which CI cannot. The pages in Arabic and Chinese need fonts with
# those scripts (Noto, from Debian), or the screenshots show empty boxes. The strict feed checks
# parse with libical through Debian's python3-gi, which belongs to /usr/bin/python3
# (tests/utils/libical_parse.py).
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
fonts=$(fc-list : family 2>/dev/null || true)
grep -q "Noto Sans Arabic" <<<"$fonts" || missing+=(fonts-noto-core)
grep -q "Noto Sans CJK" <<<"$fonts" || missing+=(fonts-noto-cjk)
/usr/bin/python3 -c "import gi; gi.require_version('ICalGLib', '3.0')" 2>/dev/null \
    || missing+=(python3-gi gir1.2-ical-3.0)
if (( ${#missing[@]} )); then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)

echo "== lint, format, types"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy app tests

echo "== tests on SQLite"
env -u TEST_DATABASE_URL .venv/bin/pytest -q "$@"

echo "== tests on PostgreSQL"
# A local server (scripts/postgres.sh: installed with apt when missing, kept under /var/tmp); TEST_DATABASE_URL, when set, names
# another one instead. Each test gets a database of its own there.
TEST_DATABASE_URL=${TEST_DATABASE_URL:-$(scripts/postgres.sh)}
TEST_DATABASE_URL=$TEST_DATABASE_URL .venv/bin/pytest -q "$@"

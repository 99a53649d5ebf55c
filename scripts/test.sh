#!/usr/bin/env bash
# Set up everything the tests need (venv, node packages, Chromium, PostgreSQL), then run lint,
# format check, type check and the whole test suite: on SQLite, and again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
# Browser tests drive Debian's Chromium through Playwright's executable_path: `playwright install`
# would download a browser, which CI cannot.
if [[ ! -x /usr/bin/chromium ]]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)

echo "== lint, format, types"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy app tests

echo "== tests on SQLite"
env -u TEST_DATABASE_URL .venv/bin/pytest -q "$@"

echo "== tests on PostgreSQL"
# A local server in ./.pg (installed with apt when missing); TEST_DATABASE_URL, when set, names
# another one instead. Each test gets a database of its own there.
TEST_DATABASE_URL=${TEST_DATABASE_URL:-$(scripts/postgres.sh)}
TEST_DATABASE_URL=$TEST_DATABASE_URL .venv/bin/pytest -q "$@"

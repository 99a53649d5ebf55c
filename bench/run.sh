#!/usr/bin/env bash
# The benchmark in one command: installs wrk, nginx and Radicale if missing, then runs
# `python -m bench` (arguments passed on, e.g. --duration 10 --repeats 3) and writes
# bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null
fi
if [ ! -x bench/.venv-radicale/bin/python ]; then
    python3 -m venv bench/.venv-radicale
    bench/.venv-radicale/bin/pip install -q radicale
fi
exec .venv/bin/python -m bench "$@"

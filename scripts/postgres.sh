#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests and print its TEST_DATABASE_URL.
# Installs Debian's `postgresql` when missing (needs root), keeps the cluster in ./.pg (or
# PG_DIR), listens on 127.0.0.1:$PG_PORT (default 54329, or a free port when that one is taken).
# Running it again reuses the server.
# `scripts/postgres.sh stop` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_DIR=${PG_DIR:-$PWD/.pg}
PG_USER=u4ssc
PG_PASSWORD=u4ssc-test-password
log() { echo "postgres.sh: $*" >&2; }

as_postgres() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  [[ $(id -u) == 0 ]] || { log "PostgreSQL is not installed and installing it needs root"; exit 1; }
  log "installing Debian's postgresql"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

if [[ ${1:-} == stop ]]; then
  [[ -f $PG_DIR/data/postmaster.pid ]] && as_postgres "$BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >&2
  exit 0
fi

mkdir -p "$PG_DIR"
[[ $(id -u) == 0 ]] && chown postgres:postgres "$PG_DIR"
if [[ ! -f $PG_DIR/data/PG_VERSION ]]; then
  log "creating a cluster in $PG_DIR/data"
  pwfile=$(mktemp)
  echo "$PG_PASSWORD" >"$pwfile"
  chmod 644 "$pwfile"
  as_postgres "$BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" --pwfile="$pwfile" \
    --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log"
  rm -f "$pwfile"
fi
free_port() {  # PG_PORT if given; else 54329 unless taken (another checkout's server), else any
  local want=${PG_PORT:-54329}
  if [[ -n ${PG_PORT:-} ]] || python3 -c "import socket,sys; socket.socket().bind(('127.0.0.1', $want))" 2>/dev/null; then
    echo "$want"
  else
    python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
  fi
}
if as_postgres "$BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
  PG_PORT=$(sed -n 4p "$PG_DIR/data/postmaster.pid")  # the running server's port
else
  PG_PORT=$(free_port)
  log "starting on 127.0.0.1:$PG_PORT"
  # fsync off: a test server, thrown away; the suite creates and drops a database per test.
  as_postgres "$BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w start -o \
    "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off \
     -c full_page_writes=off -c max_connections=300" >&2
fi
echo "postgresql+psycopg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres"

#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests and print its TEST_DATABASE_URL.
# Installs Debian's `postgresql` when missing (needs root), listens on 127.0.0.1:$PG_PORT
# (default 54329, or a free port when that one is taken). Running it again reuses the server.
# `scripts/postgres.sh stop` stops it; `scripts/postgres.sh remove` stops it and deletes it.
#
# The cluster is kept in /var/tmp/u4ssc-calendar-pg-<hash of this checkout's path> (or PG_DIR),
# not in the checkout: run as root, the server runs as the postgres user, who cannot enter a
# checkout under /root or in a `mktemp -d` folder (initdb stopped with "could not change
# directory ... Permission denied"). For the same reason its commands run from inside PG_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_DIR=${PG_DIR:-/var/tmp/u4ssc-calendar-pg-$(pwd -P | sha256sum | cut -c1-12)}
PG_USER=u4ssc
PG_PASSWORD=u4ssc-test-password
log() { echo "postgres.sh: $*" >&2; }

as_postgres() {  # from PG_DIR: the server's user may not enter the folder we were run from
  if [[ $(id -u) == 0 ]]; then (cd "$PG_DIR" && runuser -u postgres -- "$@"); else "$@"; fi
}

if ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  [[ $(id -u) == 0 ]] || { log "PostgreSQL is not installed and installing it needs root"; exit 1; }
  log "installing Debian's postgresql"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

if [[ ${1:-} == stop || ${1:-} == remove ]]; then
  if [[ -f $PG_DIR/data/postmaster.pid ]]; then
    as_postgres "$BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >&2
  fi
  if [[ $1 == remove && -d $PG_DIR ]]; then
    log "removing $PG_DIR"
    rm -rf "$PG_DIR"
  fi
  exit 0
fi

mkdir -p -m 0700 "$PG_DIR"
if [[ $(id -u) == 0 ]]; then chown postgres:postgres "$PG_DIR"; fi
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

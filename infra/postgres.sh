#!/usr/bin/env bash
# PostgreSQL 15 on 127.0.0.1 with trust authentication and a database named wal.
# The server runs as the postgres system user (it refuses to run as root); its unix socket
# lives in the data folder, not in /var/run.
#
# Usage: infra/postgres.sh packages|install|start|stop|restart|status
#   WAL_POSTGRES_PORT  TCP port, default 5432
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

PORT=${WAL_POSTGRES_PORT:-5432}
PG_BIN=/usr/lib/postgresql/15/bin
DATA=$(data_dir postgres)
LOG=$(log_file postgres)
# The postmaster's command line is "postgres -D <data folder>", unique to this WAL_HOME.
MARKER=$DATA
DATABASE=wal
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WAL_HOST" -p "$PORT" -U postgres -d postgres)

packages() {
  ensure_pkg "$PG_BIN/postgres" postgresql-15
  ensure_pkg "$PG_BIN/psql" postgresql-client-15
  ensure_user postgres /var/lib/postgresql
}

install() {
  packages
}

# Runs a command as the postgres user, from a folder it may enter.
as_postgres() {
  (cd / && runuser -u postgres -- "$@")
}

# Makes the run/postgres.pid file follow the postmaster's own postmaster.pid, then checks it.
postgres_pid() {
  local pid
  if [[ -f $DATA/postmaster.pid ]]; then
    pid=$(head -n 1 -- "$DATA/postmaster.pid")
    printf '%s\n' "$pid" >"$(pid_file postgres)"
  fi
  running_pid postgres "$MARKER"
}

init_cluster() {
  [[ -f $DATA/PG_VERSION ]] && return 0
  local tmp=$DATA.init
  if [[ -d $DATA ]]; then
    rmdir -- "$DATA" 2>/dev/null || die "postgres: $DATA exists but holds no database cluster; remove it and run again"
  fi
  # The postgres user has to walk through WAL_HOME (mktemp -d makes it 0700).
  chmod a+x -- "$WAL_HOME" "$WAL_HOME/data"
  as_postgres test -x "$WAL_HOME/data" ||
    die "postgres: the postgres user cannot reach $WAL_HOME/data (a parent folder is not searchable); use a WAL_HOME elsewhere"
  say "postgres: creating the database cluster in $DATA"
  rm -rf -- "$tmp"
  mkdir -m 700 -- "$tmp"
  chown postgres:postgres -- "$tmp"
  # initdb into a temporary folder, renamed once complete, so an interrupted initdb is redone.
  # --no-sync: a throwaway dev/test cluster does not need initdb's fsync of every file.
  as_postgres "$PG_BIN/initdb" -D "$tmp" -U postgres --auth=trust --encoding=UTF8 --locale=C \
    --no-sync >>"$LOG" 2>&1 || fail_start postgres "initdb failed"
  # Connection settings go to wal.conf, rewritten on every start so a port change takes effect.
  printf "\n# Local settings written by infra/postgres.sh\ninclude_if_exists = 'wal.conf'\n" >>"$tmp/postgresql.conf"
  mv -- "$tmp" "$DATA"
}

write_config() {
  cat >"$DATA/wal.conf" <<EOF
# Written by infra/postgres.sh on every start: edit the script, not this file.
listen_addresses = '$WAL_HOST'
port = $PORT
unix_socket_directories = '$DATA'
EOF
  chown postgres:postgres -- "$DATA/wal.conf"
}

wait_ready() {
  local deadline=$((SECONDS + $1))
  until "$PG_BIN/pg_isready" -q -h "$WAL_HOST" -p "$PORT" -d postgres -t 1; do
    ((SECONDS < deadline)) || fail_start postgres "does not accept connections on $WAL_HOST:$PORT"
    sleep 0.1
  done
}

ensure_database() {
  local found
  found=$("${PSQL[@]}" -tA -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")
  if [[ $found != 1 ]]; then
    "${PSQL[@]}" -c "CREATE DATABASE $DATABASE" || fail_start postgres "could not create database $DATABASE"
    say "postgres: created database $DATABASE"
  fi
}

start() {
  install
  local pid
  if pid=$(postgres_pid); then
    wait_ready 30
    ensure_database
    say "postgres: already running (pid $pid) on $WAL_HOST:$PORT"
    return 0
  fi
  require_free_port "$WAL_HOST" "$PORT" postgres WAL_POSTGRES_PORT
  # A unix socket path is limited to 107 bytes.
  ((${#DATA} + 16 <= 107)) || die "postgres: the socket path under $DATA would be too long; use a shorter WAL_HOME"
  init_cluster
  write_config
  # pg_ctl opens the log as the postgres user, in a logs folder it cannot write to.
  touch -- "$LOG"
  chown postgres -- "$LOG"
  printf '\n==== %s: starting postgres\n' "$(date '+%F %T')" >>"$LOG"
  # The postmaster inherits pg_ctl's descriptors: start it from a subshell without them.
  (
    close_inherited_fds
    as_postgres "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 -s start
  ) || fail_start postgres "pg_ctl start failed"
  pid=$(postgres_pid) || fail_start postgres "is not running after pg_ctl start"
  wait_ready 30
  ensure_database
  say "postgres: ready (pid $pid) on $WAL_HOST:$PORT, $("$PG_BIN/postgres" --version), database $DATABASE"
}

stop() {
  local pid
  if ! pid=$(postgres_pid); then
    say "postgres: not running"
    return 0
  fi
  say "postgres: stopping (pid $pid)"
  # Fast mode: disconnect clients and shut down cleanly (plain TERM would wait for every client).
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 -s stop >>"$LOG" 2>&1; then
    warn "postgres: pg_ctl stop failed; see $LOG"
    stop_bg postgres "$MARKER" 10
  fi
  rm -f -- "$(pid_file postgres)"
  say "postgres: stopped"
}

status() {
  postgres_pid >/dev/null || true
  print_status postgres "$MARKER" "$PORT"
}

run_command "$0" "$@"

#!/usr/bin/env bash
# NATS server (core NATS, JetStream off) on 127.0.0.1.
#
# Usage: infra/nats.sh packages|install|start|stop|restart|status
#   WAL_NATS_PORT  client port, default 4222
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

PORT=${WAL_NATS_PORT:-4222}
LOG=$(log_file nats)
# The log path is on the command line and unique to this WAL_HOME.
MARKER=$LOG

packages() {
  ensure_pkg nats-server nats-server
}

install() {
  packages
}

start() {
  install
  local pid
  if pid=$(running_pid nats "$MARKER"); then
    wait_for_port "$WAL_HOST" "$PORT" 10 nats
    say "nats: already running (pid $pid) on $WAL_HOST:$PORT"
    return 0
  fi
  require_free_port "$WAL_HOST" "$PORT" nats WAL_NATS_PORT
  # JetStream is off unless -js is given; no monitoring or cluster ports are opened either.
  start_bg nats nats-server -a "$WAL_HOST" -p "$PORT" -l "$LOG"
  wait_for_port "$WAL_HOST" "$PORT" 30 nats
  say "nats: ready (pid $(<"$(pid_file nats)")) on $WAL_HOST:$PORT, $(nats-server --version)"
}

stop() {
  stop_bg nats "$MARKER" 15
}

status() {
  print_status nats "$MARKER" "$PORT"
}

run_command "$0" "$@"

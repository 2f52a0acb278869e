#!/usr/bin/env bash
# memcached on 127.0.0.1 (TCP only), running as an unprivileged user.
#
# Usage: infra/memcached.sh packages|install|start|stop|restart|status
#   WAL_MEMCACHED_PORT    TCP port, default 11211
#   WAL_MEMCACHED_MEMORY  cache size in MB, default 256
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

PORT=${WAL_MEMCACHED_PORT:-11211}
MEMORY=${WAL_MEMCACHED_MEMORY:-256}
MARKER=memcached

packages() {
  ensure_pkg memcached memcached
}

install() {
  packages
}

start() {
  install
  local pid user=nobody
  if pid=$(running_pid memcached "$MARKER"); then
    wait_for_port "$WAL_HOST" "$PORT" 10 memcached
    say "memcached: already running (pid $pid) on $WAL_HOST:$PORT"
    return 0
  fi
  require_free_port "$WAL_HOST" "$PORT" memcached WAL_MEMCACHED_PORT
  # memcached refuses to run as root; the Debian package creates the memcache user.
  if id -u memcache >/dev/null 2>&1; then user=memcache; fi
  # -U 0: no UDP listener (only TCP is used, and UDP memcached is an amplification risk).
  start_bg memcached memcached -l "$WAL_HOST" -p "$PORT" -U 0 -m "$MEMORY" -u "$user"
  wait_for_port "$WAL_HOST" "$PORT" 30 memcached
  say "memcached: ready (pid $(<"$(pid_file memcached)")) on $WAL_HOST:$PORT, $(memcached -V), ${MEMORY} MB, user $user"
}

stop() {
  stop_bg memcached "$MARKER" 15
}

status() {
  print_status memcached "$MARKER" "$PORT"
}

run_command "$0" "$@"

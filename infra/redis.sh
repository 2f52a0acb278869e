#!/usr/bin/env bash
# Redis on 127.0.0.1 (TCP only, no persistence), running as an unprivileged user.
# Only the delayed-delivery benchmark uses it (BullMQ as the baseline), so up.sh does not start it.
#
# Usage: infra/redis.sh packages|install|start|stop|restart|status
#   WAL_REDIS_PORT  TCP port, default 6379
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

PORT=${WAL_REDIS_PORT:-6379}
DATA=$(data_dir redis)
# Redis replaces its command line with its process title; the title below ends with the data
# folder, unique to this WAL_HOME (and "--dir <data folder>" is on the command line before that).
MARKER=$DATA

packages() {
  ensure_pkg redis-server redis-server
}

install() {
  packages
}

start() {
  install
  local pid user=''
  if pid=$(running_pid redis "$MARKER"); then
    wait_for_port "$WAL_HOST" "$PORT" 10 redis
    say "redis: already running (pid $pid) on $WAL_HOST:$PORT"
    return 0
  fi
  require_free_port "$WAL_HOST" "$PORT" redis WAL_REDIS_PORT
  mkdir -p -- "$DATA"
  local run_as=()
  # The Debian package creates the redis user; as root, drop to it (setpriv execs, so the
  # recorded pid stays the server's). Redis changes into its data folder, so that user has to
  # reach it (mktemp -d makes WAL_HOME 0700).
  if [[ $(id -u) -eq 0 ]] && id -u redis >/dev/null 2>&1; then
    user=redis
    chmod a+x -- "$WAL_HOME" "$WAL_HOME/data"
    chown redis:redis -- "$DATA"
    setpriv --reuid=redis --regid=redis --init-groups test -x "$DATA" ||
      die "redis: the redis user cannot reach $DATA (a parent folder is not searchable); use a WAL_HOME elsewhere"
    run_as=(setpriv --reuid=redis --regid=redis --init-groups)
  fi
  # No RDB snapshots and no AOF: nothing is written to $DATA. The log goes to stdout (start_bg's
  # log file); no unix socket is opened. noeviction is Redis's default and what BullMQ requires.
  start_bg redis "${run_as[@]}" redis-server \
    --bind "$WAL_HOST" --port "$PORT" --protected-mode yes \
    --save '' --appendonly no --dir "$DATA" \
    --logfile '' --daemonize no --supervised no \
    --maxmemory-policy noeviction \
    --proc-title-template "{title} {listen-addr} $DATA"
  wait_for_port "$WAL_HOST" "$PORT" 30 redis
  say "redis: ready (pid $(<"$(pid_file redis)")) on $WAL_HOST:$PORT, $(redis-server --version | grep -o 'v=[^ ]*'), user ${user:-$(id -un)}"
}

stop() {
  # On TERM Redis would write a final snapshot only when save points are set; there are none.
  stop_bg redis "$MARKER" 15
}

status() {
  print_status redis "$MARKER" "$PORT"
}

run_command "$0" "$@"

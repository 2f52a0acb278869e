#!/usr/bin/env bash
# Starts the local servers on 127.0.0.1, installing whatever is missing, and prints the
# settings a client uses. Safe to run again: running servers are only confirmed.
#
# Usage: infra/up.sh [kafka|nats|memcached|postgres ...]   (default: all four)
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

select_servers "$@"
started=$EPOCHREALTIME

# System packages one after the other: two apt-get runs must not overlap.
for s in "${servers[@]}"; do
  bash "$WAL_INFRA_DIR/$s.sh" packages
done

# Kafka is the slowest (jar download on a fresh machine, then the JVM boot), so it starts in
# the background while the others start; its output is shown once it is ready.
kafka_pid='' kafka_out=''
if [[ " ${servers[*]} " == *" kafka "* ]]; then
  kafka_out=$(mktemp)
  trap 'rm -f -- "$kafka_out"' EXIT
  bash "$WAL_INFRA_DIR/kafka.sh" start >"$kafka_out" 2>&1 &
  kafka_pid=$!
fi
failed=0
for s in "${servers[@]}"; do
  [[ $s == kafka ]] && continue
  bash "$WAL_INFRA_DIR/$s.sh" start || failed=1
done
if [[ -n $kafka_pid ]]; then
  wait "$kafka_pid" || failed=1
  cat -- "$kafka_out"
fi
((failed == 0)) || die "some servers did not start (logs in $WAL_HOME/logs)"

elapsed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
say "up in ${elapsed}s (state in $WAL_HOME). Client settings:"
for s in "${servers[@]}"; do
  case $s in
  kafka) say "WAL_KAFKA_BROKERS=$WAL_HOST:${WAL_KAFKA_PORT:-9092}" ;;
  nats) say "WAL_NATS_URL=nats://$WAL_HOST:${WAL_NATS_PORT:-4222}" ;;
  memcached) say "WAL_MEMCACHED_SERVERS=$WAL_HOST:${WAL_MEMCACHED_PORT:-11211}" ;;
  postgres) say "WAL_DATABASE_URL=postgres://postgres@$WAL_HOST:${WAL_POSTGRES_PORT:-5432}/wal" ;;
  esac
done

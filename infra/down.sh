#!/usr/bin/env bash
# Stops the local servers started by up.sh. Data stays; stopping what is not running is fine.
#
# Usage: infra/down.sh [kafka|nats|memcached|postgres ...]   (default: all four)
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

ALL=(kafka nats memcached postgres)
servers=("$@")
((${#servers[@]})) || servers=("${ALL[@]}")
for s in "${servers[@]}"; do
  [[ " ${ALL[*]} " == *" $s "* ]] || die "unknown server '$s' (known: ${ALL[*]})"
done

failed=0
for s in "${servers[@]}"; do
  bash "$WAL_INFRA_DIR/$s.sh" stop || failed=1
done
((failed == 0)) || die "some servers did not stop cleanly"

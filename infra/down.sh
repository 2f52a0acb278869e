#!/usr/bin/env bash
# Stops the local servers started by up.sh. Data stays; stopping what is not running is fine.
#
# Usage: infra/down.sh [kafka|nats|memcached|postgres ...]   (default: all four)
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

select_servers "$@"

failed=0
for s in "${servers[@]}"; do
  bash "$WAL_INFRA_DIR/$s.sh" stop || failed=1
done
((failed == 0)) || die "some servers did not stop cleanly"

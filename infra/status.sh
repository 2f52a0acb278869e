#!/usr/bin/env bash
# One line per local server: running or stopped, pid, address.
# Exits 0 when all are running, 3 otherwise.
#
# Usage: infra/status.sh
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

rc=0
for s in kafka nats memcached postgres; do
  bash "$WAL_INFRA_DIR/$s.sh" status || rc=3
done
exit "$rc"

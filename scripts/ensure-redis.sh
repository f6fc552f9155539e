#!/usr/bin/env bash
# The queue tests (test/integration/queue.test.ts) start real redis-servers of their own (a fresh
# port and data folder each, AOF on). This installs Debian's redis-server package when the
# binary (or openssl, which the rediss:// test makes its certificates with) is missing and we are root; otherwise it does nothing. The package's own service is not
# needed: where a service manager started it, it is stopped.
set -euo pipefail
if { [ -x /usr/bin/redis-server ] && command -v openssl >/dev/null; } || [ "$(id -u)" != 0 ]; then
  exit 0
fi
echo "trajlab: installing redis-server for the queue tests (one time)…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends redis-server openssl >/dev/null 2>&1 || {
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends redis-server openssl >/dev/null
}
if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then
  systemctl stop redis-server
  systemctl disable --quiet redis-server
fi
service redis-server stop >/dev/null 2>&1 || true

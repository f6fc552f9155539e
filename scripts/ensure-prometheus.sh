#!/usr/bin/env bash
# The metrics integration test (test/integration/metrics.test.ts) scrapes TrajLab with a real
# Prometheus server that it starts itself (its own storage folder, web port and scrape config).
# This installs Debian's prometheus package when the binary is missing and we are root
# (--no-install-recommends: only the server, not the node exporter); otherwise it does nothing.
# The package's own service is not needed: where a service manager started it, it is stopped.
set -euo pipefail
if [ -x /usr/bin/prometheus ] || [ "$(id -u)" != 0 ]; then
  exit 0
fi
echo "trajlab: installing prometheus for the metrics test (one time)…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 || {
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
}
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus
  systemctl disable --quiet prometheus
fi

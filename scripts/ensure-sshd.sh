#!/usr/bin/env bash
# The integration tests reach the local Docker engine over ssh:// too (test/integration/
# remoteHosts.test.ts), through an sshd they start on 127.0.0.1. This installs Debian's
# openssh-server when sshd is missing and we are root; otherwise it does nothing.
set -euo pipefail
if [ -x /usr/sbin/sshd ] || [ "$(id -u)" != 0 ]; then
  exit 0
fi
echo "trajlab: installing openssh-server for the ssh:// host tests (one time)…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends openssh-server >/dev/null 2>&1 || {
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
}

#!/usr/bin/env bash
# Builds the browser sandbox image that `browser` tasks run in (issue 20), without any registry:
# debootstrap a minimal Debian bookworm with Debian's `chromium`, `python3` (serves test and
# example sites: `python3 -m http.server`; also the CDP tunnel's in-container end, see
# server/src/browser/tunnel.ts), fonts and procps, then `docker import` it — the recipe of
# scripts/build-sandbox-image.sh. Chromium goes in with apt-get in the chroot, not with
# debootstrap's --include: debootstrap configures its ~250 packages in an order in which
# dconf-service fails, apt-get orders them right. Recommends are left out (a desktop's worth).
# Usage: scripts/build-browser-image.sh [TAG]   (default trajlab/browser:1)
# Skips the build when the tag already exists. Needs root (debootstrap) and a running engine.
set -euo pipefail
tag="${1:-${TRAJLAB_BROWSER_IMAGE:-trajlab/browser:1}}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
base="python3,ca-certificates,procps,git"
browser="chromium fonts-dejavu-core fonts-liberation"

if docker image inspect "$tag" >/dev/null 2>&1; then
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "trajlab: debootstrap is missing; install it (apt-get install debootstrap) or run as root." >&2
    exit 1
  fi
  echo "trajlab: installing debootstrap (one time)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
fi
root="$(mktemp -d /var/tmp/trajlab-rootfs.XXXXXX)"
trap 'rm -rf "$root" "$root.log"' EXIT
started=$SECONDS
echo "trajlab: building browser image $tag (debootstrap bookworm with chromium, about two minutes)…" >&2
debootstrap --variant=minbase --include="$base" bookworm "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -n 30 "$root.log" >&2; exit 1; }
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"   # no service starts in the chroot
chmod +x "$root/usr/sbin/policy-rc.d"
# shellcheck disable=SC2086
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $browser" >>"$root.log" 2>&1 || {
  tail -n 30 "$root.log" >&2; exit 1; }
rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
mkdir -p "$root/workspace" "$root/logs"
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'WORKDIR /workspace' \
  -c 'CMD ["sleep","infinity"]' - "$tag" >/dev/null
echo "trajlab: built $tag in $((SECONDS - started)) s" >&2

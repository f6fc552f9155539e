#!/usr/bin/env bash
# Builds the sandbox image the examples and tests run in, without any registry:
# debootstrap a minimal Debian bookworm from Debian's mirror, then `docker import` it
# (recipe: ../shared/DESIGN.md, "Setting up a Docker engine where none runs").
# Usage: scripts/build-sandbox-image.sh [TAG]   (default trajlab/sandbox:1)
# Skips the build when the tag already exists. Needs root (debootstrap) and a running engine.
# Other images the same way (scripts/build-browser-image.sh): TRAJLAB_IMAGE_PACKAGES replaces the
# debootstrap --include list; TRAJLAB_IMAGE_APT names packages then installed with apt-get in the
# chroot (no recommends), which orders the configuration of large sets (chromium's) where
# debootstrap's --include fails; TRAJLAB_IMAGE_WHAT names the image in the messages.
set -euo pipefail
tag="${1:-${TRAJLAB_SANDBOX_IMAGE:-trajlab/sandbox:1}}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
packages="${TRAJLAB_IMAGE_PACKAGES:-git,python3,python3-pytest,nodejs,ca-certificates,patch,procps}"
apt_packages="${TRAJLAB_IMAGE_APT:-}"
what="${TRAJLAB_IMAGE_WHAT:-sandbox image}"

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
echo "trajlab: building $what $tag (debootstrap bookworm, about a minute${apt_packages:+, then apt-get: a few})…" >&2
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -n 30 "$root.log" >&2; exit 1; }
if [ -n "$apt_packages" ]; then
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"   # no service starts in the chroot
  chmod +x "$root/usr/sbin/policy-rc.d"
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $apt_packages" >>"$root.log" 2>&1 || {
    tail -n 30 "$root.log" >&2; exit 1; }
  rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/*
fi
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
mkdir -p "$root/workspace" "$root/logs"
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'WORKDIR /workspace' \
  -c 'CMD ["sleep","infinity"]' - "$tag" >/dev/null
echo "trajlab: built $tag in $((SECONDS - started)) s" >&2

#!/usr/bin/env bash
# Builds the browser sandbox image that `browser` tasks run in (issue 20), without any registry:
# scripts/build-sandbox-image.sh's debootstrap + `docker import`, with Debian's `chromium` and
# fonts installed by apt-get in the chroot (debootstrap's --include configures chromium's ~250
# dependencies in an order in which dconf-service fails), `python3` (serves test and example
# sites: `python3 -m http.server`; also the browser tunnel's in-container end, see
# server/src/browser/tunnel.ts), git and procps. About 4 minutes once (2 cores), 1.0 GB.
# Usage: scripts/build-browser-image.sh [TAG]   (default trajlab/browser:1)
# Skips the build when the tag already exists. Needs root (debootstrap) and a running engine.
set -euo pipefail
tag="${1:-${TRAJLAB_BROWSER_IMAGE:-trajlab/browser:1}}"
TRAJLAB_IMAGE_PACKAGES="python3,ca-certificates,procps,git" \
  TRAJLAB_IMAGE_APT="chromium fonts-dejavu-core fonts-liberation" \
  TRAJLAB_IMAGE_WHAT="browser image" \
  exec bash "$(dirname "$0")/build-sandbox-image.sh" "$tag"

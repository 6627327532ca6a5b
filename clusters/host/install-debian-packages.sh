#!/usr/bin/env bash
# Installs the Debian packages drafarm's clusters need on the host (run by `make setup`): the local
# cluster's (runc, iptables, catatonit, ...), and the kind provider's (docker.io for dockerd, debootstrap
# for the offline node image).
# Idempotent: a stamp records the package list; a different list installs again.
# Only as root on a Debian/Ubuntu host with apt-get; anywhere else it explains and exits 0.
set -euo pipefail

PACKAGES=(runc iptables catatonit busybox-static conntrack util-linux mount iproute2 kmod docker.io debootstrap)
STAMP_DIR=${DRAFARM_STAMP_DIR:-/var/lib/drafarm}
STAMP="$STAMP_DIR/debian-packages.stamp"
WANT="${PACKAGES[*]}"

if [[ $(id -u) -ne 0 ]]; then
  echo "drafarm: not root: skipping host packages (${WANT}); install them with sudo apt-get install ... for local clusters"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "drafarm: no apt-get: skipping host packages; install the equivalents of: ${WANT}"
  exit 0
fi
if [[ -f $STAMP && $(cat "$STAMP") == "$WANT" ]] && dpkg -s "${PACKAGES[@]}" >/dev/null 2>&1; then
  echo "drafarm: host packages already installed (${STAMP})"
  exit 0
fi
echo "==> installing host packages: ${WANT}"
export DEBIAN_FRONTEND=noninteractive
if ! dpkg -s "${PACKAGES[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
fi
mkdir -p "$STAMP_DIR"
echo "$WANT" >"$STAMP"

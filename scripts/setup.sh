#!/usr/bin/env bash
# Installs the Debian packages splat needs (idempotent) and configures + builds the default
# (emulated-CUDA) build in build/. Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

# One list, so that setup, CI and the README agree on what splat needs.
packages=(
  meson ninja-build g++ pkg-config ccache python3-matplotlib
  libopenblas-openmp-dev doctest-dev
  libboost-context-dev
  libopenmpi-dev openmpi-bin
  libsimdjson-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libtomlplusplus-dev libcli11-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ "${1:-}" = "--no-build" ] && exit 0

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release
fi
ninja -C build

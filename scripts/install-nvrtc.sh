#!/usr/bin/env bash
# Installs Debian's NVRTC (libnvrtc11.2, component non-free) so that the NVRTC compile test of
# kernels.cu runs on a machine without a GPU or a CUDA toolkit. Idempotent and non-interactive;
# .ci/run calls it. Needs root (or sudo) and Debian's deb822 apt sources.
set -euo pipefail

if ldconfig -p 2>/dev/null | grep -q 'libnvrtc\.so\.11\.2'; then
  echo "install-nvrtc: libnvrtc.so.11.2 is already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

sources=/etc/apt/sources.list.d/debian.sources
nonfree=/etc/apt/sources.list.d/scone-nonfree.sources
if [ ! -f "$nonfree" ]; then
  if [ ! -f "$sources" ]; then
    echo "install-nvrtc: $sources not found; enable Debian's non-free component by hand" >&2
    exit 1
  fi
  # A copy of the Debian sources that lists only non-free: the original stays untouched and
  # apt sees no entry twice.
  sed -E 's/^Components:.*$/Components: non-free/' "$sources" | $sudo tee "$nonfree" >/dev/null
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends libnvrtc11.2
ldconfig -p | grep 'libnvrtc' || true

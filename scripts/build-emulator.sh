#!/usr/bin/env bash
# Builds the CUDA emulator, libscone_cuda_emulator.so (Release), into emulator/build and prints
# its path as the last line on stdout (build output goes to stderr):
#
#   export SCONE_CUDA_EMULATOR=$(scripts/build-emulator.sh)
#
# --test also runs the emulator's own tests (CTest). Idempotent: installs cmake, make and g++
# with apt-get only when one is missing, and rebuilds only what changed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/emulator/build"
run_tests=0
for arg in "$@"; do
  case "$arg" in
    --test) run_tests=1 ;;
    -h|--help) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-emulator: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "build-emulator: ${missing[*]} missing and apt-get is not available; install them" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  echo "build-emulator: installing ${missing[*]}" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S "$root/emulator" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$build" -j "$jobs" >&2
if ((run_tests)); then
  (cd "$build" && ctest -j "$jobs" --output-on-failure) >&2
fi
echo "$build/libscone_cuda_emulator.so"

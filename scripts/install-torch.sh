#!/usr/bin/env bash
# Installs Debian's PyTorch (python3-torch, CPU only) for the PyTorch parity tests
# (Scone.Tests/Parity), which run it with /usr/bin/python3: Debian's interpreter, not a pyenv or
# virtualenv python3 that may come first on the PATH. Idempotent and non-interactive; .ci/run
# calls it. Needs root (or sudo).
set -euo pipefail

python=/usr/bin/python3
if "$python" -c 'import torch' 2>/dev/null; then
  echo "install-torch: torch $("$python" -c 'import torch; print(torch.__version__)') is already installed for $python"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends python3-torch
"$python" -c 'import torch; print("install-torch: torch", torch.__version__, "for", __import__("sys").executable)'

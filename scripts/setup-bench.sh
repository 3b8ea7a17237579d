#!/usr/bin/env bash
# Installs the PyTorch baseline for `npm run bench -- train` (Debian's python3-torch 1.13 with OpenBLAS, as in the
# reference's engine measurements). Benchmarks only: never called by the install command or by .ci/run.
set -euo pipefail
PACKAGES=(python3-torch libopenblas0-openmp)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then echo "setup-bench: all present"; exit 0; fi
SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
/usr/bin/python3 -c "import torch; print('setup-bench: torch', torch.__version__)"

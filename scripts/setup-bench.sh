#!/usr/bin/env bash
# Installs the PyTorch baseline for `npm run bench -- train` and `-- train-unet` (Debian's python3-torch 1.13 with
# OpenBLAS, as in the reference's engine measurements). Benchmarks only: never called by the install command or by
# .ci/run. train-unet also imports the reference's own sgm package (SVD_REFERENCE_REPO, read at run time): its imports
# need packaging, numpy, fsspec and PIL (Debian has them); einops and safetensors are not in Debian 12, so
# bench/torch_train_unet.py carries small stand-ins for the few calls it makes.
set -euo pipefail
PACKAGES=(python3-torch libopenblas0-openmp python3-packaging python3-numpy python3-fsspec python3-pil)
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

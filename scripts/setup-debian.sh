#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those missing. Idempotent; safe to run on every install.
# Needs root (or sudo) only when something is missing. Set SVD_SKIP_APT=1 to skip entirely.
# `--training` adds the photo packages svd-mini's training footage is built from (scripts/train-svd-mini.sh calls it):
# scikit-image's sample photos and libjxl's test photos, and MATE's nature wallpapers (never trained on: a second set of
# held-out photos with other palettes for measuring the autoencoder); the install and the test suite do not need them.
set -euo pipefail

PACKAGES=(ffmpeg redis-server opencv-doc fonts-dejavu-core chromium)
if [[ "${1:-}" == "--training" ]]; then PACKAGES+=(python3-skimage libjxl-testdata mate-backgrounds); fi

if [[ "${SVD_SKIP_APT:-}" == "1" ]]; then
  echo "setup-debian: skipped (SVD_SKIP_APT=1)"
  exit 0
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup-debian: not a Debian system; install these yourself: ${PACKAGES[*]}" >&2
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup-debian: all present (${PACKAGES[*]})"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup-debian: missing ${missing[*]} and not root; run: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
echo "setup-debian: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

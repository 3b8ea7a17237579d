#!/usr/bin/env bash
# The README's samples of the shipped svd-mini (issue 11 item 6): for held-out photos (opencv-doc's, never used in
# training), `svd generate` with the model's defaults, then with camera LoRAs by name; each photo's videos side by
# side in one animated WebP, docs/svd-mini/sample-<photo>.webp (columns: no LoRA, then pan-left, pan-up, pan-down and
# static where models/svd-mini/loras/ has them; zoom-in and zoom-out do not ship).
# Usage: bash scripts/svd-mini/samples.sh [SEED]   (default seed 1)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
seed="${1:-1}"
photos=(butterfly.jpg aero3.jpg fruits.jpg squirrel_cls.jpg)
columns=("")
for lora in pan-left pan-up pan-down static; do
  [[ -f "models/svd-mini/loras/$lora.safetensors" ]] && columns+=("$lora")
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p docs/svd-mini
for photo in "${photos[@]}"; do
  name="${photo%.*}"
  inputs=()
  for lora in "${columns[@]}"; do
    out="$tmp/$name-${lora:-none}/"
    node bin/svd.mjs generate --image "/usr/share/doc/opencv-doc/examples/data/$photo" --seed "$seed" --quiet \
      ${lora:+--lora "$lora"} --out "$out"
    inputs+=(-framerate 8 -i "${out}frame_%04d.png")
  done
  # the columns 128 px each side by side (PNG frames, so nothing is compressed twice), a 2 px white gap, looping
  # forever at the model's 8 fps (fps_id 7 + 1)
  n=${#columns[@]} graph="" last=$((${#columns[@]} - 1))
  for ((i = 0; i < last; i++)); do graph+="[$i]pad=130:128:0:0:white[c$i];"; done
  for ((i = 0; i < last; i++)); do graph+="[c$i]"; done
  if ((n > 1)); then graph+="[$last]hstack=$n,format=rgb24"; else graph="[0]format=rgb24"; fi
  ffmpeg -hide_banner -loglevel error -y "${inputs[@]}" -filter_complex "$graph" \
    -c:v libwebp -lossless 0 -quality 80 -loop 0 "$tmp/$name.webp"
  mv "$tmp/$name.webp" "docs/svd-mini/sample-$name.webp"
  echo "samples: docs/svd-mini/sample-$name.webp ($(du -k "docs/svd-mini/sample-$name.webp" | cut -f1) kB)" >&2
done

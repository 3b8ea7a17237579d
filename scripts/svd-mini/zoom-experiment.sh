#!/usr/bin/env bash
# The zoom experiment of issue 11 (README, "Zoom"; not part of the recipe): does svd-mini learn to zoom when its
# image-to-video training sees as many zooms as pans? Adds the second footage set (build-zoom-footage.ts: zooms at
# three rates over each training photo and its mirror, 330 clips) to a copy of the recipe's curated store, trains
# i2v-5 on the whole of it for 4000 more steps (models/svd-mini/experiments/zoom-i2v.json) and a zoom-in LoRA on that
# with the recipe's LoRA settings (zoom-lora.json). Needs the recipe's footage, store and i2v-5 run
# (bash scripts/train-svd-mini.sh); resumable like the recipe; about 1 h 25 min on the 2-core machine.
# Usage: bash scripts/svd-mini/zoom-experiment.sh   → runs/svd-mini-zoom/{i2v-6,lora-zoom-in}
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
data=data/svd-mini
runs=runs/svd-mini-zoom
svd() { node "$root/bin/svd.mjs" "$@"; }
log() { echo "zoom-experiment: $*" >&2; }
for need in "$data/corpus.db" "$data/manifest.jsonl" runs/svd-mini/i2v-5/model.safetensors; do
  [[ -e "$need" ]] || { echo "zoom-experiment: $need is missing: run bash scripts/train-svd-mini.sh first" >&2; exit 1; }
done
mkdir -p "$runs"

[[ -f "$data/footage-zoom.jsonl" ]] || node --import tsx scripts/svd-mini/build-zoom-footage.ts "$data"
# a copy of the store: the recipe's manifests keep the motion buckets they were trained with (a clip's bucket is its
# corpus percentile, and 330 slow-to-fast zooms move every percentile)
if [[ ! -f "$data/manifest-zoom-exp.jsonl" ]]; then
  [[ -f "$data/corpus-zoom.db" ]] || cp "$data/corpus.db" "$data/corpus-zoom.db"
  log "curating the zoom footage"
  svd curate "$data/footage/train-zoom" --db "$data/corpus-zoom.db" --quiet
  svd curate filter --db "$data/corpus-zoom.db" --max-text 0.1 --out "$data/manifest-zoom-exp.jsonl"
fi
[[ -f "$data/manifest-zoom-exp-zoom-in.jsonl" ]] ||
  svd curate filter --db "$data/corpus-zoom.db" --max-text 0.1 --label camera_motion=zoom-in --out "$data/manifest-zoom-exp-zoom-in.jsonl"

train() { # run config [args…]
  local run="$1" config="$2"
  shift 2
  if [[ -f "$run/model.safetensors" || -f "$run/lora.safetensors" ]]; then log "$run: done"
  elif [[ -f "$run/config.json" ]]; then svd train --resume "$run"
  else svd train --config "$config" --run "$run" "$@"; fi
}
train "$runs/i2v-6" models/svd-mini/experiments/zoom-i2v.json
train "$runs/lora-zoom-in" models/svd-mini/experiments/zoom-lora.json
log "done: $runs/i2v-6/model.safetensors, $runs/lora-zoom-in/lora.safetensors"

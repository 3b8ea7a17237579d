/**
 * sgm `GeneralConditioner` for image-to-video (svd-spec.md §1.4, §2.1 step 4, §2.2):
 * - `crossattn` [B, 1, D]: CLIP image embedding of the clean frame (`cond_frames_without_noise`);
 * - `vector` [T, Σ outdim]: timestep embeddings of the micro-conditions (`fps_id`, `motion_bucket_id`, `cond_aug`, …);
 * - `concat` [B, 4, h, w]: the posterior **mean** of `quant_conv(encoder(cond_frames))`, unscaled (scale_factor 1).
 * The unconditional branch (`force_uc_zero_embeddings = [cond_frames, cond_frames_without_noise]`) has zeros for
 * crossattn and concat and keeps the same vector: see `unconditional`.
 */
import type { GraphBuilder, SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';
import type { ClipVisionConfig } from '../models/clip/config.ts';
import { frozenOpenClipImagePredictionEmbedder } from '../models/clip/image-embedder.ts';
import { encodeModeOnly } from '../models/vae/autoencoder.ts';
import { declareModeOnlyUnused } from '../models/vae/declarations.ts';
import type { Params } from '../nn/params.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import type { EmbedderSpec } from './conditioner-config.ts';
import { concatTimestepEmbedding } from './micro-conditioning.ts';

export interface ConditionerOutputs {
  crossattn?: SymTensor;
  vector?: SymTensor;
  concat?: SymTensor;
}

/**
 * Builds the conditioner. `inputs` by the embedders' input keys: `cond_frames_without_noise` and `cond_frames`
 * [B, 3, H, W] in [−1, 1], micro-conditions [T] (int64 or float32). `p` is the model root (keys `conditioner.…`).
 */
export function buildConditioner(
  p: Params,
  embedders: readonly EmbedderSpec[],
  clip: ClipVisionConfig,
  inputs: Readonly<Record<string, SymTensor>>,
): ConditionerOutputs {
  const root = p.pp('conditioner').pp('embedders');
  const vectors: SymTensor[] = [];
  const out: ConditionerOutputs = {};
  const need = (key: string) => {
    const x = inputs[key];
    if (!x) throw new Error(`conditioner input "${key}" is missing`);
    return x;
  };
  for (const e of embedders) {
    const pe = root.pp(e.index);
    switch (e.kind) {
      case 'clip-image':
        out.crossattn = frozenOpenClipImagePredictionEmbedder(pe, need(e.inputKey), clip, {
          nCondFrames: e.nCondFrames,
          nCopies: e.nCopies,
        });
        break;
      case 'timestep':
        vectors.push(concatTimestepEmbedding(need(e.inputKey), e.outdim));
        break;
      case 'cond-frames-encoder': {
        const enc = pe.pp('encoder');
        declareModeOnlyUnused(enc, e.autoencoder);
        // VideoPredictionEmbedderWithEncoder: `(b t) c h w -> b () (t c) h w` with t = n_cond_frames = 1, then
        // n_copies repeats; for SVD this is the [B, 4, h, w] latent itself.
        out.concat = encodeModeOnly(enc, need(e.inputKey), e.autoencoder);
        if (e.nCopies !== 1) throw new Error('cond_frames n_copies ≠ 1 is not supported');
        break;
      }
    }
  }
  if (vectors.length > 0) out.vector = op.concat(vectors, 1);
  return out;
}

/** Declares every conditioner parameter without building a graph that runs (shape-only builds, strict loading). */
export function declareConditioner(
  b: GraphBuilder,
  p: Params,
  embedders: readonly EmbedderSpec[],
  clip: ClipVisionConfig,
): void {
  const inputs: Record<string, SymTensor> = {};
  for (const e of embedders) {
    if (e.kind === 'timestep') inputs[e.inputKey] = b.input(e.inputKey, [1]);
    else inputs[e.inputKey] = b.input(e.inputKey, [1, 3, clip.imageSize, clip.imageSize]);
  }
  buildConditioner(p, embedders, clip, inputs);
}

/** The unconditional branch: zeros for crossattn and concat, the same vector (svd-spec §7 item 2). */
export function unconditional(c: Readonly<Record<string, HostTensor>>): Record<string, HostTensor> {
  const uc: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(c)) {
    uc[k] = k === 'crossattn' || k === 'concat' ? HostTensor.zeros('float32', t.shape) : t;
  }
  return uc;
}

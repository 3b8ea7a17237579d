/**
 * sgm `GeneralConditioner` (svd-spec.md §1.4, §2.1 step 4, §2.2) as a graph, for the embedders of a model description:
 * - `crossattn` [B, 1, D]: CLIP image embedding of the clean frame (`cond_frames_without_noise`);
 * - `vector` [N, Σ outdim]: timestep embeddings of the micro-conditions (`fps_id`, `motion_bucket_id`, `cond_aug`, …),
 *   concatenated in embedder order;
 * - `concat` [B, 4, h, w]: the posterior **mean** of `quant_conv(encoder(cond_frames))`, unscaled (scale_factor 1).
 *
 * Conditioning dropout (`ucg_rate`, training): sgm multiplies each embedder's output by a per-sample Bernoulli(1 − rate)
 * draw before the outputs are joined. Here the draw is an input `keep.<index>` [rows of that output] (1 keep, 0 drop)
 * for every embedder named in `dropout`; the host draws it (src/conditioning/dropout.ts).
 */
import type { GraphBuilder, SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import type { Params } from '../../nn/params.ts';
import type { ClipVisionConfig } from '../clip/config.ts';
import { frozenOpenClipImagePredictionEmbedder } from '../clip/image-embedder.ts';
import { type EmbedderSpec, embedderPrefix } from '../description.ts';
import { encodeModeOnly } from '../vae/autoencoder.ts';
import { declareModeOnlyUnused } from '../vae/declarations.ts';
import { concatTimestepEmbedding } from './micro-conditioning.ts';

export interface ConditionerOutputs {
  crossattn?: SymTensor;
  vector?: SymTensor;
  concat?: SymTensor;
}

/** The name of the dropout mask input of an embedder. */
export function keepInputName(e: Pick<EmbedderSpec, 'index'>): string {
  return `keep.${e.index}`;
}

/** x · keep, with keep [N] broadcast over the other dimensions of x [N, …]. */
function applyKeep(x: SymTensor, keep: SymTensor): SymTensor {
  const shape = [x.shape[0], ...new Array<number>(x.rank - 1).fill(1)];
  return op.mul(x, op.reshape(keep, shape)); // keep [N] -> [N, 1, …]
}

/**
 * Builds the conditioner. `inputs` by the embedders' input keys: `cond_frames_without_noise` and `cond_frames`
 * [B, 3, H, W] in [−1, 1], micro-conditions [T] (int64 or float32), and `keep.<index>` masks for the embedders in
 * `dropout`. `p` is the model root (keys `conditioner.embedders.<index>.…`).
 */
export function buildConditioner(
  p: Params,
  embedders: readonly EmbedderSpec[],
  clip: ClipVisionConfig,
  inputs: Readonly<Record<string, SymTensor>>,
  dropout: readonly EmbedderSpec[] = [],
): ConditionerOutputs {
  const vectors: SymTensor[] = [];
  const out: ConditionerOutputs = {};
  const need = (key: string) => {
    const x = inputs[key];
    if (!x) throw new Error(`conditioner input "${key}" is missing`);
    return x;
  };
  const masked = (e: EmbedderSpec, x: SymTensor) =>
    dropout.some((d) => d.index === e.index) ? applyKeep(x, need(keepInputName(e))) : x;
  for (const e of embedders) {
    const pe = p.pp(embedderPrefix(e));
    switch (e.kind) {
      case 'clip-image':
        out.crossattn = masked(
          e,
          frozenOpenClipImagePredictionEmbedder(pe, need(e.inputKey), clip, {
            nCondFrames: e.nCondFrames,
            nCopies: e.nCopies,
          }),
        );
        break;
      case 'timestep':
        vectors.push(masked(e, concatTimestepEmbedding(need(e.inputKey), e.outdim)));
        break;
      case 'cond-frames-encoder': {
        const enc = pe.pp('encoder');
        declareModeOnlyUnused(enc, e.autoencoder);
        // VideoPredictionEmbedderWithEncoder: `(b t) c h w -> b () (t c) h w` with t = n_cond_frames = 1, then
        // n_copies repeats; for SVD this is the [B, 4, h, w] latent itself.
        if (e.nCopies !== 1) throw new Error('cond_frames n_copies ≠ 1 is not supported');
        out.concat = masked(e, encodeModeOnly(enc, need(e.inputKey), e.autoencoder));
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

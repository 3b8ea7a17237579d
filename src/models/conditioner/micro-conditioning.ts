/**
 * Micro-conditioning (paper §3, App. D): frame rate, motion bucket and noise augmentation are each embedded with a
 * sinusoidal timestep embedding and concatenated into the UNet's `vector` (adm) input.
 *
 * sgm `ConcatTimestepEmbedderND(outdim)`: `x [N, d] -> (N d)`, `timestep_embedding(x.float(), outdim)`, then
 * `(N d) outdim -> N (d outdim)`; `GeneralConditioner` concatenates the embedders with key `vector` in their order
 * (svd: fps_id, motion_bucket_id, cond_aug → 3 × 256 = 768; sv3d_p: cond_aug, polars_rad (512), azimuths_rad (512)).
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { timestepEmbedding } from '../../nn/timestep-embedding.ts';

/** One ConcatTimestepEmbedderND: x [N] (any numeric dtype) → [N, outdim]. */
export function concatTimestepEmbedding(x: SymTensor, outdim: number): SymTensor {
  const t = x.dtype === 'float32' ? x : op.cast(x, 'float32');
  return timestepEmbedding(op.reshape(t, [t.size]), outdim);
}

export interface MicroCondition {
  /** The batch key of the reference (`fps_id`, `motion_bucket_id`, `cond_aug`, `polars_rad`, `azimuths_rad`). */
  key: string;
  outdim: number;
}

/** The `vector` conditioning: the embeddings of `inputs` (in the order of `conds`) concatenated → [N, Σ outdim]. */
export function microConditioningVector(
  inputs: Readonly<Record<string, SymTensor>>,
  conds: readonly MicroCondition[],
): SymTensor {
  const parts = conds.map((c) => {
    const x = inputs[c.key];
    if (!x) throw new Error(`micro-conditioning input "${c.key}" is missing`);
    return concatTimestepEmbedding(x, c.outdim);
  });
  return op.concat(parts, 1);
}

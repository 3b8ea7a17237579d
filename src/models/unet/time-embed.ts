/**
 * sgm `VideoUNet.time_embed` (svd-spec.md §2.4): `timestep_embedding(timesteps, model_channels)` (cos first,
 * max_period 10000) → Linear(C, 4C) → SiLU → Linear(4C, 4C).
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { linear } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import { timestepEmbedding } from '../../nn/timestep-embedding.ts';

/** The sinusoidal `t_emb`: timesteps [N] float32 → [N, modelChannels]. */
export function timestepFeatures(timesteps: SymTensor, modelChannels: number): SymTensor {
  return timestepEmbedding(timesteps, modelChannels, 10000);
}

/** `time_embed` (a Sequential: `.0` Linear, `.1` SiLU, `.2` Linear): t_emb [N, C] → [N, embDim]. */
export function timeEmbed(p: Params, tEmb: SymTensor, modelChannels: number, embDim: number): SymTensor {
  const h = op.silu(linear(p.pp(0), tEmb, modelChannels, embDim));
  return linear(p.pp(2), h, embDim, embDim);
}

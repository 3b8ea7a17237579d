/**
 * sgm `VideoUNet.label_emb` for `num_classes: "sequential"` (svd-spec.md §1.2, §2.4):
 * Sequential(Sequential(Linear(adm_in_channels, 4C), SiLU, Linear(4C, 4C))), hence the keys `label_emb.0.0` and
 * `label_emb.0.2`. In SVD `y` is the 768-wide fps / motion / cond-aug embedding.
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { linear } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';

/** y [N, admInChannels] → [N, embDim]. */
export function labelEmb(p: Params, y: SymTensor, admInChannels: number, embDim: number): SymTensor {
  const mlp = p.pp(0);
  const h = op.silu(linear(mlp.pp(0), y, admInChannels, embDim));
  return linear(mlp.pp(2), h, embDim, embDim);
}

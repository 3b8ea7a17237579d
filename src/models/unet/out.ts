/**
 * sgm `VideoUNet.out` (svd-spec.md §2.4): GroupNorm32(32, C, eps 1e-5) → SiLU → Conv2d(C, out_channels, 3, pad 1)
 * (keys `out.0`, `out.2`).
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { conv, groupNorm } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import { RESBLOCK_GROUPNORM_EPS } from './res-block.ts';

/** h [N, C, h, w] → [N, outChannels, h, w]. */
export function outHead(p: Params, h: SymTensor, channels: number, outChannels: number): SymTensor {
  const normed = op.silu(groupNorm(p.pp(0), h, channels, RESBLOCK_GROUPNORM_EPS));
  return conv(p.pp(2), normed, channels, outChannels, { kernel: 3, padding: 1 });
}

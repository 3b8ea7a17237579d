/** `sgm/modules/diffusionmodules/model.py::{Downsample, Upsample}` with `resamp_with_conv = True`. */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { conv } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';

/**
 * Downsample: zero padding (left 0, right 1, top 0, bottom 1) then Conv2d 3×3 stride 2 without padding (`conv`).
 * The pad is the conv's own asymmetric padding [h_begin, w_begin, h_end, w_end] = [0, 0, 1, 1]: the same zeros.
 */
export function downsample(p: Params, x: SymTensor, channels: number): SymTensor {
  return conv(p.pp('conv'), x, channels, channels, { kernel: 3, stride: 2, padding: [0, 0, 1, 1] });
}

/** Upsample: nearest-neighbour ×2 (`F.interpolate(scale_factor=2, mode="nearest")`) then Conv2d 3×3 pad 1 (`conv`). */
export function upsample(p: Params, x: SymTensor, channels: number): SymTensor {
  const [, , h, w] = x.shape;
  const up = op.resize(x, [2 * h, 2 * w], { mode: 'nearest' });
  return conv(p.pp('conv'), up, channels, channels, { kernel: 3, padding: 1 });
}

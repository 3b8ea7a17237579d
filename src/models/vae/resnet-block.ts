/**
 * The VAE's spatial building blocks from `sgm/modules/diffusionmodules/model.py`: `Normalize` (GroupNorm, 32 groups,
 * eps 1e-6), `nonlinearity` (swish) and `ResnetBlock` without a time embedding (`temb_channels = 0`).
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { conv, groupNorm } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';

/** GroupNorm eps of every spatial VAE norm (`model.py::Normalize`). */
export const VAE_NORM_EPS = 1e-6;

/** `model.py::Normalize`: torch.nn.GroupNorm(32, C, eps=1e-6, affine=True). */
export function vaeNorm(p: Params, x: SymTensor, channels: number): SymTensor {
  return groupNorm(p, x, channels, VAE_NORM_EPS, 32);
}

/** `model.py::nonlinearity`: x·sigmoid(x). */
export function swish(x: SymTensor): SymTensor {
  return op.silu(x);
}

/**
 * `model.py::ResnetBlock` (temb None, dropout a no-op at inference): x [N, inC, H, W] → [N, outC, H, W].
 * h = conv1(swish(norm1(x))); h = conv2(swish(norm2(h))); return shortcut(x) + h, where the shortcut is the 1×1
 * `nin_shortcut` when the channel count changes (the reference's `conv_shortcut` option is never used by the VAE).
 */
export function resnetBlock(p: Params, x: SymTensor, inC: number, outC: number): SymTensor {
  let h = swish(vaeNorm(p.pp('norm1'), x, inC));
  h = conv(p.pp('conv1'), h, inC, outC, { kernel: 3, padding: 1 });
  h = swish(vaeNorm(p.pp('norm2'), h, outC));
  h = conv(p.pp('conv2'), h, outC, outC, { kernel: 3, padding: 1 });
  const shortcut = inC === outC ? x : conv(p.pp('nin_shortcut'), x, inC, outC, { kernel: 1 });
  return op.add(shortcut, h);
}

/**
 * The VAE's spatial building blocks from `sgm/modules/diffusionmodules/model.py`: `Normalize` (GroupNorm, eps 1e-6;
 * 32 groups in the reference, here the config's `normGroups`), `nonlinearity` (swish) and `ResnetBlock` without a time
 * embedding (`temb_channels = 0`).
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { conv, groupNorm } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';

/** GroupNorm eps of every spatial VAE norm (`model.py::Normalize`). */
export const VAE_NORM_EPS = 1e-6;

/**
 * The groups of a VAE GroupNorm at `p` over `channels`, checked: a RangeError naming the layer when `channels` does
 * not split into `groups` (torch.nn.GroupNorm's "num_channels must be divisible by num_groups").
 */
export function normGroupsFor(p: Params, channels: number, groups: number): number {
  if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
    const layer = p.prefix || 'VAE GroupNorm';
    throw new RangeError(`${layer}: ${channels} channels do not split into ${groups} GroupNorm groups (normGroups)`);
  }
  return groups;
}

/**
 * `model.py::Normalize`: torch.nn.GroupNorm(groups, C, eps=1e-6, affine=True); the reference's groups are 32
 * (`VAE_DEFAULT_NORM_GROUPS`), `groups` is the config's `normGroups` (config.ts::vaeNormGroups).
 */
export function vaeNorm(p: Params, x: SymTensor, channels: number, groups: number): SymTensor {
  return groupNorm(p, x, channels, VAE_NORM_EPS, normGroupsFor(p, channels, groups));
}

/** `model.py::nonlinearity`: x·sigmoid(x). */
export function swish(x: SymTensor): SymTensor {
  return op.silu(x);
}

/**
 * `model.py::ResnetBlock` (temb None, dropout a no-op at inference): x [N, inC, H, W] → [N, outC, H, W].
 * h = conv1(swish(norm1(x))); h = conv2(swish(norm2(h))); return shortcut(x) + h, where the shortcut is the 1×1
 * `nin_shortcut` when the channel count changes (the reference's `conv_shortcut` option is never used by the VAE).
 * `groups`: the GroupNorm groups of norm1 and norm2 (the config's `normGroups`).
 */
export function resnetBlock(p: Params, x: SymTensor, inC: number, outC: number, groups: number): SymTensor {
  let h = swish(vaeNorm(p.pp('norm1'), x, inC, groups));
  h = conv(p.pp('conv1'), h, inC, outC, { kernel: 3, padding: 1 });
  h = swish(vaeNorm(p.pp('norm2'), h, outC, groups));
  h = conv(p.pp('conv2'), h, outC, outC, { kernel: 3, padding: 1 });
  const shortcut = inC === outC ? x : conv(p.pp('nin_shortcut'), x, inC, outC, { kernel: 1 });
  return op.add(shortcut, h);
}

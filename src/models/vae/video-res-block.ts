/**
 * `sgm/modules/autoencoding/temporal_ae.py::VideoResBlock`: the spatial `ResnetBlock`, then a temporal residual block
 * `time_stack` over [b, C, t, h, w], blended as α·temporal + (1 − α)·spatial (note: the UNet's AlphaBlender blends the
 * other way round), α = sigmoid(mix_factor) (`learned`) or mix_factor (`fixed`, a persistent buffer).
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { conv, groupNorm } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import type { VaeMergeStrategy } from './config.ts';
import { normGroupsFor, resnetBlock } from './resnet-block.ts';
import type { Tap } from './tap.ts';

/** GroupNorm eps of `time_stack` (`GroupNorm32` = torch default 1e-5, unlike the spatial VAE norms). */
export const TIME_STACK_NORM_EPS = 1e-5;

/**
 * `sgm/modules/diffusionmodules/openaimodel.py::ResBlock(dims=3, emb_channels=0, skip_t_emb=True)` with equal in/out
 * channels: h = in_layers(x) = conv(silu(GN(x))); the skipped time embedding adds zeros; h = out_layers(h) =
 * conv(dropout(silu(GN(h)))); return x + h. x [b, C, t, h, w]; the GroupNorm takes its statistics over
 * C/groups × t × h × w, so every frame of the chunk is normalised together; the convs pad zeros at both ends in time.
 * The reference's `normalization` is GroupNorm32 (32 groups); `groups` is the config's `normGroups`.
 */
export function timeStack(
  p: Params,
  x: SymTensor,
  channels: number,
  kernel: readonly number[],
  groups: number,
): SymTensor {
  const padding = kernel.map((k) => Math.floor(k / 2));
  const inL = p.pp('in_layers');
  const norm = (q: Params, v: SymTensor) =>
    groupNorm(q, v, channels, TIME_STACK_NORM_EPS, normGroupsFor(q, channels, groups));
  let h = op.silu(norm(inL.pp(0), x));
  h = conv(inL.pp(2), h, channels, channels, { kernel, padding });
  const outL = p.pp('out_layers');
  h = op.silu(norm(outL.pp(0), h));
  h = conv(outL.pp(3), h, channels, channels, { kernel, padding });
  return op.add(x, h);
}

export interface VideoResBlockSpec {
  /** Frames per video in the (b t) batch (`timesteps` = the decoded chunk's length). */
  timesteps: number;
  /** Temporal conv kernel [kt, kh, kw]. */
  kernel: readonly number[];
  mergeStrategy: VaeMergeStrategy;
  /** GroupNorm groups of the spatial ResnetBlock's and the time stack's norms (the config's `normGroups`). */
  normGroups: number;
  tap?: Tap;
}

/** x [(b t), inC, H, W] → [(b t), outC, H, W]. */
export function videoResBlock(p: Params, x: SymTensor, inC: number, outC: number, s: VideoResBlockSpec): SymTensor {
  const xs = resnetBlock(p, x, inC, outC, s.normGroups); // [(b t), C, H, W]
  const [bt, c, h, w] = xs.shape;
  const t = s.timesteps;
  if (bt % t !== 0) throw new Error(`VideoResBlock: batch ${bt} is not a multiple of ${t} frames`);
  const b = bt / t;
  const xMix = op.transpose(op.reshape(xs, [b, t, c, h, w]), [0, 2, 1, 3, 4]); // [(b t), C, H, W] -> [b, C, t, H, W]
  s.tap?.(`${p.prefix}.time_stack:input`, xMix);
  const xt = timeStack(p.pp('time_stack'), xMix, outC, s.kernel, s.normGroups); // [b, C, t, H, W]
  s.tap?.(`${p.prefix}.time_stack`, xt);
  const mix = p.get('mix_factor', [1]);
  const alpha = s.mergeStrategy === 'learned' ? op.sigmoid(mix) : mix;
  const blended = op.add(op.mul(alpha, xt), op.mul(op.sub(1, alpha), xMix)); // α·temporal + (1 − α)·spatial
  return op.reshape(op.transpose(blended, [0, 2, 1, 3, 4]), [bt, c, h, w]); // [b, C, t, H, W] -> [(b t), C, H, W]
}

/** Ops expressed with primitives: group norm, variance. */
import { formatShape } from '../../tensor/shape.ts';
import type { SymTensor } from '../builder.ts';
import { ShapeError } from '../errors.ts';
import { mul, sub } from './elementwise.ts';
import { normAxis } from './infer-utils.ts';
import { mean, sum } from './reduce.ts';
import { reshape } from './shape-ops.ts';

/**
 * torch.nn.GroupNorm over x [N, C, ...]: statistics over C/G channels × all remaining dims (so for the reference's
 * temporal blocks on [B, C, T, H, W], over C/G × T × H × W), biased variance, then a per-channel affine.
 * Rank 2 inputs [N, C] are treated as [N, C, 1]. See the `GroupNorm` primitive (ops/norm.ts) for the lowering.
 */
export function groupNorm(x: SymTensor, numGroups: number, gamma?: SymTensor, beta?: SymTensor, eps = 1e-5): SymTensor {
  if (x.rank < 2) throw new ShapeError('GroupNorm', `input must have rank ≥ 2, got ${formatShape(x.shape)}`);
  const [, c] = x.shape;
  if (c % numGroups !== 0) throw new ShapeError('GroupNorm', `${c} channels do not split into ${numGroups} groups`);
  if (x.rank === 2) return reshape(groupNorm(reshape(x, [...x.shape, 1]), numGroups, gamma, beta, eps), x.shape);
  return x.builder.emit('GroupNorm', [x, gamma, beta], { numGroups, epsilon: eps })[0];
}

/** Variance over `axes` with Bessel-style `correction` (0 = biased, torch's `unbiased=False`), two-pass. */
export function variance(x: SymTensor, axes: number | readonly number[], keepdims = false, correction = 0): SymTensor {
  const list = (typeof axes === 'number' ? [axes] : [...axes]).map((a) => normAxis('Variance', a, x.rank));
  const count = list.reduce((p, a) => p * x.shape[a], 1);
  const centred = sub(x, mean(x, list, true));
  const sq = mul(centred, centred);
  if (correction === 0) return mean(sq, list, keepdims);
  return mul(sum(sq, list, keepdims), 1 / (count - correction));
}

/** Ops expressed with primitives: group norm, variance. */
import { formatShape } from '../../tensor/shape.ts';
import type { SymTensor } from '../builder.ts';
import { ShapeError } from '../errors.ts';
import { add, mul, sub } from './elementwise.ts';
import { normAxis } from './infer-utils.ts';
import { layerNorm } from './norm.ts';
import { mean, sum } from './reduce.ts';
import { reshape } from './shape-ops.ts';

/**
 * torch.nn.GroupNorm over x [N, C, ...]: statistics over C/G channels × all remaining dims (so for the reference's
 * temporal blocks on [B, C, T, H, W], over C/G × T × H × W), biased variance, then a per-channel affine.
 *
 * Lowered as Reshape [N, G, −1] → LayerNormalization(axis −1) → Reshape → ·γ + β (DESIGN.md decision 4): exact on
 * inputs with a large mean, unlike E[x²] − E[x]².
 */
export function groupNorm(x: SymTensor, numGroups: number, gamma?: SymTensor, beta?: SymTensor, eps = 1e-5): SymTensor {
  if (x.rank < 2) throw new ShapeError('GroupNorm', `input must have rank ≥ 2, got ${formatShape(x.shape)}`);
  const [n, c] = x.shape;
  if (c % numGroups !== 0) throw new ShapeError('GroupNorm', `${c} channels do not split into ${numGroups} groups`);
  for (const [p, what] of [
    [gamma, 'weight'],
    [beta, 'bias'],
  ] as const) {
    if (p && (p.rank !== 1 || p.shape[0] !== c)) {
      throw new ShapeError('GroupNorm', `${what} ${formatShape(p.shape)} does not match ${c} channels`);
    }
  }
  // [N, C, ...] → [N, G, C/G·rest]
  const grouped = reshape(x, [n, numGroups, -1]);
  let y = reshape(layerNorm(grouped, undefined, undefined, eps, -1), x.shape);
  const affineShape = [c, ...new Array(x.rank - 2).fill(1)];
  if (gamma) y = mul(y, reshape(gamma, affineShape));
  if (beta) y = add(y, reshape(beta, affineShape));
  return y;
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

/** VJP rules of the normalisations: LayerNorm and GroupNorm (variance is a composite of differentiable primitives). */
import type { SymTensor } from '../../builder.ts';
import * as op from '../../ops/index.ts';
import { sumToShape } from '../helpers.ts';
import { registerVjp } from '../vjp.ts';

/**
 * x̂ = (x − μ)·r and r = 1/√(σ² + ε) over `axes` (kept as size 1 in r), statistics recomputed two-pass after
 * shifting by the first element of each normalised block (x − x₀ is exact in float32 for badly centred inputs, so a
 * mean-300 input keeps the precision of its spread, as the forward GroupNorm lowering does).
 */
function standardize(x: SymTensor, axes: readonly number[], eps: number): { xhat: SymTensor; r: SymTensor } {
  const first = op.slice(
    x,
    axes.map(() => 0),
    axes.map(() => 1),
    axes,
  );
  const shifted = op.sub(x, first);
  const xc = op.sub(shifted, op.mean(shifted, axes, true));
  const r = op.rsqrt(op.add(op.mean(op.mul(xc, xc), axes, true), eps));
  return { xhat: op.mul(xc, r), r };
}

/** The input gradient of standardisation, given ĝ = ȳ·γ: x̄ = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) over `axes`. */
function standardizeGrad(gh: SymTensor, xhat: SymTensor, r: SymTensor, axes: readonly number[]): SymTensor {
  const centred = op.sub(gh, op.mean(gh, axes, true));
  return op.mul(r, op.sub(centred, op.mul(xhat, op.mean(op.mul(gh, xhat), axes, true))));
}

/**
 * LayerNorm y = x̂·γ + β, statistics over the dims from `axis` on: β̄ = Σ ȳ and γ̄ = Σ ȳ·x̂ over the dims γ/β were
 * broadcast along; x̄ = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = ȳ·γ.
 */
registerVjp('LayerNorm', ({ inputs: [x, scale, bias], grads: [g], needs, attrs }) => {
  const axis = (attrs.axis as number) < 0 ? (attrs.axis as number) + x!.rank : (attrs.axis as number);
  const axes = x!.shape.map((_, i) => i).filter((i) => i >= axis);
  const { xhat, r } = standardize(x!, axes, attrs.epsilon as number);
  return [
    needs[0] ? standardizeGrad(scale ? op.mul(g!, scale) : g!, xhat, r, axes) : undefined,
    needs[1] && scale ? sumToShape(op.mul(g!, xhat), scale.shape) : undefined,
    needs[2] && bias ? sumToShape(g!, bias.shape) : undefined,
  ];
});

/**
 * GroupNorm over x [N, C, ...]: the standardisation of x viewed as [N, G, C/G·rest] (statistics per sample and
 * group), then y = x̂·γ_c + β_c per channel. β̄ = Σ_{n,rest} ȳ, γ̄ = Σ_{n,rest} ȳ·x̂, and x̄ is the standardisation
 * gradient of ĝ = ȳ·γ_c in the grouped view.
 */
registerVjp('GroupNorm', ({ inputs: [x, gamma, beta], grads: [g], needs, attrs }) => {
  const X = x!.shape;
  const [N, C] = X;
  const G = attrs.numGroups as number;
  const grouped = (t: SymTensor) => op.reshape(t, [N, G, -1]); // [N, C, ...] -> [N, G, C/G·rest]
  const { xhat, r } = standardize(grouped(x!), [2], attrs.epsilon as number);
  const perChannel = [0, ...X.slice(2).map((_, i) => i + 2)];
  let dx: SymTensor | undefined;
  if (needs[0]) {
    const gh = gamma ? op.mul(g!, op.reshape(gamma, [C, ...X.slice(2).map(() => 1)])) : g!; // γ [C] -> [C, 1, ...]
    dx = op.reshape(standardizeGrad(grouped(gh), xhat, r, [2]), X);
  }
  return [
    dx,
    needs[1] && gamma ? op.sum(op.mul(g!, op.reshape(xhat, X)), perChannel) : undefined,
    needs[2] && beta ? op.sum(g!, perChannel) : undefined,
  ];
});

/**
 * VJP rules of the data-movement ops: Reshape, Transpose, Slice, Concat, Split, Pad, Expand, Gather, and of the
 * backward-only ScatterAdd / GatherElements. Each is a linear map that only moves (or copies) elements, so its
 * adjoint moves them back, summing where the forward copied one element to several places.
 */
import * as op from '../../ops/index.ts';
import { flip, padAxis, sumToShape, zeros } from '../helpers.ts';
import { registerVjp } from '../vjp.ts';

/** Reshape: x̄ = reshape(ȳ, shape of x). */
registerVjp('Reshape', ({ inputs: [x], grads: [g] }) => [op.reshape(g!, x!.shape)]);

/** Transpose by perm: x̄ = transpose(ȳ, perm⁻¹). */
registerVjp('Transpose', ({ grads: [g], attrs }) => {
  const perm = attrs.perm as readonly number[];
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inverse[p] = i;
  });
  return [op.transpose(g!, inverse)];
});

/**
 * Slice (any steps): x̄ is ȳ put back at the sliced positions, zeros elsewhere. Per sliced axis: a negative step is
 * undone by a flip (the positions then ascend from the last one taken); a step |s| > 1 by interleaving |s| − 1 zeros
 * after each element (reshape [.., L, 1, ..], pad to [.., L, |s|, ..], reshape, cut the trailing zeros); then one
 * Pad puts the block at its first position.
 */
registerVjp('Slice', ({ inputs: [x], grads: [g], attrs }) => {
  const X = x!.shape;
  const { starts, axes, steps } = attrs as Record<string, readonly number[]>;
  if (g!.shape.some((d) => d === 0)) return [zeros(x!.builder, X, x!.dtype)];
  let cur = g!;
  const pads = new Array<number>(2 * X.length).fill(0);
  const flipAxes: number[] = [];
  const plan = axes.map((ax, j) => {
    const a = ax < 0 ? ax + X.length : ax;
    const dim = X[a];
    const step = steps[j];
    let s = starts[j] < 0 ? starts[j] + dim : starts[j];
    s = step > 0 ? Math.min(Math.max(s, 0), dim) : Math.min(Math.max(s, 0), dim - 1);
    const len = g!.shape[a];
    if (step < 0) flipAxes.push(a);
    return { a, dim, len, first: step > 0 ? s : s + (len - 1) * step, stride: Math.abs(step) };
  });
  cur = flip(cur, flipAxes);
  for (const { a, dim, len, first, stride } of plan) {
    let span = len;
    if (stride > 1 && len > 1) {
      const shape = cur.shape;
      const split = [...shape.slice(0, a + 1), 1, ...shape.slice(a + 1)]; // [.., L, ..] -> [.., L, 1, ..]
      const spread = padAxis(op.reshape(cur, split), a + 1, 0, stride - 1); // -> [.., L, |s|, ..]
      const joined = op.reshape(
        spread,
        shape.map((d, i) => (i === a ? len * stride : d)),
      ); // -> [.., L·|s|, ..]
      span = (len - 1) * stride + 1;
      cur = op.narrow(joined, a, 0, span);
    }
    pads[a] = first;
    pads[a + X.length] = dim - first - span;
  }
  return [pads.some((p) => p !== 0) ? op.pad(cur, pads) : cur];
});

/** Concat along an axis: each input's gradient is its block of ȳ (one Split when all are needed). */
registerVjp('Concat', ({ inputs, grads: [g], needs, attrs }) => {
  const axis = (attrs.axis as number) < 0 ? (attrs.axis as number) + g!.rank : (attrs.axis as number);
  const sizes = inputs.map((t) => t!.shape[axis]);
  if (needs.every(Boolean)) return op.split(g!, sizes, axis);
  let offset = 0;
  return inputs.map((_, i) => {
    const start = offset;
    offset += sizes[i];
    return needs[i] ? op.narrow(g!, axis, start, sizes[i]) : undefined;
  });
});

/** Split: x̄ = concat of the output gradients along the axis (zeros for outputs that got none). */
registerVjp('Split', ({ inputs: [x], outputs, grads, attrs }) => {
  const parts = outputs.map((o, i) => grads[i] ?? zeros(x!.builder, o.shape, o.dtype));
  return [op.concat(parts, attrs.axis as number)];
});

/**
 * Pad. Constant: x̄ is the interior block of ȳ (a Slice; negative pads, which crop, become zero padding).
 * Reflect/edge, per padded axis of length n with pads P₀, P₁ (independent per axis, so applied one after another):
 * x̄ = ȳ[P₀ : P₀ + n] plus the border blocks added back where they were read from — reflect: flip(ȳ[0 : P₀]) onto
 * positions 1..P₀ and flip(ȳ[P₀+n :]) onto n−1−P₁..n−2; edge: Σ ȳ[0 : P₀] onto 0 and Σ ȳ[P₀+n :] onto n−1.
 */
registerVjp('Pad', ({ inputs: [x], grads: [g], attrs }) => {
  const pads = attrs.pads as readonly number[];
  const mode = attrs.mode as string;
  const X = x!.shape;
  const r = X.length;
  if (mode === 'constant') {
    const axes = X.map((_, i) => i).filter((i) => pads[i] > 0 || pads[i + r] > 0);
    let cur = g!;
    if (axes.length > 0) {
      cur = op.slice(
        cur,
        axes.map((i) => Math.max(pads[i], 0)),
        axes.map((i) => g!.shape[i] - Math.max(pads[i + r], 0)),
        axes,
      );
    }
    const crops = X.flatMap((_, i) => [Math.max(-pads[i], 0)]).concat(X.map((_, i) => Math.max(-pads[i + r], 0)));
    return [crops.some((p) => p > 0) ? op.pad(cur, crops) : cur];
  }
  if (pads.some((p) => p < 0)) throw new Error(`VJP of Pad: negative pads are not supported in ${mode} mode`);
  let cur = g!;
  for (let a = 0; a < r; a++) {
    const p0 = pads[a];
    const p1 = pads[a + r];
    if (p0 === 0 && p1 === 0) continue;
    const n = X[a];
    let acc = op.narrow(cur, a, p0, n);
    if (mode === 'reflect') {
      if (p0 > 0) acc = op.add(acc, padAxis(flip(op.narrow(cur, a, 0, p0), [a]), a, 1, n - 1 - p0));
      if (p1 > 0) acc = op.add(acc, padAxis(flip(op.narrow(cur, a, p0 + n, p1), [a]), a, n - 1 - p1, 1));
    } else if (mode === 'edge') {
      if (p0 > 0) acc = op.add(acc, padAxis(op.sum(op.narrow(cur, a, 0, p0), [a], true), a, 0, n - 1));
      if (p1 > 0) acc = op.add(acc, padAxis(op.sum(op.narrow(cur, a, p0 + n, p1), [a], true), a, n - 1, 0));
    } else {
      throw new Error(`VJP of Pad: unknown mode ${mode}`);
    }
    cur = acc;
  }
  return [cur];
});

/** Expand: x̄ = ȳ summed over the broadcast dims. */
registerVjp('Expand', ({ inputs: [x], grads: [g] }) => [sumToShape(g!, x!.shape)]);

/**
 * Gather along axis a (x [pre, D, post], indices I): x̄[p, d, q] = Σ_{i: idx[i] = d} ȳ[p, i, q] — a scatter-add.
 * ȳ is viewed as [P, |I|, Q], the (normalised, non-negative) indices broadcast to that shape, and ScatterAdd
 * (ScatterElements, reduction add) adds them into zeros [P, D, Q]. The indices get no gradient.
 */
registerVjp('Gather', ({ inputs: [x, idx], grads: [g], needs, attrs }) => {
  if (!needs[0]) return [undefined, undefined];
  const X = x!.shape;
  const a = (attrs.axis as number) < 0 ? (attrs.axis as number) + X.length : (attrs.axis as number);
  const D = X[a];
  const P = X.slice(0, a).reduce((p, d) => p * d, 1);
  const Q = X.slice(a + 1).reduce((p, d) => p * d, 1);
  const nI = idx!.size;
  const positive = op.where(op.less(idx!, 0), op.add(idx!, D), idx!);
  const expanded = op.expand(op.reshape(positive, [1, nI, 1]), [P, nI, Q]); // I -> [1, |I|, 1] -> [P, |I|, Q]
  const updates = op.reshape(g!, [P, nI, Q]); // [pre, ...I, post] -> [P, |I|, Q]
  const dx = op.scatterAdd(expanded, updates, 1, [P, D, Q]);
  return [op.reshape(dx, X), undefined]; // [P, D, Q] -> x's shape
});

/** ScatterAdd: updates̄ = GatherElements(ȳ, indices) (each update was added to one output element). */
registerVjp('ScatterAdd', ({ inputs: [idx], grads: [g], attrs }) => [
  undefined,
  op.gatherElements(g!, idx!, attrs.axis as number),
]);

/** GatherElements: datā = ScatterAdd(indices, ȳ) into zeros of data's shape. */
registerVjp('GatherElements', ({ inputs: [data, idx], grads: [g], attrs }) => [
  op.scatterAdd(idx!, g!, attrs.axis as number, data!.shape),
  undefined,
]);

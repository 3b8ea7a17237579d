/**
 * VJP rules of Conv and ConvTranspose (1-D/2-D/3-D; stride, dilation, asymmetric padding, groups).
 *
 * Notation: x [N, C, ...S], w [M, C/G, ...K], y [N, M, ...O], stride s, dilation d, pads (p₀ begin, p₁ end),
 * effective kernel e = (K − 1)·d + 1. y[n, m, o] = Σ_{c,k} x[n, g(m)·C/G + c, o·s − p₀ + k·d]·w[m, c, k].
 * Fast exact forms (DESIGN.md decision 8): stride-1 x̄ is a Conv with the flipped, channel-transposed weight;
 * W̄ is im2col (one depthwise Conv with one-hot kernels) followed by one batched MatMul.
 */
import { HostTensor } from '../../../tensor/host-tensor.ts';
import type { SymTensor } from '../../builder.ts';
import * as op from '../../ops/index.ts';
import { flip } from '../helpers.ts';
import { registerVjp } from '../vjp.ts';

interface ConvAttrs {
  strides: readonly number[];
  dilations: readonly number[];
  pads: readonly number[];
  group: number;
  outputPadding?: readonly number[];
}

/** Every multi-index of `shape`, row-major. */
function kernelTaps(shape: readonly number[]): number[][] {
  let taps: number[][] = [[]];
  for (const d of shape) taps = taps.flatMap((t) => Array.from({ length: d }, (_, i) => [...t, i]));
  return taps;
}

/** Σ over the batch and spatial dims: the bias gradient. */
function biasGrad(g: SymTensor): SymTensor {
  return op.sum(g, [0, ...g.shape.slice(2).map((_, i) => i + 2)]);
}

/**
 * x̄ of Conv: the adjoint of the convolution, x̄[n, c, i] = Σ_{m,k} ȳ[n, m, (i + p₀ − k·d)/s]·w[m, c, k].
 * Stride 1 with p₀, p₁ ≤ e − 1: a Conv of ȳ with w′[c, m, k] = w[m, c, K−1−k] (per group) and pads
 * (e − 1 − p₀, e − 1 − p₁). Otherwise ConvTranspose(ȳ, w) with output_padding = (S + p₀ + p₁ − e) mod s, which
 * restores the input size that the floor in the output-size formula lost.
 */
export function convInputGrad(g: SymTensor, w: SymTensor, inSpatial: readonly number[], a: ConvAttrs): SymTensor {
  const nd = inSpatial.length;
  const K = w.shape.slice(2);
  const O = g.shape.slice(2);
  const eff = K.map((k, i) => (k - 1) * a.dilations[i] + 1);
  const p0 = a.pads.slice(0, nd);
  const p1 = a.pads.slice(nd);
  const unitStride = a.strides.every((s) => s === 1);
  if (unitStride && p0.every((p, i) => p <= eff[i] - 1) && p1.every((p, i) => p <= eff[i] - 1)) {
    const G = a.group;
    const [M, Cg] = w.shape;
    const spatialAxes = K.map((_, i) => i + 2);
    let wt: SymTensor;
    if (G === 1) {
      wt = op.transpose(w, [1, 0, ...spatialAxes]); // [M, C, ...K] -> [C, M, ...K]
    } else {
      const Mg = M / G;
      const grouped = op.reshape(w, [G, Mg, Cg, ...K]); // [M, Cg, ...K] -> [G, Mg, Cg, ...K]
      const swapped = op.transpose(grouped, [0, 2, 1, ...spatialAxes.map((ax) => ax + 1)]); // -> [G, Cg, Mg, ...K]
      wt = op.reshape(swapped, [G * Cg, Mg, ...K]); // -> [C, Mg, ...K]
    }
    wt = flip(wt, spatialAxes);
    const pads = [...eff.map((e, i) => e - 1 - p0[i]), ...eff.map((e, i) => e - 1 - p1[i])];
    return op.conv(g, wt, undefined, { padding: pads, dilation: a.dilations, groups: G });
  }
  const outputPadding = inSpatial.map((s, i) => s + p0[i] + p1[i] - eff[i] - a.strides[i] * (O[i] - 1));
  return op.convTranspose(g, w, undefined, {
    stride: a.strides,
    dilation: a.dilations,
    padding: a.pads,
    groups: a.group,
    outputPadding,
  });
}

/**
 * im2col of `input` [N, C, ...S] for a kernel K: [N, C·Kₙ, ...O], channel c·Kₙ + k holding xₚ[n, c, o·s + k·d] (xₚ the
 * zero-padded input), as one depthwise Conv (groups = C) whose kernel k is one-hot at tap k. Each output is 1·x plus
 * zeros, so exact (an ±∞ in x spreads NaN to its neighbouring taps; −0 becomes +0). Measured against Pad + one strided
 * Slice per tap + Concat (the same values): one node instead of 2·Kₙ + 2, and no second copy of the Kₙ-fold columns
 * (mid UNet shapes, [16, 64, 32, 32], 3×3: 172 vs 204 ms for W̄; tiny [6, 32, 8, 8]: 4.1 vs 5.5 ms).
 */
function im2col(input: SymTensor, K: readonly number[], a: ConvAttrs): SymTensor {
  const C = input.shape[1];
  const Kn = K.reduce((p, k) => p * k, 1);
  const eye = new Float32Array(Kn * Kn);
  for (let k = 0; k < Kn; k++) eye[k * Kn + k] = 1;
  const oneHot = input.builder.constant(new HostTensor('float32', [1, Kn, 1, ...K], eye)); // [1, Kn, 1, ...K]
  const w = op.reshape(op.expand(oneHot, [C, Kn, 1, ...K]), [C * Kn, 1, ...K]); // -> [C·Kn, 1, ...K]
  return op.conv(input, w, undefined, { stride: a.strides, dilation: a.dilations, padding: a.pads, groups: C });
}

/**
 * W̄ of a convolution of `input` [N, C, ...S] whose output gradient is `g` [N, M, ...O], weight [M, C/G, ...K]:
 * W̄[m, c, k] = Σ_{n,o} ȳ[n, m, o]·xₚ[n, g(m)·C/G + c, o·s + k·d] over the zero-padded input xₚ. im2col: per kernel
 * tap k the strided view xₚ[..., k·d : k·d + s·(O−1) + 1 : s] is [N, C, ...O]; stacked [N, C, Kₙ, P] →
 * [N, G, C/G·Kₙ, P], then per group and sample ȳ [Mg, P] · colsᵀ [P, C/G·Kₙ], summed over N.
 */
export function convWeightGrad(input: SymTensor, g: SymTensor, wShape: readonly number[], a: ConvAttrs): SymTensor {
  const nd = input.rank - 2;
  const [N, C] = input.shape;
  const [M, Cg] = wShape;
  const G = a.group;
  const K = wShape.slice(2);
  const O = g.shape.slice(2);
  const P = O.reduce((p, d) => p * d, 1);
  const spatialAxes = K.map((_, i) => i + 2);
  const taps = kernelTaps(K);
  let cols: SymTensor; // [N, C, Kn, ...] in that element order
  const windows = im2colSize(input.shape.slice(2), K, a);
  if (taps.length > 1 && windows.every((d, i) => d === O[i])) {
    cols = im2col(input, K, a);
  } else {
    // One tap (1×1 kernels), or an input the output does not cover exactly: strided slices of the padded input.
    const xp = a.pads.some((p) => p !== 0)
      ? op.pad(input, [0, 0, ...a.pads.slice(0, nd), 0, 0, ...a.pads.slice(nd)])
      : input;
    const parts = taps.map((k) => {
      const starts = k.map((ki, i) => ki * a.dilations[i]);
      const ends = starts.map((st, i) => st + a.strides[i] * (O[i] - 1) + 1);
      const whole = starts.every((st, i) => st === 0 && ends[i] === xp.shape[i + 2] && a.strides[i] === 1);
      const col = whole ? xp : op.slice(xp, starts, ends, spatialAxes, a.strides);
      return op.reshape(col, [N, C, 1, P]); // [N, C, ...O] -> [N, C, 1, P]
    });
    cols = parts.length === 1 ? parts[0] : op.concat(parts, 2);
  }
  const stacked = op.reshape(cols, [N, G, Cg * taps.length, P]); // [N, C, Kn, P] -> [N, G, Cg·Kn, P]
  const gr = op.reshape(g, [N, G, M / G, P]); // [N, M, ...O] -> [N, G, Mg, P]
  const perSample = op.matmul(gr, op.transpose(stacked, [0, 1, 3, 2])); // [N, G, Mg, Cg·Kn]
  const summed = N === 1 ? perSample : op.sum(perSample, [0], true);
  return op.reshape(summed, wShape); // [1, G, Mg, Cg·Kn] -> [M, Cg, ...K]
}

/** Output size of a convolution of spatial size S with kernel K: ⌊(S + p₀ + p₁ − e)/s⌋ + 1 per dim. */
function im2colSize(S: readonly number[], K: readonly number[], a: ConvAttrs): number[] {
  const nd = S.length;
  return S.map(
    (s, i) => Math.floor((s + a.pads[i] + a.pads[i + nd] - ((K[i] - 1) * a.dilations[i] + 1)) / a.strides[i]) + 1,
  );
}

/** Conv: x̄ by `convInputGrad`, W̄ by `convWeightGrad`, b̄ = Σ_{n,o} ȳ. */
registerVjp('Conv', ({ inputs: [x, w], grads: [g], needs, attrs }) => {
  const a = attrs as unknown as ConvAttrs;
  return [
    needs[0] ? convInputGrad(g!, w!, x!.shape.slice(2), a) : undefined,
    needs[1] ? convWeightGrad(x!, g!, w!.shape, a) : undefined,
    needs[2] ? biasGrad(g!) : undefined,
  ];
});

/**
 * ConvTranspose is the adjoint of Conv with the same attributes (x [N, C, ...S], w [C, M/G, ...K] read as a Conv
 * weight [out C, in M/G, ...K]), so x̄ = Conv(ȳ, w) (cut to S when output_padding ≥ stride made it longer), and
 * W̄[c, m, k] = Σ ȳ[n, g(c)·M/G + m, i·s + k·d − p₀]·x[n, c, i] is the Conv weight gradient with ȳ as the
 * convolution's input and x as its output gradient. b̄ = Σ_{n,o} ȳ.
 */
registerVjp('ConvTranspose', ({ inputs: [x, w], grads: [g], needs, attrs }) => {
  const a = attrs as unknown as ConvAttrs;
  let dx: SymTensor | undefined;
  if (needs[0]) {
    dx = op.conv(g!, w!, undefined, { stride: a.strides, dilation: a.dilations, padding: a.pads, groups: a.group });
    const S = x!.shape.slice(2);
    if (dx.shape.slice(2).some((d, i) => d !== S[i])) {
      dx = op.slice(
        dx,
        S.map(() => 0),
        S,
        S.map((_, i) => i + 2),
      );
    }
  }
  return [dx, needs[1] ? convWeightGrad(g!, x!, w!.shape, a) : undefined, needs[2] ? biasGrad(g!) : undefined];
});

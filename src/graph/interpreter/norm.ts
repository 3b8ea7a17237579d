/**
 * Normalisations: ONNX LayerNormalization-17 and PyTorch GroupNorm (which ONNX GroupNormalization-21 matches when its
 * scale/bias are per channel). Statistics use two passes — the mean first, then the centred sum of squares — so large
 * offsets (mean 300, std 1) lose nothing to cancellation. Variances are biased (divide by the count).
 */
import { binary } from './elementwise.ts';
import { type F64Tensor, f64, normAxis, numel } from './tensor.ts';

export type LayerNormOptions = { axis?: number; epsilon?: number };

/** Mean and biased variance of `data[offset .. offset + count)`, two-pass. */
function stats(data: Float64Array, offset: number, count: number): { mean: number; variance: number } {
  let mean = 0;
  for (let i = 0; i < count; i++) mean += data[offset + i];
  mean /= count;
  let ss = 0;
  for (let i = 0; i < count; i++) ss += (data[offset + i] - mean) ** 2;
  return { mean, variance: ss / count };
}

/**
 * ONNX LayerNormalization: normalises over dims axis..rank−1 (axis default −1, epsilon default 1e-5):
 * y = (x − mean) / √(var + ε) · scale + bias, where scale and bias broadcast against x (so typically have the shape of
 * the normalised dims) and must not change x's shape.
 */
export function layerNorm(
  x: F64Tensor,
  scale?: F64Tensor,
  bias?: F64Tensor,
  options: LayerNormOptions = {},
): F64Tensor {
  const { axis = -1, epsilon = 1e-5 } = options;
  const a = normAxis(axis, x.shape.length);
  const inner = numel(x.shape.slice(a));
  const outer = numel(x.shape.slice(0, a));
  let y = f64(x.shape);
  for (let o = 0; o < outer; o++) {
    const { mean, variance } = stats(x.data, o * inner, inner);
    const inv = 1 / Math.sqrt(variance + epsilon);
    for (let i = 0; i < inner; i++) y.data[o * inner + i] = (x.data[o * inner + i] - mean) * inv;
  }
  if (scale) y = binary(y, scale, (u, s) => u * s);
  if (bias) y = binary(y, bias, (u, b) => u + b);
  if (y.shape.length !== x.shape.length || y.shape.some((d, i) => d !== x.shape[i])) {
    throw new Error('layerNorm: scale/bias must broadcast to the input shape without enlarging it');
  }
  return y;
}

/**
 * PyTorch GroupNorm (torch.nn.functional.group_norm): x [N, C, ...spatial]; the C channels split into `numGroups`
 * consecutive groups, each normalised with the mean and biased variance over its C/G channels × spatial elements,
 * then scaled and shifted per channel by gamma[C] and beta[C] (both optional). eps default 1e-5.
 */
export function groupNorm(x: F64Tensor, numGroups: number, gamma?: F64Tensor, beta?: F64Tensor, eps = 1e-5): F64Tensor {
  if (x.shape.length < 2) throw new Error('groupNorm: x must be [N, C, ...]');
  const [N, C] = x.shape;
  if (!Number.isInteger(numGroups) || numGroups < 1 || C % numGroups !== 0) {
    throw new Error(`groupNorm: ${C} channels not divisible into ${numGroups} groups`);
  }
  for (const [name, t] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (t && t.data.length !== C) throw new Error(`groupNorm: ${name} must have ${C} elements`);
  }
  const spatial = numel(x.shape.slice(2));
  const perGroup = (C / numGroups) * spatial;
  const y = f64(x.shape);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < numGroups; g++) {
      const off = (n * numGroups + g) * perGroup;
      const { mean, variance } = stats(x.data, off, perGroup);
      const inv = 1 / Math.sqrt(variance + eps);
      for (let i = 0; i < perGroup; i++) {
        const c = g * (C / numGroups) + Math.floor(i / spatial);
        const s = gamma ? gamma.data[c] : 1;
        const b = beta ? beta.data[c] : 0;
        y.data[off + i] = (x.data[off + i] - mean) * inv * s + b;
      }
    }
  }
  return y;
}

/**
 * Elementwise kernels with numpy / ONNX multidirectional broadcasting (ONNX "Broadcasting in ONNX": shapes are
 * right-aligned, each dimension pair must be equal or one of them 1), plus the activations the models use.
 */
import { erf } from './erf.ts';
import { type F64Tensor, f64, numel, strides } from './tensor.ts';

/** Result shape of broadcasting all `shapes` together (ONNX multidirectional broadcasting); throws if incompatible. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else {
        throw new Error(`cannot broadcast shapes ${shapes.map((t) => `[${t.join(', ')}]`).join(' and ')}`);
      }
    }
  }
  return out;
}

/**
 * For each flat index of `outShape`, the flat index of the element of a tensor of shape `inShape` that broadcasts to
 * it. `inShape` must broadcast to `outShape` unidirectionally (checked).
 */
export function broadcastIndexMap(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  if (inShape.length > outShape.length) {
    throw new Error(`cannot broadcast [${inShape.join(', ')}] to [${outShape.join(', ')}]`);
  }
  const offset = outShape.length - inShape.length;
  const inStrides = strides(inShape);
  // Stride of the input for each output axis: 0 where the input is broadcast along it.
  const bStrides = outShape.map((d, o) => {
    const i = o - offset;
    if (i < 0) return 0;
    if (inShape[i] === d) return inStrides[i];
    if (inShape[i] === 1) return 0;
    throw new Error(`cannot broadcast [${inShape.join(', ')}] to [${outShape.join(', ')}]`);
  });
  const n = numel(outShape);
  const map = new Int32Array(n);
  const rank = outShape.length;
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let flat = 0; flat < n; flat++) {
    map[flat] = src;
    // Increment the multi-index, updating the source offset incrementally.
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]++;
      src += bStrides[a];
      if (idx[a] < outShape[a]) break;
      src -= bStrides[a] * idx[a];
      idx[a] = 0;
    }
  }
  return map;
}

/** Applies `fn` to every element. */
export function unary(x: F64Tensor, fn: (v: number) => number): F64Tensor {
  const out = f64(x.shape);
  for (let i = 0; i < x.data.length; i++) out.data[i] = fn(x.data[i]);
  return out;
}

/** `fn(a, b)` elementwise with multidirectional broadcasting (ONNX Add/Sub/Mul/Div/Pow/... semantics). */
export function binary(a: F64Tensor, b: F64Tensor, fn: (x: number, y: number) => number): F64Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const ma = broadcastIndexMap(a.shape, shape);
  const mb = broadcastIndexMap(b.shape, shape);
  const out = f64(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = fn(a.data[ma[i]], b.data[mb[i]]);
  return out;
}

/** ONNX Where: `cond ? a : b` with three-way broadcasting; an element of `cond` is true when nonzero (NaN is true). */
export function where(cond: F64Tensor, a: F64Tensor, b: F64Tensor): F64Tensor {
  const shape = broadcastShapes(cond.shape, a.shape, b.shape);
  const mc = broadcastIndexMap(cond.shape, shape);
  const ma = broadcastIndexMap(a.shape, shape);
  const mb = broadcastIndexMap(b.shape, shape);
  const out = f64(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = cond.data[mc[i]] !== 0 ? a.data[ma[i]] : b.data[mb[i]];
  return out;
}

/**
 * ONNX Expand: broadcasts `x` and `shape` bidirectionally, so the result has shape broadcastShapes(x.shape, shape)
 * (a 1 in `shape` keeps the dimension of `x`).
 */
export function expand(x: F64Tensor, shape: readonly number[]): F64Tensor {
  const outShape = broadcastShapes(x.shape, shape);
  const map = broadcastIndexMap(x.shape, outShape);
  const out = f64(outShape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = x.data[map[i]];
  return out;
}

export const add = (a: F64Tensor, b: F64Tensor): F64Tensor => binary(a, b, (x, y) => x + y);
export const sub = (a: F64Tensor, b: F64Tensor): F64Tensor => binary(a, b, (x, y) => x - y);
export const mul = (a: F64Tensor, b: F64Tensor): F64Tensor => binary(a, b, (x, y) => x * y);
export const div = (a: F64Tensor, b: F64Tensor): F64Tensor => binary(a, b, (x, y) => x / y);

export function sigmoidScalar(v: number): number {
  // Written so that neither branch overflows: exp of a non-positive number only.
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

const SQRT1_2 = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Scalar Gelu (ONNX Gelu-20): exact 0.5x(1+erf(x/√2)), or the tanh approximation. */
export function geluScalar(v: number, approximate: 'none' | 'tanh' = 'none'): number {
  if (approximate === 'tanh') return 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
  return 0.5 * v * (1 + erf(v * SQRT1_2));
}

/** ONNX Sigmoid: 1 / (1 + e^(−x)). */
export function sigmoid(x: F64Tensor): F64Tensor {
  return unary(x, sigmoidScalar);
}

/** SiLU / swish x·sigmoid(x) (ONNX: Mul(x, Sigmoid(x)); no dedicated op before opset 24's Swish). */
export function silu(x: F64Tensor): F64Tensor {
  return unary(x, (v) => v * sigmoidScalar(v));
}

/** ONNX Gelu-20 with attribute approximate = 'none' (erf form) or 'tanh'. */
export function gelu(x: F64Tensor, approximate: 'none' | 'tanh' = 'none'): F64Tensor {
  return unary(x, (v) => geluScalar(v, approximate));
}

/** ONNX Erf applied elementwise. */
export function erfTensor(x: F64Tensor): F64Tensor {
  return unary(x, erf);
}

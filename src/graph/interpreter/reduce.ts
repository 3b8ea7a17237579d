/** Reductions: ONNX ReduceSum/Mean/Max/Min/Prod, a variance, ONNX Softmax-13 and LogSoftmax-13. */
import { type F64Tensor, f64, normAxis, numel, strides } from './tensor.ts';

export type ReduceKind = 'sum' | 'mean' | 'max' | 'min' | 'prod';

/**
 * Splits the axes of `shape` into reduced and kept ones and returns, for every kept position (row-major over the kept
 * axes), the flat input offsets of the elements reduced into it — in row-major order of the reduced axes.
 */
function groups(shape: readonly number[], axes: readonly number[]): { keptShape: number[]; offsets: number[][] } {
  const rank = shape.length;
  const red = new Set(axes.length === 0 ? shape.map((_, i) => i) : axes.map((a) => normAxis(a, rank)));
  if (axes.length !== 0 && red.size !== axes.length) throw new Error('reduce: repeated axis');
  const st = strides(shape);
  const keptAxes = shape.map((_, i) => i).filter((i) => !red.has(i));
  const redAxes = shape.map((_, i) => i).filter((i) => red.has(i));
  const offsetsOf = (ax: number[]): number[] => {
    let offs = [0];
    for (const a of ax) {
      const next: number[] = [];
      for (const o of offs) for (let i = 0; i < shape[a]; i++) next.push(o + i * st[a]);
      offs = next;
    }
    return offs;
  };
  const base = offsetsOf(keptAxes);
  const inner = offsetsOf(redAxes);
  return { keptShape: keptAxes.map((a) => shape[a]), offsets: base.map((b) => inner.map((i) => b + i)) };
}

function outShapeOf(shape: readonly number[], axes: readonly number[], keepdims: boolean): number[] {
  const rank = shape.length;
  const red = new Set(axes.length === 0 ? shape.map((_, i) => i) : axes.map((a) => normAxis(a, rank)));
  return keepdims ? shape.map((d, i) => (red.has(i) ? 1 : d)) : shape.filter((_, i) => !red.has(i));
}

/**
 * ONNX Reduce{Sum,Mean,Max,Min,Prod} with noop_with_empty_axes = 0: `axes` empty reduces every axis. Negative axes
 * allowed. Empty reductions give 0 (sum), 1 (prod), NaN (mean), −∞ (max), +∞ (min). NaN propagates through max/min.
 */
export function reduce(x: F64Tensor, axes: readonly number[], keepdims: boolean, kind: ReduceKind): F64Tensor {
  const { offsets } = groups(x.shape, axes);
  const out = f64(outShapeOf(x.shape, axes, keepdims));
  offsets.forEach((offs, p) => {
    let acc: number;
    switch (kind) {
      case 'sum':
      case 'mean':
        acc = 0;
        for (const o of offs) acc += x.data[o];
        if (kind === 'mean') acc /= offs.length;
        break;
      case 'prod':
        acc = 1;
        for (const o of offs) acc *= x.data[o];
        break;
      case 'max':
        acc = Number.NEGATIVE_INFINITY;
        for (const o of offs) acc = Math.max(acc, x.data[o]); // Math.max propagates NaN
        break;
      case 'min':
        acc = Number.POSITIVE_INFINITY;
        for (const o of offs) acc = Math.min(acc, x.data[o]);
        break;
    }
    out.data[p] = acc;
  });
  return out;
}

/**
 * Variance over `axes` (empty = all) computed in two passes (mean first, then Σ(x − mean)²), divided by
 * count − correction: correction 0 is the biased (population) variance, 1 the unbiased one. Not an ONNX op; matches
 * torch.var(x, dim, correction, keepdim).
 */
export function variance(x: F64Tensor, axes: readonly number[], keepdims: boolean, correction = 0): F64Tensor {
  const { offsets } = groups(x.shape, axes);
  const out = f64(outShapeOf(x.shape, axes, keepdims));
  offsets.forEach((offs, p) => {
    let mean = 0;
    for (const o of offs) mean += x.data[o];
    mean /= offs.length;
    let ss = 0;
    for (const o of offs) ss += (x.data[o] - mean) ** 2;
    out.data[p] = ss / (offs.length - correction);
  });
  return out;
}

/** Applies `fn` to every 1-D fibre of `x` along `axis`, writing the same-length result in place of it. */
function alongAxis(x: F64Tensor, axis: number, fn: (v: Float64Array) => Float64Array): F64Tensor {
  const a = normAxis(axis, x.shape.length);
  const d = x.shape[a];
  const inner = numel(x.shape.slice(a + 1));
  const outer = numel(x.shape.slice(0, a));
  const out = f64(x.shape);
  const fibre = new Float64Array(d);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * d * inner + i;
      for (let k = 0; k < d; k++) fibre[k] = x.data[base + k * inner];
      const r = fn(fibre);
      for (let k = 0; k < d; k++) out.data[base + k * inner] = r[k];
    }
  }
  return out;
}

/** Numerically stable softmax of one vector (max subtracted first). */
export function softmaxVector(v: ArrayLike<number>): Float64Array {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < v.length; i++) m = Math.max(m, v[i]);
  const out = new Float64Array(v.length);
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    out[i] = Math.exp(v[i] - m);
    s += out[i];
  }
  for (let i = 0; i < v.length; i++) out[i] /= s;
  return out;
}

/** ONNX Softmax-13: exp(x − max) / Σ exp(x − max) along one axis (default −1). A row of all −∞ gives NaN. */
export function softmax(x: F64Tensor, axis = -1): F64Tensor {
  return alongAxis(x, axis, softmaxVector);
}

/** ONNX LogSoftmax-13: x − max − log Σ exp(x − max) along one axis (default −1). */
export function logSoftmax(x: F64Tensor, axis = -1): F64Tensor {
  return alongAxis(x, axis, (v) => {
    let m = Number.NEGATIVE_INFINITY;
    for (const e of v) m = Math.max(m, e);
    let s = 0;
    for (const e of v) s += Math.exp(e - m);
    const lse = m + Math.log(s);
    return v.map((e) => e - lse);
  });
}

/**
 * Data-movement kernels following the ONNX operators of the same names: Reshape, Transpose, Slice, Concat, Split,
 * Pad, Gather, Tile, Squeeze, Unsqueeze, Flatten. None of them do arithmetic, so results are exact.
 */
import { type F64Tensor, f64, nextIndex, normAxis, numel, strides } from './tensor.ts';

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * ONNX Reshape: `shape` may contain one −1 (inferred from the element count) and, unless `allowzero`, zeros that copy
 * the input dimension at the same position. With `allowzero`, 0 is a literal zero-sized dimension.
 */
export function reshape(x: F64Tensor, shape: readonly number[], allowzero = false): F64Tensor {
  const out = shape.map((d, i) => {
    if (d === 0 && !allowzero) {
      if (i >= x.shape.length) throw new Error(`reshape: 0 at position ${i} but input rank is ${x.shape.length}`);
      return x.shape[i];
    }
    return d;
  });
  const inferred = out.filter((d) => d === -1).length;
  if (inferred > 1) throw new Error('reshape: at most one -1 allowed');
  if (out.some((d) => !Number.isInteger(d) || d < -1)) throw new Error(`reshape: bad shape ${fmt(shape)}`);
  const n = x.data.length;
  if (inferred === 1) {
    const known = out.reduce((p, d) => (d === -1 ? p : p * d), 1);
    if (known === 0 || n % known !== 0) throw new Error(`reshape: cannot infer -1 in ${fmt(shape)} for ${n} elements`);
    out[out.indexOf(-1)] = n / known;
  }
  if (numel(out) !== n) throw new Error(`reshape: ${fmt(x.shape)} has ${n} elements, ${fmt(out)} needs ${numel(out)}`);
  return { shape: out, data: x.data.slice() };
}

/** ONNX Transpose: output axis i is input axis perm[i]; default perm reverses the axes. */
export function transpose(x: F64Tensor, perm?: readonly number[]): F64Tensor {
  const rank = x.shape.length;
  const p = perm ? perm.map((a) => normAxis(a, rank)) : x.shape.map((_, i) => rank - 1 - i);
  if (p.length !== rank || new Set(p).size !== rank) throw new Error(`transpose: bad perm ${fmt(perm ?? [])}`);
  const outShape = p.map((a) => x.shape[a]);
  const inStrides = strides(x.shape);
  const srcStrides = p.map((a) => inStrides[a]);
  const out = f64(outShape);
  if (out.data.length === 0) return out;
  const idx = new Array<number>(rank).fill(0);
  let flat = 0;
  do {
    let src = 0;
    for (let i = 0; i < rank; i++) src += idx[i] * srcStrides[i];
    out.data[flat++] = x.data[src];
  } while (nextIndex(idx, outShape));
  return out;
}

/**
 * Builds a tensor of `outShape` whose element at (i_0, i_1, …) is x[srcIndex(0, i_0), srcIndex(1, i_1), …] — the
 * shared core of slice, pad and tile, where each axis is remapped independently. `srcIndex` returning −1 on any axis
 * means "outside": that element is `fill`.
 */
function remap(
  x: F64Tensor,
  outShape: readonly number[],
  srcIndex: (axis: number, i: number) => number,
  fill = 0,
): F64Tensor {
  const rank = x.shape.length;
  const inStrides = strides(x.shape);
  // Precompute per axis the input offset (or -1) for every output coordinate.
  const tables = outShape.map((d, a) => {
    const t = new Array<number>(d);
    for (let i = 0; i < d; i++) {
      const s = srcIndex(a, i);
      t[i] = s < 0 ? -1 : s * inStrides[a];
    }
    return t;
  });
  const out = f64(outShape);
  if (out.data.length === 0) return out;
  const idx = new Array<number>(rank).fill(0);
  let flat = 0;
  do {
    let src = 0;
    let outside = false;
    for (let a = 0; a < rank; a++) {
      const t = tables[a][idx[a]];
      if (t < 0) {
        outside = true;
        break;
      }
      src += t;
    }
    out.data[flat++] = outside ? fill : x.data[src];
  } while (nextIndex(idx, outShape));
  return out;
}

/**
 * ONNX Slice. For each listed axis: negative starts/ends have the dimension added; then for step > 0 both are
 * clamped to [0, dim], for step < 0 start to [0, dim−1] and end to [−1, dim−1]; the slice takes start, start+step, …
 * while before `end`. ±Infinity (or huge values like INT64_MAX) work as "to the end". `axes` default 0..len−1,
 * `steps` default 1.
 */
export function slice(
  x: F64Tensor,
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
  steps?: readonly number[],
): F64Tensor {
  const rank = x.shape.length;
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(a, rank));
  if (ends.length !== starts.length || ax.length !== starts.length || (steps && steps.length !== starts.length)) {
    throw new Error('slice: starts, ends, axes and steps must have the same length');
  }
  if (new Set(ax).size !== ax.length) throw new Error('slice: repeated axis');
  const start = new Array<number>(rank).fill(0);
  const step = new Array<number>(rank).fill(1);
  const outShape = [...x.shape];
  ax.forEach((a, j) => {
    const dim = x.shape[a];
    const st = steps ? steps[j] : 1;
    if (st === 0 || !Number.isInteger(st)) throw new Error(`slice: bad step ${st}`);
    let s = starts[j];
    let e = ends[j];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (st > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
    } else {
      s = Math.min(Math.max(s, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
    }
    start[a] = s;
    step[a] = st;
    outShape[a] = Math.max(0, Math.ceil((e - s) / st));
  });
  return remap(x, outShape, (a, i) => start[a] + i * step[a]);
}

/** ONNX Concat along `axis` (negative allowed); all other dimensions must match. */
export function concat(xs: readonly F64Tensor[], axis: number): F64Tensor {
  if (xs.length === 0) throw new Error('concat: no inputs');
  const rank = xs[0].shape.length;
  const a = normAxis(axis, rank);
  for (const t of xs) {
    if (t.shape.length !== rank || t.shape.some((d, i) => i !== a && d !== xs[0].shape[i])) {
      throw new Error(`concat: shapes ${xs.map((u) => fmt(u.shape)).join(', ')} differ off axis ${a}`);
    }
  }
  const outShape = [...xs[0].shape];
  outShape[a] = xs.reduce((s, t) => s + t.shape[a], 0);
  const outer = numel(outShape.slice(0, a));
  const inner = numel(outShape.slice(a + 1));
  const out = f64(outShape);
  let dst = 0;
  for (let o = 0; o < outer; o++) {
    for (const t of xs) {
      const block = t.shape[a] * inner;
      out.data.set(t.data.subarray(o * block, (o + 1) * block), dst);
      dst += block;
    }
  }
  return out;
}

/** ONNX Split along `axis` into pieces of the given `sizes` (which must sum to the dimension). */
export function split(x: F64Tensor, axis: number, sizes: readonly number[]): F64Tensor[] {
  const a = normAxis(axis, x.shape.length);
  const total = sizes.reduce((s, d) => s + d, 0);
  if (total !== x.shape[a] || sizes.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`split: sizes ${fmt(sizes)} do not sum to dim ${x.shape[a]}`);
  }
  const out: F64Tensor[] = [];
  let begin = 0;
  for (const d of sizes) {
    out.push(slice(x, [begin], [begin + d], [a]));
    begin += d;
  }
  return out;
}

export type PadMode = 'constant' | 'reflect' | 'edge' | 'wrap';

/**
 * ONNX Pad. `pads` = [x1_begin, x2_begin, ..., x1_end, x2_end, ...] for every axis. Negative pads crop first (as ONNX
 * Runtime does), then the positive pads extend the cropped tensor. Modes: 'constant' fills with `value`; 'reflect'
 * mirrors without repeating the edge (numpy 'reflect': [1,2,3] padded by 2 → [3,2,1,2,3,2,1]); 'edge' repeats the
 * border; 'wrap' is periodic. Reflect pads wider than dim − 1 keep reflecting back and forth like numpy (ONNX Runtime
 * rejects them).
 */
export function pad(x: F64Tensor, pads: readonly number[], mode: PadMode = 'constant', value = 0): F64Tensor {
  const rank = x.shape.length;
  if (pads.length !== 2 * rank) throw new Error(`pad: need ${2 * rank} pads, got ${pads.length}`);
  const outShape = x.shape.map((d, a) => d + pads[a] + pads[a + rank]);
  if (outShape.some((d) => d < 0)) throw new Error(`pad: negative output shape ${fmt(outShape)}`);
  return remap(
    x,
    outShape,
    (a, i) => {
      const cropBegin = Math.max(0, -pads[a]);
      const n = x.shape[a] - cropBegin - Math.max(0, -pads[a + rank]); // length after cropping
      const s = i - Math.max(0, pads[a]); // coordinate in the cropped tensor
      let j: number;
      if (s >= 0 && s < n) j = s;
      else if (mode === 'constant') return -1;
      else if (n <= 0) throw new Error(`pad: mode '${mode}' cannot pad an empty axis`);
      else if (mode === 'edge') j = s < 0 ? 0 : n - 1;
      else if (mode === 'wrap') j = ((s % n) + n) % n;
      else if (n === 1) j = 0;
      else {
        const period = 2 * (n - 1);
        const r = ((s % period) + period) % period;
        j = r < n ? r : period - r;
      }
      return j + cropBegin;
    },
    value,
  );
}

/**
 * ONNX Gather: out[i_0..i_{axis-1}, j..., k...] = x[i_0..i_{axis-1}, indices[j...], k...]; output shape is
 * x.shape[:axis] + indices.shape + x.shape[axis+1:]. Negative indices count from the end; others out of range throw.
 */
export function gather(
  x: F64Tensor,
  indices: { shape: readonly number[]; data: ArrayLike<number> },
  axis = 0,
): F64Tensor {
  const a = normAxis(axis, x.shape.length);
  const dim = x.shape[a];
  if (indices.data.length !== numel(indices.shape)) throw new Error('gather: indices data does not match its shape');
  const outShape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  const outer = numel(x.shape.slice(0, a));
  const inner = numel(x.shape.slice(a + 1));
  const ni = indices.data.length;
  const out = f64(outShape);
  let dst = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < ni; j++) {
      let k = indices.data[j];
      if (!Number.isInteger(k) || k < -dim || k >= dim)
        throw new Error(`gather: index ${k} out of range for dim ${dim}`);
      if (k < 0) k += dim;
      const src = (o * dim + k) * inner;
      out.data.set(x.data.subarray(src, src + inner), dst);
      dst += inner;
    }
  }
  return out;
}

/** ONNX Tile: repeats the whole tensor `repeats[i]` times along axis i. */
export function tile(x: F64Tensor, repeats: readonly number[]): F64Tensor {
  if (repeats.length !== x.shape.length) throw new Error(`tile: need ${x.shape.length} repeats`);
  const outShape = x.shape.map((d, a) => d * repeats[a]);
  return remap(x, outShape, (a, i) => i % x.shape[a]);
}

/** ONNX Unsqueeze: inserts size-1 axes at `axes` (positions in the output, negative allowed). */
export function unsqueeze(x: F64Tensor, axes: readonly number[]): F64Tensor {
  const rank = x.shape.length + axes.length;
  const ax = new Set(axes.map((a) => normAxis(a, rank)));
  if (ax.size !== axes.length) throw new Error('unsqueeze: repeated axis');
  const shape: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(ax.has(i) ? 1 : x.shape[j++]);
  return { shape, data: x.data.slice() };
}

/** ONNX Squeeze: removes the listed size-1 axes, or every size-1 axis when `axes` is omitted. */
export function squeeze(x: F64Tensor, axes?: readonly number[]): F64Tensor {
  const rank = x.shape.length;
  const ax = axes ? new Set(axes.map((a) => normAxis(a, rank))) : undefined;
  for (const a of ax ?? []) if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${a} has size ${x.shape[a]}`);
  const shape = x.shape.filter((d, i) => (ax ? !ax.has(i) : d !== 1));
  return { shape, data: x.data.slice() };
}

/** ONNX Flatten: to 2-D [prod(shape[:axis]), prod(shape[axis:])]; axis in [−rank, rank]. */
export function flatten(x: F64Tensor, axis = 1): F64Tensor {
  const rank = x.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a > rank) throw new Error(`flatten: axis ${axis} out of range`);
  return { shape: [numel(x.shape.slice(0, a)), numel(x.shape.slice(a))], data: x.data.slice() };
}

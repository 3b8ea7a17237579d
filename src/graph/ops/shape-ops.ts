/** Data-movement primitives: reshape, transpose, slice, concat, split, pad, expand, gather. */
import { formatShape, numel } from '../../tensor/shape.ts';
import type { SymTensor } from '../builder.ts';
import { ShapeError } from '../errors.ts';
import * as K from '../interpreter/index.ts';
import { registerOp } from '../op-registry.ts';
import { broadcastShapes, checkNumel, INDEX_DTYPES, need, normAxis, requireDType } from './infer-utils.ts';

registerOp({
  name: 'Reshape',
  infer([a], attrs) {
    const x = need('Reshape', a, 'data');
    const shape = attrs.shape as readonly number[];
    checkNumel('Reshape', x.shape, shape);
    return [{ shape, dtype: x.dtype }];
  },
  lower(ctx, [x], [out], attrs) {
    ctx.node('Reshape', [x, ctx.int64s(attrs.shape as number[])], [out]);
  },
  interpret([x], attrs) {
    return [K.reshape(x!, attrs.shape as number[])];
  },
});

registerOp({
  name: 'Transpose',
  infer([a], attrs) {
    const x = need('Transpose', a, 'data');
    const perm = attrs.perm as readonly number[];
    const sorted = [...perm].sort((p, q) => p - q);
    if (perm.length !== x.shape.length || sorted.some((p, i) => p !== i)) {
      throw new ShapeError('Transpose', `perm [${perm.join(', ')}] is not a permutation of ${formatShape(x.shape)}`);
    }
    return [{ shape: perm.map((p) => x.shape[p]), dtype: x.dtype }];
  },
  lower(ctx, [x], [out], attrs) {
    ctx.node('Transpose', [x], [out], { perm: { kind: 'ints', value: attrs.perm as number[] } });
  },
  interpret([x], attrs) {
    return [K.transpose(x!, attrs.perm as number[])];
  },
});

/** Output length of ONNX Slice along one axis (clamped starts/ends, any step ≠ 0). */
export function sliceLength(dim: number, start: number, end: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  s = clamp(s, 0, dim - 1);
  e = clamp(e, -1, dim - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

registerOp({
  name: 'Slice',
  infer([a], attrs) {
    const x = need('Slice', a, 'data');
    const { starts, ends, axes, steps } = attrs as Record<string, readonly number[]>;
    const out = [...x.shape];
    axes.forEach((ax, i) => {
      const axis = normAxis('Slice', ax, x.shape.length);
      if (steps[i] === 0) throw new ShapeError('Slice', 'step 0');
      out[axis] = sliceLength(x.shape[axis], starts[i], ends[i], steps[i]);
    });
    return [{ shape: out, dtype: x.dtype }];
  },
  lower(ctx, [x], [out], attrs) {
    const { starts, ends, axes, steps } = attrs as Record<string, readonly number[]>;
    ctx.node('Slice', [x, ctx.int64s(starts), ctx.int64s(ends), ctx.int64s(axes), ctx.int64s(steps)], [out]);
  },
  interpret([x], attrs) {
    const { starts, ends, axes, steps } = attrs as Record<string, number[]>;
    return [K.slice(x!, starts, ends, axes, steps)];
  },
});

registerOp({
  name: 'Concat',
  infer(inputs, attrs) {
    if (inputs.length === 0) throw new ShapeError('Concat', 'no inputs');
    const xs = inputs.map((x, i) => need('Concat', x, `input ${i}`));
    const axis = normAxis('Concat', attrs.axis as number, xs[0].shape.length);
    const out = [...xs[0].shape];
    out[axis] = 0;
    for (const x of xs) {
      if (x.dtype !== xs[0].dtype) throw new ShapeError('Concat', `dtype mismatch: ${xs[0].dtype} vs ${x.dtype}`);
      const ok = x.shape.length === out.length && x.shape.every((d, i) => i === axis || d === xs[0].shape[i]);
      if (!ok) throw ShapeError.mismatch('Concat', `shapes differ off axis ${axis}`, xs[0].shape, x.shape);
      out[axis] += x.shape[axis];
    }
    return [{ shape: out, dtype: xs[0].dtype }];
  },
  lower(ctx, inputs, [out], attrs) {
    ctx.node('Concat', inputs, [out], { axis: { kind: 'int', value: attrs.axis as number } });
  },
  interpret(inputs, attrs) {
    return [
      K.concat(
        inputs.map((x) => x!),
        attrs.axis as number,
      ),
    ];
  },
});

registerOp({
  name: 'Split',
  infer([a], attrs) {
    const x = need('Split', a, 'input');
    const axis = normAxis('Split', attrs.axis as number, x.shape.length);
    const sizes = attrs.sizes as readonly number[];
    const total = sizes.reduce((p, q) => p + q, 0);
    if (total !== x.shape[axis] || sizes.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new ShapeError('Split', `sizes [${sizes.join(', ')}] do not split ${formatShape(x.shape)} on axis ${axis}`);
    }
    return sizes.map((s) => ({ shape: x.shape.map((d, i) => (i === axis ? s : d)), dtype: x.dtype }));
  },
  lower(ctx, [x], outs, attrs) {
    ctx.node('Split', [x, ctx.int64s(attrs.sizes as number[])], outs, {
      axis: { kind: 'int', value: attrs.axis as number },
    });
  },
  interpret([x], attrs) {
    return K.split(x!, attrs.axis as number, attrs.sizes as number[]);
  },
});

registerOp({
  name: 'Pad',
  infer([a], attrs) {
    const x = need('Pad', a, 'data');
    const pads = attrs.pads as readonly number[];
    const mode = attrs.mode as string;
    const r = x.shape.length;
    if (pads.length !== 2 * r) throw new ShapeError('Pad', `pads need ${2 * r} entries for ${formatShape(x.shape)}`);
    const out = x.shape.map((d, i) => d + pads[i] + pads[i + r]);
    if (mode === 'reflect' && x.shape.some((d, i) => d > 0 && (pads[i] >= d || pads[i + r] >= d))) {
      throw new ShapeError('Pad', `reflect padding [${pads.join(', ')}] must be smaller than ${formatShape(x.shape)}`);
    }
    if (out.some((d) => d < 0)) throw new ShapeError('Pad', `negative output size for ${formatShape(x.shape)}`);
    return [{ shape: out, dtype: x.dtype }];
  },
  lower(ctx, [x], [out], attrs) {
    const mode = attrs.mode as string;
    const inputs = [x, ctx.int64s(attrs.pads as number[])];
    if (mode === 'constant') inputs.push(ctx.float32([attrs.value as number]));
    ctx.node('Pad', inputs, [out], { mode: { kind: 'string', value: mode } });
  },
  interpret([x], attrs) {
    return [K.pad(x!, attrs.pads as number[], attrs.mode as 'constant' | 'reflect' | 'edge', attrs.value as number)];
  },
});

registerOp({
  name: 'Expand',
  infer([a], attrs) {
    const x = need('Expand', a, 'input');
    return [{ shape: broadcastShapes('Expand', x.shape, attrs.shape as number[]), dtype: x.dtype }];
  },
  lower(ctx, [x], [out], attrs) {
    ctx.node('Expand', [x, ctx.int64s(attrs.shape as number[])], [out]);
  },
  interpret([x], attrs) {
    return [K.expand(x!, attrs.shape as number[])];
  },
});

registerOp({
  name: 'Gather',
  infer([a, b], attrs) {
    const x = need('Gather', a, 'data');
    const idx = need('Gather', b, 'indices');
    requireDType('Gather', idx, INDEX_DTYPES, 'indices');
    const axis = normAxis('Gather', attrs.axis as number, x.shape.length);
    return [{ shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], dtype: x.dtype }];
  },
  lower(ctx, [x, i], [out], attrs) {
    ctx.node('Gather', [x, i], [out], { axis: { kind: 'int', value: attrs.axis as number } });
  },
  interpret([x, i], attrs) {
    return [K.gather(x!, i!, attrs.axis as number)];
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Public op functions.

/** Reshape; one entry may be −1 (inferred). */
export function reshape(x: SymTensor, shape: readonly number[]): SymTensor {
  const known = shape.filter((d) => d !== -1);
  const holes = shape.length - known.length;
  if (holes > 1) throw new ShapeError('Reshape', `more than one −1 in ${formatShape(shape)}`);
  let resolved = [...shape];
  if (holes === 1) {
    const rest = numel(known);
    if (rest === 0 || x.size % rest !== 0) {
      throw new ShapeError('Reshape', `cannot reshape ${formatShape(x.shape)} to ${formatShape(shape)}`);
    }
    resolved = shape.map((d) => (d === -1 ? x.size / rest : d));
  }
  if (resolved.length === x.rank && resolved.every((d, i) => d === x.shape[i])) return x;
  return x.builder.emit('Reshape', [x], { shape: resolved })[0];
}

export function transpose(x: SymTensor, perm: readonly number[]): SymTensor {
  return x.builder.emit('Transpose', [x], { perm: perm.map((p) => (p < 0 ? p + x.rank : p)) })[0];
}

/** ONNX Slice over the given axes (negative starts/ends count from the end; ends clamp). */
export function slice(
  x: SymTensor,
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
  steps?: readonly number[],
): SymTensor {
  const ax = axes ?? starts.map((_, i) => i);
  if (starts.length !== ends.length || ax.length !== starts.length || (steps && steps.length !== starts.length)) {
    throw new ShapeError('Slice', 'starts, ends, axes and steps must have the same length');
  }
  return x.builder.emit('Slice', [x], { starts, ends, axes: ax, steps: steps ?? starts.map(() => 1) })[0];
}

/** x[..., start:end, ...] along one axis. */
export function narrow(x: SymTensor, axis: number, start: number, length: number): SymTensor {
  return slice(x, [start], [start + length], [axis]);
}

export function concat(xs: readonly SymTensor[], axis: number): SymTensor {
  if (xs.length === 0) throw new ShapeError('Concat', 'no inputs');
  if (xs.length === 1) return xs[0];
  return xs[0].builder.emit('Concat', xs, { axis })[0];
}

/** Splits along `axis` into pieces of the given sizes, or into `sizes` equal pieces when a number. */
export function split(x: SymTensor, sizes: number | readonly number[], axis: number): SymTensor[] {
  const ax = normAxis('Split', axis, x.rank);
  let parts: readonly number[];
  if (typeof sizes === 'number') {
    if (x.shape[ax] % sizes !== 0) {
      throw new ShapeError('Split', `${formatShape(x.shape)} axis ${ax} does not split into ${sizes} equal parts`);
    }
    parts = new Array(sizes).fill(x.shape[ax] / sizes);
  } else {
    parts = sizes;
  }
  return x.builder.emit('Split', [x], { axis: ax, sizes: parts });
}

export interface PadOptions {
  mode?: 'constant' | 'reflect' | 'edge';
  value?: number;
}

/** Pads with ONNX order [d1_begin, ..., dn_begin, d1_end, ..., dn_end] over all dims. */
export function pad(x: SymTensor, pads: readonly number[], opts: PadOptions = {}): SymTensor {
  return x.builder.emit('Pad', [x], { pads, mode: opts.mode ?? 'constant', value: opts.value ?? 0 })[0];
}

/** Broadcasts x to `shape` (ONNX Expand). */
export function expand(x: SymTensor, shape: readonly number[]): SymTensor {
  return x.builder.emit('Expand', [x], { shape })[0];
}

/** Picks entries along `axis` by int64/int32 indices (negative indices count from the end). */
export function gather(x: SymTensor, indices: SymTensor, axis: number): SymTensor {
  return x.builder.emit('Gather', [x, indices], { axis })[0];
}

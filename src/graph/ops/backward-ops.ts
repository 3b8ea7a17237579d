/**
 * Primitives that only backward graphs need (src/graph/autodiff): the scatter-add adjoint of Gather and its own
 * adjoint GatherElements (ONNX GatherElements / ScatterElements semantics along one axis).
 */
import { formatShape, numel, type Shape } from '../../tensor/shape.ts';
import type { SymTensor } from '../builder.ts';
import { ShapeError } from '../errors.ts';
import { type F64Tensor, f64, strides } from '../interpreter/tensor.ts';
import type { ValueInfo } from '../ir.ts';
import { ONNX_DTYPE } from '../onnx/model-proto.ts';
import { registerOp } from '../op-registry.ts';
import { FLOAT_DTYPES, INDEX_DTYPES, need, normAxis, requireDType } from './infer-utils.ts';

/**
 * Checks an (indices, values) pair along `axis` against the shape of the indexed tensor: same rank, equal shapes of
 * indices and values, and every non-axis dim of the indices within the data's.
 */
function checkIndexed(op: string, idx: ValueInfo, vals: ValueInfo, data: Shape, axis: number): number {
  requireDType(op, idx, INDEX_DTYPES, 'indices');
  const a = normAxis(op, axis, data.length);
  const same = idx.shape.length === vals.shape.length && idx.shape.every((d, i) => d === vals.shape[i]);
  const fits = idx.shape.length === data.length && idx.shape.every((d, i) => i === a || d <= data[i]);
  if (!same || !fits) {
    throw new ShapeError(
      op,
      `indices ${formatShape(idx.shape)} and values ${formatShape(vals.shape)} do not index ${formatShape(data)} on axis ${a}`,
    );
  }
  return a;
}

/**
 * Walks every element of `idxShape` (row-major) and calls `fn(flatIndexOfElement, flatDataOffset)` where the data
 * offset is the element's position with its `axis` coordinate replaced by the index value (negative counts from the
 * end; out of range throws).
 */
function forEachIndexed(
  idx: F64Tensor,
  data: Shape,
  axis: number,
  fn: (element: number, dataOffset: number) => void,
): void {
  const ds = strides(data);
  const rank = data.length;
  const coord = new Array<number>(rank).fill(0);
  const n = numel(idx.shape);
  for (let e = 0; e < n; e++) {
    let k = idx.data[e];
    const dim = data[axis];
    if (!Number.isInteger(k) || k < -dim || k >= dim) throw new Error(`scatter/gather: index ${k} out of range ${dim}`);
    if (k < 0) k += dim;
    let off = 0;
    for (let i = 0; i < rank; i++) off += (i === axis ? k : coord[i]) * ds[i];
    fn(e, off);
    for (let i = rank - 1; i >= 0; i--) {
      if (++coord[i] < idx.shape[i]) break;
      coord[i] = 0;
    }
  }
}

/**
 * ScatterAdd: zeros of `shape`, then out[…, indices[e], …] += updates[e] along `axis` for every element e (ONNX
 * ScatterElements with reduction 'add' onto a zero tensor). The adjoint of GatherElements (and, after expanding the
 * indices, of Gather).
 */
registerOp({
  name: 'ScatterAdd',
  infer([i, u], attrs) {
    const idx = need('ScatterAdd', i, 'indices');
    const upd = need('ScatterAdd', u, 'updates');
    requireDType('ScatterAdd', upd, FLOAT_DTYPES, 'updates');
    const shape = attrs.shape as readonly number[];
    checkIndexed('ScatterAdd', idx, upd, shape, attrs.axis as number);
    return [{ shape, dtype: upd.dtype }];
  },
  lower(ctx, [idx, upd], [out], attrs) {
    const dtype = ctx.infoOf(upd).dtype;
    let zero = ctx.float32([0]);
    if (dtype !== 'float32') zero = ctx.node('Cast', [zero], 1, { to: { kind: 'int', value: ONNX_DTYPE[dtype] } });
    const zeros = ctx.node('Expand', [zero, ctx.int64s(attrs.shape as number[])]);
    ctx.node('ScatterElements', [zeros, idx, upd], [out], {
      axis: { kind: 'int', value: attrs.axis as number },
      reduction: { kind: 'string', value: 'add' },
    });
  },
  interpret([idx, upd], attrs) {
    const shape = attrs.shape as number[];
    const axis = normAxis('ScatterAdd', attrs.axis as number, shape.length);
    const out = f64(shape);
    forEachIndexed(idx!, shape, axis, (e, off) => {
      out.data[off] += upd!.data[e];
    });
    return [out];
  },
});

/** GatherElements: out[e] = data[…, indices[e], …] along `axis` (ONNX GatherElements). Adjoint: ScatterAdd. */
registerOp({
  name: 'GatherElements',
  infer([d, i], attrs) {
    const data = need('GatherElements', d, 'data');
    const idx = need('GatherElements', i, 'indices');
    checkIndexed('GatherElements', idx, { shape: idx.shape, dtype: data.dtype }, data.shape, attrs.axis as number);
    return [{ shape: idx.shape, dtype: data.dtype }];
  },
  lower(ctx, [data, idx], [out], attrs) {
    ctx.node('GatherElements', [data, idx], [out], { axis: { kind: 'int', value: attrs.axis as number } });
  },
  interpret([data, idx], attrs) {
    const axis = normAxis('GatherElements', attrs.axis as number, data!.shape.length);
    const out = f64(idx!.shape);
    forEachIndexed(idx!, data!.shape, axis, (e, off) => {
      out.data[e] = data!.data[off];
    });
    return [out];
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Public op functions.

/** Zeros of `shape` with `updates` added at `indices` along `axis` (indices and updates have the same shape). */
export function scatterAdd(indices: SymTensor, updates: SymTensor, axis: number, shape: readonly number[]): SymTensor {
  return updates.builder.emit('ScatterAdd', [indices, updates], { axis, shape: [...shape] })[0];
}

/** data[…, indices[e], …] along `axis`, one element per index. */
export function gatherElements(data: SymTensor, indices: SymTensor, axis: number): SymTensor {
  return data.builder.emit('GatherElements', [data, indices], { axis })[0];
}

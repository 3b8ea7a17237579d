/**
 * The float64 reference tensor used by the interpreter: a row-major `Float64Array` with its shape. Every kernel in
 * this folder takes and returns these; they never mutate their inputs.
 */
import { numel as shapeNumel, stridesOf } from '../../tensor/shape.ts';

export type F64Tensor = { shape: number[]; data: Float64Array };

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: readonly number[]): number {
  return shapeNumel(shape);
}

/** Row-major strides (in elements) of a shape. */
export function strides(shape: readonly number[]): number[] {
  return stridesOf(shape);
}

function checkShape(shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
  }
}

/**
 * Builds a tensor. Without `data` it is zero-filled; `data` may be any array-like of numbers (copied) and must have
 * exactly `numel(shape)` elements.
 */
export function f64(shape: readonly number[], data?: ArrayLike<number>): F64Tensor {
  checkShape(shape);
  const n = numel(shape);
  if (data === undefined) return { shape: [...shape], data: new Float64Array(n) };
  if (data.length !== n) {
    throw new Error(`f64: shape [${shape.join(', ')}] needs ${n} elements, got ${data.length}`);
  }
  return { shape: [...shape], data: Float64Array.from(data) };
}

/** A rank-0 tensor holding one value. */
export function scalar(value: number): F64Tensor {
  return { shape: [], data: Float64Array.of(value) };
}

/** Tensor filled with one value. */
export function full(shape: readonly number[], value: number): F64Tensor {
  const t = f64(shape);
  t.data.fill(value);
  return t;
}

/** Flat row-major offset of a multi-index (no bounds check beyond rank). */
export function ravelIndex(index: readonly number[], shape: readonly number[]): number {
  if (index.length !== shape.length) throw new Error(`ravelIndex: index rank ${index.length} != rank ${shape.length}`);
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i] + index[i];
  return flat;
}

/** Multi-index of a flat row-major offset. */
export function unravelIndex(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i];
    index[i] = d === 0 ? 0 : flat % d;
    flat = d === 0 ? 0 : Math.floor(flat / d);
  }
  return index;
}

/** Value at a multi-index. */
export function at(x: F64Tensor, index: readonly number[]): number {
  return x.data[ravelIndex(index, x.shape)];
}

/**
 * Advances `index` to the next row-major multi-index of `shape` in place; returns false after the last one. Used by
 * kernels to walk every output position without allocating.
 */
export function nextIndex(index: number[], shape: readonly number[]): boolean {
  for (let i = shape.length - 1; i >= 0; i--) {
    if (++index[i] < shape[i]) return true;
    index[i] = 0;
  }
  return false;
}

/** Normalises a possibly negative axis into [0, rank); throws when out of range. */
export function normAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(`axis ${axis} out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Deep copy. */
export function clone(x: F64Tensor): F64Tensor {
  return { shape: [...x.shape], data: x.data.slice() };
}

/** Plain nested-free copy of the data, handy in tests. */
export function toArray(x: F64Tensor): number[] {
  return Array.from(x.data);
}

/** Shape-inference helpers shared by the op definitions. */
import type { DType } from '../../tensor/dtype.ts';
import { formatShape, numel, type Shape } from '../../tensor/shape.ts';
import { ShapeError } from '../errors.ts';
import type { ValueInfo } from '../ir.ts';

/** numpy/ONNX multidirectional broadcasting of two shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(op, `cannot broadcast ${formatShape(a)} with ${formatShape(b)}`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalises a possibly negative axis for a tensor of `rank` dims. */
export function normAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ShapeError(op, `axis ${axis} out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

export function need(op: string, x: ValueInfo | undefined, what: string): ValueInfo {
  if (!x) throw new ShapeError(op, `missing input ${what}`);
  return x;
}

export function requireDType(op: string, x: ValueInfo, allowed: readonly DType[], what = 'input'): void {
  if (!allowed.includes(x.dtype))
    throw new ShapeError(op, `${what} has dtype ${x.dtype}, expected ${allowed.join(' or ')}`);
}

export function requireSameDType(op: string, a: ValueInfo, b: ValueInfo): void {
  if (a.dtype !== b.dtype) throw new ShapeError(op, `dtype mismatch: ${a.dtype} vs ${b.dtype}`);
}

export function requireRank(op: string, x: ValueInfo, rank: number | readonly number[], what = 'input'): void {
  const ok = typeof rank === 'number' ? x.shape.length === rank : rank.includes(x.shape.length);
  if (!ok) throw new ShapeError(op, `${what} must have rank ${rank}, got ${formatShape(x.shape)}`);
}

export function checkNumel(op: string, from: Shape, to: Shape): void {
  if (numel(from) !== numel(to)) {
    throw new ShapeError(op, `cannot reshape ${formatShape(from)} (${numel(from)} elements) to ${formatShape(to)}`);
  }
}

export const FLOAT_DTYPES: readonly DType[] = ['float32', 'float16', 'bfloat16'];
export const NUMERIC_DTYPES: readonly DType[] = ['float32', 'float16', 'bfloat16', 'int64', 'int32', 'uint8'];
export const INDEX_DTYPES: readonly DType[] = ['int64', 'int32'];

export function attrNum(attrs: Readonly<Record<string, unknown>>, key: string): number {
  return attrs[key] as number;
}

export function attrNums(attrs: Readonly<Record<string, unknown>>, key: string): readonly number[] {
  return attrs[key] as readonly number[];
}

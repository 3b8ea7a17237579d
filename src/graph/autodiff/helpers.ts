/** Small graph-building helpers shared by the VJP rules. */
import type { DType } from '../../tensor/dtype.ts';
import { type Shape, shapesEqual } from '../../tensor/shape.ts';
import type { GraphBuilder, SymTensor } from '../builder.ts';
import * as op from '../ops/index.ts';

/**
 * The adjoint of broadcasting `shape` to g.shape (numpy rules): sums g over the leading dims it has in excess and
 * over the dims where `shape` has 1, then reshapes to `shape`.
 */
export function sumToShape(g: SymTensor, shape: Shape): SymTensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  if (lead < 0) throw new Error(`sumToShape: [${g.shape}] cannot be reduced to [${shape}]`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead ? g.shape[i] !== 1 : shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
  }
  const reduced = axes.length > 0 ? op.sum(g, axes, true) : g;
  return op.reshape(reduced, shape);
}

/** A zero tensor of `shape` (a broadcast scalar). */
export function zeros(b: GraphBuilder, shape: Shape, dtype: DType): SymTensor {
  const z = dtype === 'float32' ? b.constant(0) : op.cast(b.constant(0), dtype);
  return shape.length === 0 ? z : op.expand(z, shape);
}

/** A tensor of ones of `shape`. */
export function ones(b: GraphBuilder, shape: Shape, dtype: DType): SymTensor {
  const o = dtype === 'float32' ? b.constant(1) : op.cast(b.constant(1), dtype);
  return shape.length === 0 ? o : op.expand(o, shape);
}

/** Reverses x along each of `axes` (a Slice with step −1). */
export function flip(x: SymTensor, axes: readonly number[]): SymTensor {
  const ax = axes.filter((a) => x.shape[a] > 1);
  if (ax.length === 0) return x;
  return op.slice(
    x,
    ax.map(() => -1),
    ax.map((a) => -(x.shape[a] + 1)),
    ax,
    ax.map(() => -1),
  );
}

/** Swaps the last two dims. */
export function transposeLast2(x: SymTensor): SymTensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return op.transpose(x, perm);
}

/** Pads only `axis`, by `begin` and `end` zeros. */
export function padAxis(x: SymTensor, axis: number, begin: number, end: number): SymTensor {
  if (begin === 0 && end === 0) return x;
  const pads = new Array<number>(2 * x.rank).fill(0);
  pads[axis] = begin;
  pads[axis + x.rank] = end;
  return op.pad(x, pads);
}

/** Shape with the reduced `axes` kept as 1. */
export function keptShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Adds a list of same-shaped gradient contributions (undefined when the list is empty). */
export function addAll(parts: readonly SymTensor[]): SymTensor | undefined {
  if (parts.length === 0) return undefined;
  return parts.slice(1).reduce((acc, p) => op.add(acc, p), parts[0]);
}

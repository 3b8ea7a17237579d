/** Reductions (sum, mean, max, min over axes) and softmax. */
import type { SymTensor } from '../builder.ts';
import { ShapeError } from '../errors.ts';
import * as K from '../interpreter/index.ts';
import { registerOp } from '../op-registry.ts';
import { FLOAT_DTYPES, NUMERIC_DTYPES, need, normAxis, requireDType } from './infer-utils.ts';

const REDUCE = { ReduceSum: 'sum', ReduceMean: 'mean', ReduceMax: 'max', ReduceMin: 'min' } as const;

for (const [name, kind] of Object.entries(REDUCE)) {
  registerOp({
    name,
    infer([a], attrs) {
      const x = need(name, a, 'data');
      requireDType(name, x, NUMERIC_DTYPES);
      const axes = (attrs.axes as number[]).map((ax) => normAxis(name, ax, x.shape.length));
      if (new Set(axes).size !== axes.length) throw new ShapeError(name, `repeated axes [${axes.join(', ')}]`);
      const keep = attrs.keepdims as boolean;
      const shape: number[] = [];
      x.shape.forEach((d, i) => {
        if (!axes.includes(i)) shape.push(d);
        else if (keep) shape.push(1);
      });
      return [{ shape, dtype: x.dtype }];
    },
    lower(ctx, [x], [out], attrs) {
      ctx.node(name, [x, ctx.int64s(attrs.axes as number[])], [out], {
        keepdims: { kind: 'int', value: attrs.keepdims ? 1 : 0 },
      });
    },
    interpret([x], attrs) {
      return [K.reduce(x!, attrs.axes as number[], attrs.keepdims as boolean, kind)];
    },
  });
}

registerOp({
  name: 'Softmax',
  infer([a], attrs) {
    const x = need('Softmax', a, 'input');
    requireDType('Softmax', x, FLOAT_DTYPES);
    normAxis('Softmax', attrs.axis as number, x.shape.length);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  lower(ctx, [x], [out], attrs) {
    ctx.node('Softmax', [x], [out], { axis: { kind: 'int', value: attrs.axis as number } });
  },
  interpret([x], attrs) {
    return [K.softmax(x!, attrs.axis as number)];
  },
});

function axesOf(x: SymTensor, axes: number | readonly number[] | undefined): number[] {
  if (axes === undefined) return x.shape.map((_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  return list.map((a) => normAxis('Reduce', a, x.rank));
}

const reduceFn =
  (op: keyof typeof REDUCE) =>
  (x: SymTensor, axes?: number | readonly number[], keepdims = false): SymTensor =>
    x.builder.emit(op, [x], { axes: axesOf(x, axes), keepdims })[0];

/** Sum over `axes` (all when omitted). */
export const sum = reduceFn('ReduceSum');
/** Mean over `axes` (all when omitted). */
export const mean = reduceFn('ReduceMean');
export const max = reduceFn('ReduceMax');
export const min = reduceFn('ReduceMin');

export function softmax(x: SymTensor, axis = -1): SymTensor {
  return x.builder.emit('Softmax', [x], { axis })[0];
}

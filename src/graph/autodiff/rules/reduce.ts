/** VJP rules of the reductions (ReduceSum, ReduceMean, ReduceMax, ReduceMin) and Softmax. */
import type { SymTensor } from '../../builder.ts';
import * as op from '../../ops/index.ts';
import { keptShape } from '../helpers.ts';
import { registerVjp, type VjpRule } from '../vjp.ts';

function reducedAxes(x: SymTensor, axes: readonly number[]): number[] {
  return axes.map((a) => (a < 0 ? a + x.rank : a));
}

/** A reduced tensor (ȳ or y) with its reduced dims restored as 1, so that it broadcasts against x. */
function kept(t: SymTensor, x: SymTensor, axes: readonly number[]): SymTensor {
  return op.reshape(t, keptShape(x.shape, axes));
}

/** y = Σ_axes x: x̄ = ȳ broadcast back over the reduced axes. */
registerVjp('ReduceSum', ({ inputs: [x], grads: [g], attrs }) => {
  const axes = reducedAxes(x!, attrs.axes as number[]);
  return [op.expand(kept(g!, x!, axes), x!.shape)];
});

/** y = mean_axes x: x̄ = ȳ/count broadcast back (count = number of elements reduced into each output). */
registerVjp('ReduceMean', ({ inputs: [x], grads: [g], attrs }) => {
  const axes = reducedAxes(x!, attrs.axes as number[]);
  const count = axes.reduce((p, a) => p * x!.shape[a], 1);
  return [op.expand(op.div(kept(g!, x!, axes), count), x!.shape)];
});

/**
 * y = max_axes x (min likewise): the gradient goes to the positions that attain the extremum; when several do, it
 * is split evenly among them (as torch.amax/amin): x̄ = ȳ·[x = y] / #{x = y}.
 */
const extremumRule: VjpRule = ({ inputs: [x], outputs: [y], grads: [g], attrs }) => {
  const axes = reducedAxes(x!, attrs.axes as number[]);
  const mask = op.cast(op.equal(x!, kept(y, x!, axes)), x!.dtype);
  const count = op.sum(mask, axes, true);
  return [op.mul(mask, op.div(kept(g!, x!, axes), count))];
};
registerVjp('ReduceMax', extremumRule);
registerVjp('ReduceMin', extremumRule);

/** y = softmax(x) along an axis: x̄ = y·(ȳ − Σ_axis ȳ·y). */
registerVjp('Softmax', ({ outputs: [y], grads: [g], attrs }) => [
  op.mul(y, op.sub(g!, op.sum(op.mul(g!, y), attrs.axis as number, true))),
]);

/**
 * VJP rules of the broadcasting binary arithmetic ops (Add, Sub, Mul, Div, Pow, Max, Min), Neg, Abs, Where and
 * Cast. For a broadcast operand the gradient is summed back to its shape (`sumToShape`, the adjoint of broadcasting).
 */
import { isFloatDType } from '../../../tensor/dtype.ts';
import type { SymTensor } from '../../builder.ts';
import * as op from '../../ops/index.ts';
import { sumToShape } from '../helpers.ts';
import { registerVjp, type VjpRule } from '../vjp.ts';

/** y = a + b: ā = ḡ, b̄ = ḡ (each summed to its operand's shape). */
registerVjp('Add', ({ inputs: [a, b], grads: [g], needs }) => [
  needs[0] ? sumToShape(g!, a!.shape) : undefined,
  needs[1] ? sumToShape(g!, b!.shape) : undefined,
]);

/** y = a − b: ā = ḡ, b̄ = −ḡ. */
registerVjp('Sub', ({ inputs: [a, b], grads: [g], needs }) => [
  needs[0] ? sumToShape(g!, a!.shape) : undefined,
  needs[1] ? op.neg(sumToShape(g!, b!.shape)) : undefined,
]);

/** y = a·b: ā = ḡ·b, b̄ = ḡ·a. */
registerVjp('Mul', ({ inputs: [a, b], grads: [g], needs }) => [
  needs[0] ? sumToShape(op.mul(g!, b!), a!.shape) : undefined,
  needs[1] ? sumToShape(op.mul(g!, a!), b!.shape) : undefined,
]);

/** y = a/b: ā = ḡ/b, b̄ = −ḡ·a/b² = −ḡ·y/b. */
registerVjp('Div', ({ inputs: [a, b], outputs: [y], grads: [g], needs }) => [
  needs[0] ? sumToShape(op.div(g!, b!), a!.shape) : undefined,
  needs[1] ? sumToShape(op.neg(op.div(op.mul(g!, y), b!)), b!.shape) : undefined,
]);

/**
 * y = a^b: ā = ḡ·b·a^(b−1), b̄ = ḡ·y·ln a. As torch (`pow_backward_self/exponent`): ā is 0 where b = 0 (not
 * 0·0^(−1) = NaN), and b̄ is 0 where a = 0 (the limit for b > 0); a negative base gives NaN in b̄.
 */
registerVjp('Pow', ({ inputs: [a, b], outputs: [y], grads: [g], needs }) => [
  needs[0]
    ? sumToShape(op.where(op.equal(b!, 0), 0, op.mul(op.mul(g!, b!), op.pow(a!, op.sub(b!, 1)))), a!.shape)
    : undefined,
  needs[1] ? sumToShape(op.where(op.equal(a!, 0), 0, op.mul(op.mul(g!, y), op.log(a!))), b!.shape) : undefined,
]);

/**
 * y = max(a, b) (min likewise): the gradient goes to the larger (smaller) operand; on ties it is split evenly,
 * ḡ/2 to each (torch.maximum/minimum's subgradient).
 */
function extremumRule(wins: (p: SymTensor, q: SymTensor) => SymTensor): VjpRule {
  return ({ inputs: [a, b], grads: [g], needs }) => {
    const half = op.where(op.equal(a!, b!), op.mul(g!, 0.5), 0);
    return [
      needs[0] ? sumToShape(op.where(wins(a!, b!), g!, half), a!.shape) : undefined,
      needs[1] ? sumToShape(op.where(wins(b!, a!), g!, half), b!.shape) : undefined,
    ];
  };
}
registerVjp('Max', extremumRule(op.greater));
registerVjp('Min', extremumRule(op.less));

/** y = −x: x̄ = −ḡ. */
registerVjp('Neg', ({ grads: [g] }) => [op.neg(g!)]);

/** y = |x|: x̄ = ḡ·sign(x), 0 at x = 0 (torch's `sgn`). */
registerVjp('Abs', ({ inputs: [x], grads: [g] }) => [
  op.where(op.greater(x!, 0), g!, op.where(op.less(x!, 0), op.neg(g!), 0)),
]);

/** y = cond ? a : b: ā = ḡ where cond (else 0), b̄ = ḡ where ¬cond; the boolean condition gets none. */
registerVjp('Where', ({ inputs: [c, a, b], grads: [g], needs }) => [
  undefined,
  needs[1] ? sumToShape(op.where(c!, g!, 0), a!.shape) : undefined,
  needs[2] ? sumToShape(op.where(c!, 0, g!), b!.shape) : undefined,
]);

/** Cast between float types: x̄ = cast(ḡ, dtype of x) (straight through; the rounding has derivative 1 a.e.). */
registerVjp('Cast', ({ inputs: [x], grads: [g] }) => [isFloatDType(x!.dtype) ? op.cast(g!, x!.dtype) : undefined]);

/** VJP rules of the unary math functions: x̄ = ḡ·f′(x), written with the forward output y where that is cheaper. */
import * as op from '../../ops/index.ts';
import { registerVjp } from '../vjp.ts';

/** y = eˣ: x̄ = ḡ·y. */
registerVjp('Exp', ({ outputs: [y], grads: [g] }) => [op.mul(g!, y)]);

/** y = ln x: x̄ = ḡ/x. */
registerVjp('Log', ({ inputs: [x], grads: [g] }) => [op.div(g!, x!)]);

/** y = √x: x̄ = ḡ/(2y). */
registerVjp('Sqrt', ({ outputs: [y], grads: [g] }) => [op.div(op.mul(g!, 0.5), y)]);

/** y = 1/x: x̄ = −ḡ/x² = −ḡ·y². */
registerVjp('Reciprocal', ({ outputs: [y], grads: [g] }) => [op.neg(op.mul(g!, op.mul(y, y)))]);

/** y = x^(−½): x̄ = −½·ḡ·x^(−3/2) = −½·ḡ·y³. */
registerVjp('Rsqrt', ({ outputs: [y], grads: [g] }) => [op.mul(op.mul(g!, -0.5), op.mul(y, op.mul(y, y)))]);

/** y = sin x: x̄ = ḡ·cos x. */
registerVjp('Sin', ({ inputs: [x], grads: [g] }) => [op.mul(g!, op.cos(x!))]);

/** y = cos x: x̄ = −ḡ·sin x. */
registerVjp('Cos', ({ inputs: [x], grads: [g] }) => [op.neg(op.mul(g!, op.sin(x!)))]);

/** y = tanh x: x̄ = ḡ·(1 − y²). */
registerVjp('Tanh', ({ outputs: [y], grads: [g] }) => [op.mul(g!, op.sub(1, op.mul(y, y)))]);

/** y = erf x: x̄ = ḡ·(2/√π)·e^(−x²). */
registerVjp('Erf', ({ inputs: [x], grads: [g] }) => [
  op.mul(op.mul(g!, 2 / Math.sqrt(Math.PI)), op.exp(op.neg(op.mul(x!, x!)))),
]);

/** VJP rules of the activations: Sigmoid, Relu, Silu, Gelu (erf and tanh forms). */
import type { SymTensor } from '../../builder.ts';
import * as op from '../../ops/index.ts';
import { registerVjp } from '../vjp.ts';

/** y = σ(x): x̄ = ḡ·y·(1 − y). */
registerVjp('Sigmoid', ({ outputs: [y], grads: [g] }) => [op.mul(g!, op.mul(y, op.sub(1, y)))]);

/** y = max(x, 0): x̄ = ḡ where x > 0, 0 elsewhere (subgradient 0 at x = 0, as torch). */
registerVjp('Relu', ({ inputs: [x], grads: [g] }) => [op.where(op.greater(x!, 0), g!, 0)]);

/** y = x·σ(x): x̄ = ḡ·σ(x)·(1 + x·(1 − σ(x))). */
registerVjp('Silu', ({ inputs: [x], grads: [g] }) => {
  const s = op.sigmoid(x!);
  return [op.mul(g!, op.mul(s, op.add(1, op.mul(x!, op.sub(1, s)))))];
});

/**
 * Exact GELU y = x·Φ(x): x̄ = ḡ·(Φ(x) + x·φ(x)) with Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^(−x²/2)/√(2π).
 * Tanh form y = ½x(1 + t), t = tanh(c(x + 0.044715x³)), c = √(2/π):
 * x̄ = ḡ·(½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²)).
 */
registerVjp('Gelu', ({ inputs: [x], grads: [g], attrs }) => {
  const v = x!;
  let d: SymTensor;
  if (attrs.approximate === 'tanh') {
    const c = Math.sqrt(2 / Math.PI);
    const x2 = op.mul(v, v);
    const t = op.tanh(op.mul(op.add(v, op.mul(op.mul(x2, v), 0.044715)), c));
    const inner = op.mul(op.add(op.mul(x2, 3 * 0.044715), 1), c);
    d = op.add(op.mul(op.add(t, 1), 0.5), op.mul(op.mul(op.mul(v, 0.5), op.sub(1, op.mul(t, t))), inner));
  } else {
    const cdf = op.mul(op.add(op.erf(op.mul(v, Math.SQRT1_2)), 1), 0.5);
    const pdf = op.mul(op.exp(op.mul(op.mul(v, v), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    d = op.add(cdf, op.mul(v, pdf));
  }
  return [op.mul(g!, d)];
});

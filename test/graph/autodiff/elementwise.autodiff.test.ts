/** VJP rules of the elementwise ops: finite differences (float64 interpreter) and ORT vs interpreter. */
import { after, before, describe, test } from 'node:test';
import * as op from '../../../src/graph/ops/index.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { randn, uniform } from '../../helpers/random.ts';
import { checkCase, type GradCase } from './harness.ts';

const cases: GradCase[] = [];

// Binary arithmetic with broadcasting both ways, and a scalar constant operand.
for (const [name, f] of [
  ['add', op.add],
  ['sub', op.sub],
  ['mul', op.mul],
  ['div', op.div],
  ['maximum', op.maximum],
  ['minimum', op.minimum],
] as const) {
  cases.push({
    name: `${name} [2,3,4] ∘ [3,1]`,
    feeds: { a: randn([2, 3, 4]), b: randn([3, 1], 1, name === 'div' ? 3 : 0) },
    build: (x) => f(x.a, x.b),
  });
  cases.push({
    name: `${name} [4,1] ∘ [2,1,5]`,
    feeds: { a: randn([4, 1], 1, name === 'div' ? 3 : 0), b: randn([2, 1, 5], 1, name === 'div' ? 3 : 0) },
    build: (x) => f(x.a, x.b),
  });
}
cases.push({
  name: 'mul/add by scalar constants',
  feeds: { a: randn([3, 5]) },
  build: (x) => op.add(op.mul(x.a, 2.5), 1),
});
cases.push({
  name: 'scalar constant minus / over tensor',
  feeds: { a: uniform([3, 5], 0.5, 2) },
  build: (x) => op.div(op.sub(1, x.a), x.a),
});
cases.push({
  name: 'pow tensor^tensor',
  feeds: { a: uniform([2, 5], 0.5, 2), b: randn([5]) },
  build: (x) => op.pow(x.a, x.b),
});
cases.push({ name: 'pow x^2 (constant exponent)', feeds: { a: randn([3, 4]) }, build: (x) => op.pow(x.a, 2) });
cases.push({ name: 'pow 2^x (constant base)', feeds: { a: randn([3, 4]) }, build: (x) => op.pow(2, x.a) });
cases.push({
  name: 'maximum/minimum ties split evenly',
  feeds: { a: HostTensor.float32([4], [1, 2, 3, 4]) },
  // max(a, a) has a tie everywhere: each side gets ḡ/2, so the total is ḡ (and min likewise).
  build: (x) => op.add(op.maximum(x.a, x.a), op.minimum(x.a, x.a)),
});

// Unary math and activations on domains away from kinks and poles.
for (const [name, f, lo, hi] of [
  ['neg', op.neg, -2, 2],
  ['abs', op.abs, -2, 2],
  ['exp', op.exp, -3, 3],
  ['log', op.log, 0.1, 5],
  ['sqrt', op.sqrt, 0.05, 5],
  ['reciprocal', op.reciprocal, 0.5, 5],
  ['rsqrt', op.rsqrt, 0.1, 5],
  ['sin', op.sin, -6, 6],
  ['cos', op.cos, -6, 6],
  ['tanh', op.tanh, -4, 4],
  ['erf', op.erf, -3, 3],
  ['sigmoid', op.sigmoid, -8, 8],
  ['relu', op.relu, -2, 2],
  ['silu', op.silu, -8, 8],
  ['gelu erf', (t: Parameters<typeof op.gelu>[0]) => op.gelu(t), -5, 5],
  ['gelu tanh', (t: Parameters<typeof op.gelu>[0]) => op.gelu(t, 'tanh'), -5, 5],
] as const) {
  cases.push({ name, feeds: { a: uniform([3, 17], lo, hi) }, build: (x) => f(x.a) });
}

// Where: both branches broadcast, the condition computed from an input (it gets no gradient).
cases.push({
  name: 'where broadcast',
  feeds: { c: randn([3, 1]), a: randn([2, 3, 4]), b: randn([4]) },
  wrt: ['a', 'b'],
  build: (x) => op.where(op.greater(x.c, 0), x.a, x.b),
});
cases.push({
  name: 'where on a value computed from the differentiated input',
  feeds: { a: randn([5, 6]) },
  build: (x) => op.where(op.greater(x.a, 0), op.mul(x.a, x.a), op.neg(x.a)),
});
// A value used several times (gradient contributions are summed).
cases.push({
  name: 'fan-out: x·sin(x) + exp(x)/x',
  feeds: { a: uniform([4, 5], 0.5, 2) },
  build: (x) => op.add(op.mul(x.a, op.sin(x.a)), op.div(op.exp(x.a), x.a)),
});

describe('VJP rules: elementwise', () => {
  let engine: Engine;
  before(async () => {
    engine = await createTestEngine();
  });
  after(async () => {
    await engine.dispose();
  });
  for (const c of cases) test(c.name, () => checkCase(engine, c));
});

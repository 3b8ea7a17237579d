/**
 * VJP rules of the reductions, softmax, LayerNorm, attention and resize GroupNorm (and the variance composite):
 * finite differences and ORT vs float64 interpreter.
 */
import { after, before, describe, test } from 'node:test';
import * as op from '../../../src/graph/ops/index.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { randn } from '../../helpers/random.ts';
import { checkCase, type GradCase } from './harness.ts';

const cases: GradCase[] = [];

for (const [name, f] of [
  ['sum', op.sum],
  ['mean', op.mean],
  ['max', op.max],
  ['min', op.min],
] as const) {
  cases.push({ name: `reduce ${name} axes [0, 2]`, feeds: { a: randn([3, 4, 5]) }, build: (x) => f(x.a, [0, 2]) });
  cases.push({
    name: `reduce ${name} axis −1 keepdims`,
    feeds: { a: randn([3, 4, 5]) },
    build: (x) => f(x.a, -1, true),
  });
  cases.push({ name: `reduce ${name} all`, feeds: { a: randn([2, 3]) }, build: (x) => f(x.a) });
}
cases.push({ name: 'softmax last axis', feeds: { a: randn([3, 5, 7]) }, build: (x) => op.softmax(x.a, -1) });
cases.push({ name: 'softmax axis 1', feeds: { a: randn([3, 5, 7], 2) }, build: (x) => op.softmax(x.a, 1) });
cases.push({
  name: 'layerNorm scale + bias',
  feeds: { x: randn([2, 3, 8]), s: randn([8]), b: randn([8]) },
  build: (x) => op.layerNorm(x.x, x.s, x.b, 1e-5),
});
cases.push({ name: 'layerNorm without affine', feeds: { x: randn([4, 6]) }, build: (x) => op.layerNorm(x.x) });
cases.push({
  name: 'layerNorm over two dims, broadcast scale [1, 5]',
  feeds: { x: randn([2, 3, 4, 5]), s: randn([1, 5]), b: randn([4, 5]) },
  build: (x) => op.layerNorm(x.x, x.s, x.b, 1e-6, -2),
});
cases.push({
  name: 'layerNorm on badly centred input (mean 300)',
  feeds: { x: randn([3, 16], 1, 300), s: randn([16]) },
  build: (x) => op.layerNorm(x.x, x.s, undefined, 1e-5),
});
cases.push({
  name: 'groupNorm (4-D, 2 groups)',
  feeds: { x: randn([2, 4, 3, 3]), g: randn([4]), b: randn([4]) },
  build: (x) => op.groupNorm(x.x, 2, x.g, x.b, 1e-5),
});
cases.push({
  name: 'groupNorm (5-D, temporal statistics)',
  feeds: { x: randn([1, 4, 2, 3, 3]), g: randn([4]), b: randn([4]) },
  build: (x) => op.groupNorm(x.x, 2, x.g, x.b, 1e-6),
});
cases.push({
  name: 'groupNorm without affine, rank 2',
  feeds: { x: randn([3, 8]) },
  build: (x) => op.groupNorm(x.x, 2),
});
cases.push({
  name: 'groupNorm on badly centred input (mean 300), weight only',
  feeds: { x: randn([2, 4, 5], 1, 300), g: randn([4]) },
  build: (x) => op.groupNorm(x.x, 2, x.g),
});
cases.push({
  name: 'groupNorm golden size [2, 64, 8, 8], 32 groups, mean 300',
  feeds: { x: randn([2, 64, 8, 8], 1, 300), g: randn([64]), b: randn([64]) },
  build: (x) => op.groupNorm(x.x, 32, x.g, x.b, 1e-5),
});
cases.push({
  name: 'variance composite (unbiased)',
  feeds: { x: randn([3, 6]) },
  build: (x) => op.variance(x.x, 1, false, 1),
});

for (const [name, q, k, v, heads, scale] of [
  ['self, 2 heads', [2, 5, 8], [2, 5, 8], [2, 5, 8], 2, undefined],
  ['cross, Sk ≠ Sq, Dv ≠ D, 3 heads', [1, 4, 6], [1, 7, 6], [1, 7, 9], 3, undefined],
  ['one head, custom scale', [2, 3, 4], [2, 6, 4], [2, 6, 5], 1, 0.7],
] as const) {
  cases.push({
    name: `attention ${name}`,
    feeds: { q: randn(q), k: randn(k), v: randn(v) },
    build: (x) => op.attention(x.q, x.k, x.v, heads, scale),
  });
}
cases.push({
  name: 'attention, only dv',
  feeds: { q: randn([1, 3, 4]), k: randn([1, 3, 4]), v: randn([1, 3, 4]) },
  wrt: ['v'],
  build: (x) => op.attention(x.q, x.k, x.v, 2),
});
cases.push({
  name: 'attention, shared q = k = v input',
  feeds: { x: randn([1, 4, 6]) },
  build: (x) => op.attention(x.x, x.x, x.x, 2),
});

for (const [name, shape, size, opts] of [
  ['nearest 2× (sum-pool adjoint)', [2, 3, 3, 4], [6, 8], { mode: 'nearest' }],
  ['nearest 3→5, 4→3', [1, 2, 3, 4], [5, 3], { mode: 'nearest' }],
  [
    'nearest round_prefer_ceil half_pixel',
    [1, 2, 4, 3],
    [7, 5],
    { mode: 'nearest', nearestMode: 'round_prefer_ceil', coordinateTransformationMode: 'half_pixel' },
  ],
  ['bilinear align corners up', [1, 2, 3, 4], [5, 7], { mode: 'linear', alignCorners: true }],
  ['bilinear half pixel down', [2, 1, 6, 5], [4, 3], { mode: 'linear' }],
  ['bicubic align corners', [1, 2, 4, 3], [6, 5], { mode: 'cubic', alignCorners: true }],
  ['bicubic half pixel', [1, 1, 5, 4], [3, 7], { mode: 'cubic' }],
  ['trilinear 3-D', [1, 2, 2, 3, 3], [3, 4, 2], { mode: 'linear' }],
  ['nearest 1-D', [2, 3, 4], [9], { mode: 'nearest' }],
] as const) {
  cases.push({ name: `resize ${name}`, feeds: { x: randn(shape) }, build: (x) => op.resize(x.x, size, opts) });
}

describe('VJP rules: reductions, softmax, norms, attention, resize', () => {
  let engine: Engine;
  before(async () => {
    engine = await createTestEngine();
  });
  after(async () => {
    await engine.dispose();
  });
  for (const c of cases) test(c.name, () => checkCase(engine, c));
});

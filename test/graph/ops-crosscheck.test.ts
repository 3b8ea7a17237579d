/**
 * Every primitive and composite op: the ONNX lowering run by ONNX Runtime agrees with the float64 interpreter
 * (DESIGN.md decision 8) on small random inputs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GraphBuilder, type SymTensor } from '../../src/graph/builder.ts';
import { interpret } from '../../src/graph/interpret.ts';
import * as op from '../../src/graph/ops/index.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { relError } from '../helpers/compare.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { randn, uniform } from '../helpers/random.ts';

type Feeds = Record<string, HostTensor>;
interface Case {
  name: string;
  feeds: Feeds;
  build: (b: GraphBuilder, x: Record<string, SymTensor>) => SymTensor | SymTensor[];
  tol?: number;
}

const x234 = () => randn([2, 3, 4]);
const cases: Case[] = [];
const add = (c: Case) => cases.push(c);

// Elementwise arithmetic with broadcasting.
for (const [name, f] of [
  ['add', op.add],
  ['sub', op.sub],
  ['mul', op.mul],
  ['div', op.div],
  ['maximum', op.maximum],
  ['minimum', op.minimum],
] as const) {
  add({ name: `${name} broadcast`, feeds: { a: randn([2, 3, 4]), b: randn([3, 1]) }, build: (_, x) => f(x.a, x.b) });
}
add({ name: 'add scalar', feeds: { a: x234() }, build: (_, x) => op.add(op.mul(x.a, 2.5), 1) });
add({ name: 'pow', feeds: { a: uniform([2, 5], 0.5, 2), b: randn([5]) }, build: (_, x) => op.pow(x.a, x.b) });
for (const [name, f] of [
  ['equal', op.equal],
  ['less', op.less],
  ['lessEqual', op.lessEqual],
  ['greater', op.greater],
  ['greaterEqual', op.greaterEqual],
] as const) {
  add({
    name,
    feeds: { a: HostTensor.float32([2, 3], [1, 2, 3, 4, 5, 6]), b: HostTensor.float32([3], [2, 2, 6]) },
    build: (_, x) => op.cast(f(x.a, x.b), 'float32'),
  });
}
add({
  name: 'where + logical',
  feeds: { a: x234(), b: x234() },
  build: (_, x) => op.where(op.logicalAnd(op.greater(x.a, 0), op.logicalNot(op.greater(x.b, 1))), x.a, x.b),
});
// Unary math and activations.
for (const [name, f, lo, hi] of [
  ['exp', op.exp, -3, 3],
  ['log', op.log, 0.1, 5],
  ['sqrt', op.sqrt, 0.01, 5],
  ['rsqrt', op.rsqrt, 0.1, 5],
  ['reciprocal', op.reciprocal, 0.5, 5],
  ['sin', op.sin, -6, 6],
  ['cos', op.cos, -6, 6],
  ['tanh', op.tanh, -4, 4],
  ['erf', op.erf, -3, 3],
  ['sigmoid', op.sigmoid, -8, 8],
  ['silu', op.silu, -8, 8],
  ['relu', op.relu, -2, 2],
  ['neg', op.neg, -2, 2],
  ['abs', op.abs, -2, 2],
] as const) {
  add({ name, feeds: { a: uniform([3, 17], lo, hi) }, build: (_, x) => f(x.a) });
}
add({ name: 'gelu erf', feeds: { a: uniform([3, 17], -5, 5) }, build: (_, x) => op.gelu(x.a) });
add({ name: 'gelu tanh', feeds: { a: uniform([3, 17], -5, 5) }, build: (_, x) => op.gelu(x.a, 'tanh') });
// Linear algebra.
add({ name: 'matmul 2-D', feeds: { a: randn([5, 7]), b: randn([7, 3]) }, build: (_, x) => op.matmul(x.a, x.b) });
add({
  name: 'matmul batched broadcast',
  feeds: { a: randn([2, 1, 4, 6]), b: randn([3, 6, 5]) },
  build: (_, x) => op.matmul(x.a, x.b),
});
add({ name: 'matmul 1-D', feeds: { a: randn([6]), b: randn([2, 6, 3]) }, build: (_, x) => op.matmul(x.a, x.b) });
add({
  name: 'linear 3-D with bias',
  feeds: { a: randn([2, 5, 8]), w: randn([6, 8]), bias: randn([6]) },
  build: (_, x) => op.linear(x.a, x.w, x.bias),
});
add({
  name: 'linear 2-D no bias',
  feeds: { a: randn([4, 8]), w: randn([3, 8]) },
  build: (_, x) => op.linear(x.a, x.w),
});
// Convolutions.
add({
  name: 'conv1d stride 2',
  feeds: { a: randn([2, 4, 11]), w: randn([6, 4, 3]), bias: randn([6]) },
  build: (_, x) => op.conv(x.a, x.w, x.bias, { stride: 2, padding: 1 }),
});
add({
  name: 'conv2d pad 1',
  feeds: { a: randn([2, 4, 7, 9]), w: randn([5, 4, 3, 3]), bias: randn([5]) },
  build: (_, x) => op.conv(x.a, x.w, x.bias, { padding: 1 }),
});
add({
  name: 'conv2d stride, dilation, groups',
  feeds: { a: randn([1, 4, 12, 10]), w: randn([6, 2, 3, 3]) },
  build: (_, x) => op.conv(x.a, x.w, undefined, { stride: [2, 1], dilation: [1, 2], padding: [2, 1], groups: 2 }),
});
add({
  name: 'conv2d asymmetric padding',
  feeds: { a: randn([1, 3, 8, 12]), w: randn([4, 3, 3, 3]) },
  build: (_, x) => op.conv(x.a, x.w, undefined, { stride: 2, padding: [0, 0, 1, 1] }),
});
add({
  name: 'conv3d k311',
  feeds: { a: randn([2, 4, 5, 3, 4]), w: randn([4, 4, 3, 1, 1]), bias: randn([4]) },
  build: (_, x) => op.conv(x.a, x.w, x.bias, { padding: [1, 0, 0] }),
});
add({
  name: 'conv3d 3x3x3 stride',
  feeds: { a: randn([1, 2, 5, 6, 6]), w: randn([3, 2, 3, 3, 3]) },
  build: (_, x) => op.conv(x.a, x.w, undefined, { padding: 1, stride: [1, 2, 2] }),
});
add({
  name: 'convTranspose2d stride 2',
  feeds: { a: randn([1, 4, 5, 6]), w: randn([4, 3, 3, 3]), bias: randn([3]) },
  build: (_, x) => op.convTranspose(x.a, x.w, x.bias, { stride: 2, padding: 1, outputPadding: 1 }),
});
// Data movement.
add({
  name: 'reshape + transpose',
  feeds: { a: x234() },
  build: (_, x) => op.transpose(op.reshape(x.a, [4, -1]), [1, 0]),
});
add({
  name: 'slice with steps and negatives',
  feeds: { a: randn([5, 6, 7]) },
  build: (_, x) => op.slice(x.a, [1, -1, 0], [4, 0, 100], [0, 1, 2], [2, -2, 3]),
});
add({ name: 'concat', feeds: { a: x234(), b: randn([2, 5, 4]) }, build: (_, x) => op.concat([x.a, x.b], 1) });
add({ name: 'split', feeds: { a: randn([2, 9]) }, build: (_, x) => op.split(x.a, [2, 3, 4], 1) });
add({ name: 'pad constant', feeds: { a: x234() }, build: (_, x) => op.pad(x.a, [0, 1, 2, 0, 2, 1], { value: 0.5 }) });
add({
  name: 'pad reflect',
  feeds: { a: x234() },
  build: (_, x) => op.pad(x.a, [0, 1, 2, 0, 2, 1], { mode: 'reflect' }),
});
add({ name: 'expand', feeds: { a: randn([3, 1]) }, build: (_, x) => op.expand(x.a, [2, 3, 4]) });
add({
  name: 'gather negative indices',
  feeds: { a: randn([5, 4]), i: HostTensor.int64([2, 2], [0, -1, 3, 2]) },
  build: (_, x) => op.gather(x.a, x.i, 0),
});
// Reductions and normalisation.
add({ name: 'sum', feeds: { a: x234() }, build: (_, x) => op.sum(x.a, [0, 2]) });
add({ name: 'mean keepdims', feeds: { a: x234() }, build: (_, x) => op.mean(x.a, -1, true) });
add({ name: 'max', feeds: { a: x234() }, build: (_, x) => op.max(x.a, 1) });
add({ name: 'min all', feeds: { a: x234() }, build: (_, x) => op.min(x.a) });
add({ name: 'variance', feeds: { a: randn([3, 50], 2, 300) }, build: (_, x) => op.variance(x.a, 1) });
add({ name: 'variance unbiased', feeds: { a: x234() }, build: (_, x) => op.variance(x.a, [1, 2], true, 1) });
add({ name: 'softmax', feeds: { a: randn([3, 5, 7], 3) }, build: (_, x) => op.softmax(x.a, -1) });
add({ name: 'softmax axis 1', feeds: { a: randn([3, 5, 7], 3) }, build: (_, x) => op.softmax(x.a, 1) });
add({
  name: 'layer norm',
  feeds: { a: randn([2, 5, 16]), g: randn([16]), bias: randn([16]) },
  build: (_, x) => op.layerNorm(x.a, x.g, x.bias, 1e-5),
});
add({
  name: 'group norm 4-D, mean 300',
  feeds: { a: randn([2, 8, 5, 5], 1, 300), g: randn([8]), bias: randn([8]) },
  build: (_, x) => op.groupNorm(x.a, 4, x.g, x.bias, 1e-6),
});
add({
  name: 'group norm 5-D',
  feeds: { a: randn([1, 8, 3, 4, 4]), g: randn([8]), bias: randn([8]) },
  build: (_, x) => op.groupNorm(x.a, 2, x.g, x.bias, 1e-5),
});
add({ name: 'group norm without affine', feeds: { a: randn([2, 6, 7]) }, build: (_, x) => op.groupNorm(x.a, 3) });
add({
  name: 'group norm, weight only, std 100',
  feeds: { a: randn([1, 4, 3, 3], 100), g: randn([4]) },
  build: (_, x) => op.groupNorm(x.a, 2, x.g),
});
{
  // The lowering shifts each group by its first element: an outlier there must not cost precision.
  const a = randn([1, 4, 8, 8]);
  a.data[0] = 60;
  a.data[128] = -45;
  add({
    name: 'group norm, outlier first elements',
    feeds: { a },
    build: (_, x) => op.groupNorm(x.a, 2, undefined, undefined, 1e-6),
  });
}
// Attention: both lowerings.
add({
  name: 'attention (ONNX Attention-23)',
  feeds: { q: randn([2, 6, 16]), k: randn([2, 9, 16]), v: randn([2, 9, 8]) },
  build: (_, x) => op.attention(x.q, x.k, x.v, 2),
});
add({
  name: 'attention long (com.microsoft.MultiHeadAttention)',
  feeds: { q: randn([1, 1100, 8]), k: randn([1, 1100, 8]), v: randn([1, 1100, 8]) },
  build: (_, x) => op.attention(x.q, x.k, x.v, 2),
});
// Resize.
add({ name: 'resize nearest 2x', feeds: { a: randn([1, 2, 3, 5]) }, build: (_, x) => op.resize(x.a, [6, 10]) });
add({
  name: 'resize bilinear align_corners',
  feeds: { a: randn([1, 2, 5, 7]) },
  build: (_, x) => op.resize(x.a, [9, 4], { mode: 'linear', alignCorners: true }),
});
add({
  name: 'resize bilinear half pixel',
  feeds: { a: randn([1, 2, 5, 7]) },
  build: (_, x) => op.resize(x.a, [8, 11], { mode: 'linear' }),
});
add({
  name: 'resize bicubic align_corners',
  feeds: { a: randn([1, 2, 6, 9]) },
  build: (_, x) => op.resize(x.a, [11, 4], { mode: 'cubic', alignCorners: true }),
});
add({
  name: 'cast float → int64 → float',
  feeds: { a: uniform([2, 5], -9, 9) },
  build: (_, x) => op.cast(op.cast(x.a, 'int64'), 'float32'),
});

describe('op lowerings match the float64 interpreter', () => {
  let engine: Engine;
  before(async () => {
    engine = await createTestEngine();
  });
  after(async () => {
    await engine.dispose();
  });

  for (const c of cases) {
    test(c.name, async () => {
      const b = new GraphBuilder(c.name.replace(/\W+/g, '_'));
      const inputs: Record<string, SymTensor> = {};
      for (const [k, t] of Object.entries(c.feeds)) inputs[k] = b.input(k, t.shape, t.dtype);
      const out = c.build(b, inputs);
      const outs = Array.isArray(out) ? out : [out];
      outs.forEach((o, i) => {
        b.output(`out${i}`, o);
      });
      const graph = b.build();
      const got = await engine.run(graph, c.feeds);
      const ref = interpret(graph, c.feeds);
      for (let i = 0; i < outs.length; i++) {
        const e = relError(got[`out${i}`], ref[`out${i}`]);
        assert.ok(e <= (c.tol ?? 1e-5), `${c.name} out${i}: relative error ${e}`);
      }
    });
  }
});

/** VJP rules of MatMul, Linear, Conv and ConvTranspose: finite differences and ORT vs float64 interpreter. */
import { after, before, describe, test } from 'node:test';
import * as op from '../../../src/graph/ops/index.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { randn } from '../../helpers/random.ts';
import { checkCase, type GradCase } from './harness.ts';

const cases: GradCase[] = [];
const mm = (name: string, a: number[], b: number[]) =>
  cases.push({
    name: `matmul ${name} [${a}]@[${b}]`,
    feeds: { a: randn(a), b: randn(b) },
    build: (x) => op.matmul(x.a, x.b),
  });
mm('2-D', [3, 4], [4, 5]);
mm('batched × matrix', [2, 3, 4, 5], [5, 6]);
mm('matrix × batched', [3, 4], [2, 4, 5]);
mm('broadcast batch', [2, 1, 3, 4], [1, 5, 4, 2]);
mm('vector × batched', [4], [2, 4, 3]);
mm('batched × vector', [2, 3, 4], [4]);
mm('vector × matrix', [4], [4, 5]);
mm('vector · vector', [4], [4]);

cases.push({
  name: 'linear with bias, rank 3',
  feeds: { x: randn([2, 3, 5]), w: randn([4, 5]), b: randn([4]) },
  build: (x) => op.linear(x.x, x.w, x.b),
});
cases.push({
  name: 'linear without bias, rank 2',
  feeds: { x: randn([3, 5]), w: randn([4, 5]) },
  build: (x) => op.linear(x.x, x.w),
});
cases.push({
  name: 'linear, rank 1 input',
  feeds: { x: randn([5]), w: randn([4, 5]), b: randn([4]) },
  build: (x) => op.linear(x.x, x.w, x.b),
});
cases.push({
  name: 'linear, frozen weight (dx only)',
  feeds: { x: randn([2, 5]), w: randn([4, 5]), b: randn([4]) },
  wrt: ['x'],
  build: (x) => op.linear(x.x, x.w, x.b),
});

interface ConvSpec {
  name: string;
  x: number[];
  w: number[];
  bias?: boolean;
  opts: op.ConvOptions;
}
const convs: ConvSpec[] = [
  { name: '2-D 3×3 pad 1', x: [2, 4, 6, 5], w: [3, 4, 3, 3], bias: true, opts: { padding: 1 } },
  { name: '2-D 3×3 stride 2 pad 1', x: [1, 3, 7, 8], w: [4, 3, 3, 3], bias: true, opts: { stride: 2, padding: 1 } },
  { name: '2-D stride 2, remainder (output padding 1)', x: [1, 2, 8, 7], w: [3, 2, 3, 3], opts: { stride: 2 } },
  {
    name: '2-D stride 3 × 2, dilation 2',
    x: [1, 2, 11, 9],
    w: [2, 2, 2, 3],
    bias: true,
    opts: { stride: [3, 2], dilation: 2, padding: 1 },
  },
  {
    name: '2-D asymmetric padding (VAE downsample)',
    x: [2, 3, 8, 6],
    w: [3, 3, 3, 3],
    bias: true,
    opts: { stride: 2, padding: [0, 0, 1, 1] },
  },
  { name: '2-D asymmetric padding, stride 1', x: [1, 2, 5, 6], w: [3, 2, 3, 2], opts: { padding: [2, 0, 0, 1] } },
  { name: '2-D dilation 2 pad 2', x: [1, 3, 7, 7], w: [2, 3, 3, 3], opts: { dilation: 2, padding: 2 } },
  { name: '2-D groups 2', x: [2, 4, 5, 5], w: [6, 2, 3, 3], bias: true, opts: { groups: 2, padding: 1 } },
  { name: '2-D depthwise, stride 2', x: [1, 3, 6, 6], w: [3, 1, 3, 3], opts: { groups: 3, stride: 2, padding: 1 } },
  { name: '2-D 1×1', x: [2, 5, 4, 3], w: [3, 5, 1, 1], bias: true, opts: {} },
  { name: '2-D 1×1 with padding (pads > kernel span)', x: [1, 2, 3, 3], w: [2, 2, 1, 1], opts: { padding: 1 } },
  { name: '1-D k3 pad 1', x: [2, 3, 9], w: [4, 3, 3], bias: true, opts: { padding: 1 } },
  {
    name: '1-D stride 2 dilation 2 groups 2',
    x: [1, 4, 12],
    w: [2, 2, 3],
    opts: { stride: 2, dilation: 2, groups: 2, padding: [1, 2] },
  },
  { name: '3-D k311 (temporal)', x: [1, 3, 4, 3, 3], w: [3, 3, 3, 1, 1], bias: true, opts: { padding: [1, 0, 0] } },
  { name: '3-D 3×3×3 stride 2', x: [1, 2, 5, 5, 4], w: [2, 2, 3, 3, 3], bias: true, opts: { stride: 2, padding: 1 } },
];
for (const s of convs) {
  cases.push({
    name: `conv ${s.name}`,
    feeds: { x: randn(s.x), w: randn(s.w), ...(s.bias ? { b: randn([s.w[0]]) } : {}) },
    build: (x) => op.conv(x.x, x.w, x.b, s.opts),
  });
}
cases.push({
  name: 'conv, frozen weight (dx only)',
  feeds: { x: randn([1, 2, 5, 5]), w: randn([3, 2, 3, 3]), b: randn([3]) },
  wrt: ['x'],
  build: (x) => op.conv(x.x, x.w, x.b, { padding: 1 }),
});

const convTs: ConvSpec[] = [
  {
    name: '2-D stride 2 pad 1 output padding 1',
    x: [2, 3, 4, 3],
    w: [3, 2, 3, 3],
    bias: true,
    opts: { stride: 2, padding: 1, outputPadding: 1 },
  },
  { name: '2-D stride 1', x: [1, 2, 4, 4], w: [2, 3, 3, 3], opts: {} },
  {
    name: '2-D groups 2 dilation 2',
    x: [1, 4, 3, 4],
    w: [4, 1, 2, 2],
    bias: true,
    opts: { groups: 2, dilation: 2, stride: 2 },
  },
  { name: '1-D stride 3 asymmetric padding', x: [2, 2, 5], w: [2, 3, 4], opts: { stride: 3, padding: [1, 2] } },
  { name: '3-D stride 2', x: [1, 2, 2, 3, 2], w: [2, 2, 2, 2, 3], bias: true, opts: { stride: 2, padding: [0, 1, 1] } },
];
for (const s of convTs) {
  cases.push({
    name: `convTranspose ${s.name}`,
    feeds: { x: randn(s.x), w: randn(s.w), ...(s.bias ? { b: randn([s.w[1] * (s.opts.groups ?? 1)]) } : {}) },
    build: (x) => op.convTranspose(x.x, x.w, x.b, s.opts),
  });
}

describe('VJP rules: matmul, linear, conv, convTranspose', () => {
  let engine: Engine;
  before(async () => {
    engine = await createTestEngine();
  });
  after(async () => {
    await engine.dispose();
  });
  for (const c of cases) test(c.name, () => checkCase(engine, c));
});

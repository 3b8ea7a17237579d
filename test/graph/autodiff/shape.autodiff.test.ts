/**
 * VJP rules of the data-movement ops (reshape, transpose, slice, concat, split, pad, expand, gather) and of the
 * backward-only ScatterAdd / GatherElements: finite differences and ORT vs float64 interpreter.
 */
import { after, before, describe, test } from 'node:test';
import * as op from '../../../src/graph/ops/index.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { randn } from '../../helpers/random.ts';
import { checkCase, type GradCase } from './harness.ts';

const cases: GradCase[] = [];
const x345 = () => ({ a: randn([3, 4, 5]) });

cases.push({ name: 'reshape', feeds: x345(), build: (x) => op.reshape(x.a, [5, -1, 2]) });
cases.push({ name: 'transpose', feeds: x345(), build: (x) => op.transpose(x.a, [2, 0, 1]) });
for (const [name, starts, ends, axes, steps] of [
  ['step 1, one axis', [1], [3], [1], [1]],
  ['negative start, clamped end', [-3], [100], [2], [1]],
  ['step 2, two axes', [0, 1], [3, 5], [0, 2], [2, 2]],
  ['step 3 with a partial last stride', [1], [5], [2], [3]],
  ['step −1 (reverse)', [-1], [-100], [1], [-1]],
  ['step −2 from inside', [3], [0], [2], [-2]],
  ['mixed steps on all axes', [2, 0, 4], [-100, 4, 0], [0, 1, 2], [-1, 3, -3]],
] as const) {
  cases.push({ name: `slice ${name}`, feeds: x345(), build: (x) => op.slice(x.a, starts, ends, axes, steps) });
}
cases.push({
  name: 'slice to an empty axis',
  feeds: x345(),
  build: (x) => op.add(op.sum(op.slice(x.a, [2], [2], [1])), op.sum(x.a)),
});
cases.push({
  name: 'concat of three',
  feeds: { a: randn([2, 3]), b: randn([2, 1]), c: randn([2, 4]) },
  build: (x) => op.concat([x.a, x.b, x.c], 1),
});
cases.push({
  name: 'concat, one input differentiated',
  feeds: { a: randn([2, 3]), b: randn([1, 3]) },
  wrt: ['b'],
  build: (x) => op.concat([x.a, x.b, x.a], 0),
});
cases.push({
  name: 'split, all parts used',
  feeds: { a: randn([4, 6]) },
  build: (x) => {
    const [p, q, r] = op.split(x.a, [1, 3, 2], 1);
    return op.concat([op.mul(r, 2), op.exp(p), q], 1);
  },
});
cases.push({
  name: 'split, some parts unused',
  feeds: { a: randn([6, 2]) },
  build: (x) => op.sin(op.split(x.a, 3, 0)[1]),
});
for (const [mode, pads] of [
  ['constant', [1, 0, 2, 0, 3, 1]],
  ['constant', [0, -1, 1, 2, 0, -2]],
  ['reflect', [2, 1, 0, 1, 3, 2]],
  ['edge', [2, 0, 3, 1, 2, 1]],
] as const) {
  cases.push({
    name: `pad ${mode} [${pads}]`,
    feeds: x345(),
    build: (x) => op.pad(x.a, pads, { mode, value: mode === 'constant' ? 0.5 : 0 }),
  });
}
cases.push({ name: 'expand [3,1] → [2,3,4]', feeds: { a: randn([3, 1]) }, build: (x) => op.expand(x.a, [2, 3, 4]) });
cases.push({
  name: 'gather axis 0, repeated and negative indices',
  feeds: { a: randn([5, 3]), i: HostTensor.int64([4], [1, -1, 1, 0]) },
  build: (x) => op.gather(x.a, x.i, 0),
});
cases.push({
  name: 'gather axis 1, 2-D indices',
  feeds: { a: randn([2, 4, 3]), i: HostTensor.int64([2, 3], [3, 0, 3, 2, 2, -4]) },
  build: (x) => op.gather(x.a, x.i, 1),
});
cases.push({
  name: 'gather scalar index, last axis',
  feeds: { a: randn([3, 4]), i: HostTensor.int64([], [2]) },
  build: (x) => op.gather(x.a, x.i, -1),
});
cases.push({
  name: 'scatterAdd (backward op), repeated indices',
  feeds: { u: randn([2, 3]), i: HostTensor.int64([2, 3], [0, 3, 0, 1, 1, 2]) },
  build: (x) => op.scatterAdd(x.i, x.u, 1, [2, 4]),
});
cases.push({
  name: 'gatherElements (backward op)',
  feeds: { a: randn([3, 4]), i: HostTensor.int64([2, 4], [0, 2, 1, -1, 2, 2, 0, 1]) },
  build: (x) => op.gatherElements(x.a, x.i, 0),
});

describe('VJP rules: data movement', () => {
  let engine: Engine;
  before(async () => {
    engine = await createTestEngine();
  });
  after(async () => {
    await engine.dispose();
  });
  for (const c of cases) test(c.name, () => checkCase(engine, c));
});

/** Activation recomputation: same gradients; the block's inner activations are no longer read by the backward pass. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gradName, valueAndGrad } from '../../../src/graph/autodiff/index.ts';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import type { Graph } from '../../../src/graph/ir.ts';
import * as op from '../../../src/graph/ops/index.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { randn } from '../../helpers/random.ts';

let engine: Engine;
before(async () => {
  engine = await createTestEngine();
});
after(async () => {
  await engine.dispose();
});

function chain(): Graph {
  const b = new GraphBuilder('chain');
  const x = b.input('x', [8, 16]);
  const h1 = op.matmul(x, b.input('w1', [16, 16]));
  const h3 = b.scope('mid', () => {
    const h2 = op.tanh(op.matmul(h1, b.input('w2', [16, 16])));
    return op.sigmoid(op.mul(h2, h2));
  });
  b.output('loss', op.sum(op.matmul(h3, b.input('w3', [16, 4]))));
  return b.build();
}

/** Values produced by the original (not recomputed) nodes of `scope`, other than `except`, read outside the scope. */
function innerValuesReadOutside(g: Graph, scope: string): number {
  const producedInside = new Set<number>();
  for (const n of g.nodes) if (n.scope === scope) for (const o of n.outputs) producedInside.add(o);
  // The block's result is consumed by later forward nodes and their gradient rules: that boundary stays.
  const boundary = new Set<number>();
  for (const n of g.nodes) {
    if (n.scope === undefined && n.op === 'MatMul')
      for (const v of n.inputs) if (producedInside.has(v)) boundary.add(v);
  }
  let count = 0;
  for (const n of g.nodes) {
    if (n.scope === scope) continue;
    for (const v of n.inputs) if (producedInside.has(v) && !boundary.has(v)) count++;
  }
  return count;
}

test('recomputing a scope gives the same gradients and frees its inner activations from the backward pass', async () => {
  const g = chain();
  const wrt = ['w1', 'w2', 'w3', 'x'];
  const plain = valueAndGrad(g, wrt);
  const recomputed = valueAndGrad(g, wrt, { recompute: ['mid'] });
  assert.ok(innerValuesReadOutside(plain, 'mid') > 0, 'without recomputation the backward reads the activations');
  assert.equal(innerValuesReadOutside(recomputed, 'mid'), 0);
  assert.ok(recomputed.nodes.some((n) => n.scope === 'mid/recompute'));
  const feeds = { x: randn([8, 16]), w1: randn([16, 16], 0.3), w2: randn([16, 16], 0.3), w3: randn([16, 4]) };
  const a = await engine.run(plain, feeds);
  const r = await engine.run(recomputed, feeds);
  for (const k of wrt) {
    assert.deepEqual([...(r[gradName(k)].data as Float32Array)], [...(a[gradName(k)].data as Float32Array)], k);
  }
});

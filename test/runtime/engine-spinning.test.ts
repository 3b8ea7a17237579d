/** EngineOptions.spinning: ORT's threads blocking instead of spinning gives the same results. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../src/graph/builder.ts';
import * as op from '../../src/graph/ops/index.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { randn } from '../helpers/random.ts';

test('an engine whose ORT threads do not spin computes the same bits as the default engine', async () => {
  const b = new GraphBuilder('spin');
  const x = b.input('x', [64, 256]);
  b.output('y', op.softmax(op.matmul(x, b.weight('w', [256, 256])), -1));
  const graph = b.build();
  const w = randn([256, 256], 1 / 16);
  const feeds = { x: randn([64, 256]) };
  const results: Float32Array[] = [];
  for (const spinning of [true, false]) {
    const engine = await Engine.create({ threads: 2, spinning });
    try {
      await engine.setWeights({ w });
      results.push((await engine.run(graph, feeds)).y.data as Float32Array);
    } finally {
      await engine.dispose();
    }
  }
  assert.deepEqual(results[1], results[0]);
  assert.ok(results[0].some((v) => v !== 0));
});

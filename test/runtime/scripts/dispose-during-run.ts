/**
 * Child process of engine-dispose.test.ts: disposes an engine while a ~1 s graph runs, prints what the run's promise
 * settled with, then ends naturally (the worker shuts itself down after the call).
 */
import { GraphBuilder } from '../../../src/graph/builder.ts';
import * as op from '../../../src/graph/ops/index.ts';
import { Engine } from '../../../src/runtime/engine.ts';
import { randn } from '../../helpers/random.ts';

const n = 1024;
const b = new GraphBuilder('slow');
const x = b.input('x', [n, n]);
let y = x;
for (let i = 0; i < 40; i++) y = op.matmul(y, x);
b.output('y', op.sum(y));
const graph = b.build();
const feeds = { x: randn([n, n], 1 / n) };
const engine = await Engine.create({ threads: 1 });
await engine.run(graph, feeds); // session creation
const t0 = performance.now();
const settled = engine.run(graph, feeds).then(
  () => 'resolved',
  (e: Error) => `rejected: ${e.message}`,
);
await new Promise((r) => setTimeout(r, 50));
await engine.dispose();
console.log(
  JSON.stringify({
    settled: await settled,
    afterMs: Math.round(performance.now() - t0),
    runMs: engine.lastTiming.runMs,
  }),
);

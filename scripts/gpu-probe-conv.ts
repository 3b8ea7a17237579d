/** Creates a session on a one-conv model with the given provider, runs it, and checks it against the cpu. */
import { GraphBuilder } from '../src/graph/builder.ts';
import * as op from '../src/graph/ops/index.ts';
import { Engine } from '../src/runtime/engine.ts';
import type { Provider } from '../src/runtime/protocol.ts';
import { Rng } from '../src/tensor/rng.ts';

const provider = (process.argv[2] ?? 'webgpu') as Provider;
const rng = new Rng(0);
const x = rng.randn('x', [1, 64, 64, 64]);
const w = rng.randn('w', [64, 64, 3, 3]);
const b = new GraphBuilder('probe_conv');
b.output('y', op.conv(b.input('x', x.shape), b.weight('w', w.shape), undefined, { padding: 1 }));
const graph = b.build();

async function runOn(p: Provider) {
  const engine = await Engine.create({ provider: p, threads: 2 });
  try {
    await engine.setWeights({ w });
    const t0 = performance.now();
    const out = await engine.run(graph, { x });
    const first = performance.now() - t0;
    const t1 = performance.now();
    await engine.run(graph, { x });
    return { y: out.y.data as Float32Array, first, steady: performance.now() - t1 };
  } finally {
    await engine.dispose();
  }
}

try {
  const gpu = await runOn(provider);
  const cpu = await runOn('cpu');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < cpu.y.length; i++) {
    diff = Math.max(diff, Math.abs(gpu.y[i] - cpu.y[i]));
    scale = Math.max(scale, Math.abs(cpu.y[i]));
  }
  console.log(
    `${provider}: one conv 64→64 3×3 on 64×64 ran; first call ${gpu.first.toFixed(0)} ms, then ${gpu.steady.toFixed(1)} ms; relative difference from cpu ${(diff / scale).toExponential(2)}`,
  );
} catch (e) {
  console.log(`${provider}: ${(e as Error).message}`);
  process.exit(1);
}

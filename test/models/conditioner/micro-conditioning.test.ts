/** The `vector` conditioning of pipeline-tiny: cat(emb(fps_id), emb(motion_bucket_id), emb(cond_aug)). */
import { after, before, test } from 'node:test';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import { microConditioningVector } from '../../../src/models/conditioner/micro-conditioning.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { assertClose } from '../../helpers/compare.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { loadGolden } from '../../helpers/golden.ts';

let engine: Engine;
before(async () => {
  engine = await createTestEngine();
});
after(async () => {
  await engine.dispose();
});

test('pipeline-tiny cond.vector (≤ 1e-5)', async () => {
  const run = await loadGolden('pipeline-tiny/run.safetensors');
  const feeds = {
    fps_id: run.get('batch.fps_id')!,
    motion_bucket_id: run.get('batch.motion_bucket_id')!,
    cond_aug: run.get('batch.cond_aug')!,
  };
  const b = new GraphBuilder('vector');
  const inputs = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, b.input(k, t.shape, t.dtype)]));
  const conds = ['fps_id', 'motion_bucket_id', 'cond_aug'].map((key) => ({ key, outdim: 8 }));
  b.output('vector', microConditioningVector(inputs, conds));
  const out = await engine.run(b.build(), feeds);
  assertClose(out.vector, run.get('cond.vector')!, 1e-5, 'cond.vector');
  assertClose(out.vector, run.get('uncond.vector')!, 1e-5, 'uncond.vector');
});

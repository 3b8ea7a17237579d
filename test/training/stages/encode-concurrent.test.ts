/**
 * The step batcher's encoder (the latent cache's `encode`): calls that arrive while the first one is still loading
 * the encoder's weights wait for them. The latent cache prefetches, so two clips were encoded at once; the second ran
 * the graph on a half-filled weight store ("needs weights missing from the store") and stopped svd-mini's video stage.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Graph } from '../../../src/graph/ir.ts';
import { loadWeightsInto } from '../../../src/models/load-weights.ts';
import { modelFromReferenceConfig } from '../../../src/models/reference/model-config.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { Rng } from '../../../src/tensor/rng.ts';
import { resolveTrainConfig } from '../../../src/training/stages/config.ts';
import { StepBatcher } from '../../../src/training/stages/step-batch.ts';
import { openCheckpoint } from '../../../src/weights/index.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { GOLDEN_DIR } from '../../helpers/golden.ts';

const G = `${GOLDEN_DIR}pipeline-tiny/`;
let engine: Engine;
before(async () => {
  engine = await createTestEngine();
});
after(async () => {
  await engine.dispose();
});

test('concurrent encodes wait for the encoder weights; both give the same moments as one alone', async () => {
  const model = modelFromReferenceConfig(JSON.parse(readFileSync(`${G}config.json`, 'utf8')), 'tiny');
  const config = resolveTrainConfig({ stage: 'video', data: { videos: 'v', frames: 2, width: 32, height: 32 } });
  const source = await openCheckpoint(`${G}checkpoint.safetensors`);
  let prepared = 0;
  try {
    // a slow prepare: the weights arrive one at a time, with a pause before each
    const prepare = async (g: Graph) => {
      prepared++;
      for (const i of g.inputs.filter((x) => x.kind === 'weight')) {
        await new Promise((r) => setTimeout(r, 1));
        await loadWeightsInto(engine, source, [i.name]);
      }
    };
    const batcher = new StepBatcher(engine, model, config, prepare);
    const frames = new Rng(4).randn('frames', [2, 3, 32, 32]);
    const [a, b] = await Promise.all([batcher.encode(frames), batcher.encode(frames)]);
    assert.equal(prepared, 1, 'the encoder is prepared once');
    assert.deepEqual([...a.mean.data], [...b.mean.data]);
    const c = await batcher.encode(frames);
    assert.deepEqual([...c.mean.data], [...a.mean.data]);
  } finally {
    await source.close();
  }
});

/** pipeline-tiny through the library: every tensor of the reference run (≤ 1e-4; conditioning ≤ 1e-5). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { openModelWeights } from '../../src/models/load-weights.ts';
import { modelFromReferenceConfig } from '../../src/models/reference/model-config.ts';
import { imageToVideo } from '../../src/pipeline/image-to-video.ts';
import { defaultParams } from '../../src/pipeline/params.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { loadImageTensor } from '../../src/video/image-io.ts';
import { assertClose } from '../helpers/compare.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { GOLDEN_DIR, loadGolden } from '../helpers/golden.ts';
import { PARITY } from '../helpers/parity-bounds.ts';

let engine: Engine;
before(async () => {
  engine = await createTestEngine();
});
after(async () => {
  await engine.dispose();
});

test('pipeline-tiny: conditioning, σ schedule, every sampler step, latents and decoded frames', async () => {
  const model = modelFromReferenceConfig(
    JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8')),
    'tiny',
  );
  const run = await loadGolden('pipeline-tiny/run.safetensors');
  const noise = await loadGolden('pipeline-tiny/noise.safetensors');
  const weights = await openModelWeights(`${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`, model);
  const params = {
    ...defaultParams(model.sampling),
    frames: 4,
    steps: 4,
    fpsId: 6,
    motionBucketId: 127,
    condAug: 0.02,
    minCfg: 1.0,
    maxCfg: 2.5,
    decodeChunk: 2,
  };
  const intermediates = new Map<string, HostTensor>();
  const result = await imageToVideo(
    engine,
    model,
    weights.source,
    {
      image: await loadImageTensor(`${GOLDEN_DIR}pipeline-tiny/input.png`),
      condNoise: noise.get('cond_noise')!,
      latentNoise: noise.get('latent_noise')!,
    },
    params,
    { intermediates },
  );
  await weights.source.close();
  for (const k of ['crossattn', 'vector', 'concat']) {
    assertClose(intermediates.get(`cond.${k}`)!, run.get(`cond.${k}`)!, PARITY.conditioning, `cond.${k}`);
    assertClose(intermediates.get(`uncond.${k}`)!, run.get(`uncond.${k}`)!, PARITY.conditioning, `uncond.${k}`);
  }
  assertClose(intermediates.get('sigmas')!, run.get('sigmas')!, 1e-5, 'sigmas');
  assertClose(intermediates.get('x_init')!, run.get('x_init')!, 1e-5, 'x_init');
  for (let i = 0; i < 4; i++) {
    for (const k of ['denoised_raw', 'denoised', 'x']) {
      assertClose(intermediates.get(`step.${i}.${k}`)!, run.get(`step.${i}.${k}`)!, PARITY.pipeline, `step.${i}.${k}`);
    }
  }
  assertClose(result.latents, run.get('latent')!, PARITY.pipeline, 'latent');
  assertClose(result.frames, run.get('frames')!, PARITY.pipeline, 'frames');
  assert.deepEqual(result.frames.shape, [4, 3, 64, 64]);
});

/**
 * Batches and execution choices never change a video: a video generated in a batch (several seeds, several images)
 * equals the same video generated alone; the split CFG batch equals the joint one; the per-frame image decoders
 * decode whatever the chunk size. On the tiny golden model.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { declareModelParams } from '../../src/models/declare-params.ts';
import type { SvdModel } from '../../src/models/description.ts';
import { openModelWeights } from '../../src/models/load-weights.ts';
import { modelFromReferenceConfig } from '../../src/models/reference/model-config.ts';
import { type ImageToVideoResult, imageToVideoBatch, type VideoRequest } from '../../src/pipeline/image-to-video.ts';
import { planMemory } from '../../src/pipeline/memory-estimate.ts';
import { defaultParams, type GenerateParams } from '../../src/pipeline/params.ts';
import { StageRunner } from '../../src/pipeline/stage-runner.ts';
import { decodeVideos } from '../../src/pipeline/stages/decoding.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { loadImageTensor } from '../../src/video/image-io.ts';
import type { CheckpointSource } from '../../src/weights/index.ts';
import { randomCheckpoint } from '../../src/weights/random-source.ts';
import { relError } from '../helpers/compare.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const G = `${GOLDEN_DIR}pipeline-tiny/`;
let engine: Engine;
let model: SvdModel;
let weights: CheckpointSource;
let image: HostTensor;
let flipped: HostTensor;

before(async () => {
  engine = await createTestEngine();
  model = modelFromReferenceConfig(JSON.parse(readFileSync(`${G}config.json`, 'utf8')), 'tiny');
  weights = (await openModelWeights(`${G}checkpoint.safetensors`, model)).source;
  image = await loadImageTensor(`${G}input.png`);
  // A second, different image: the first one mirrored left to right.
  const [, c, h, w] = image.shape;
  const src = image.data as Float32Array;
  const data = new Float32Array(src.length);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) data[(ch * h + y) * w + x] = src[(ch * h + y) * w + (w - 1 - x)];
  flipped = { ...image, data } as HostTensor;
});
after(async () => {
  await weights.close();
  await engine.dispose();
});

function params(seed: number, extra: Partial<GenerateParams> = {}): GenerateParams {
  return { ...defaultParams(model.sampling), frames: 4, steps: 3, decodeChunk: 2, seed, ...extra };
}

async function generate(videos: VideoRequest[]): Promise<ImageToVideoResult[]> {
  return (await imageToVideoBatch(engine, model, weights, videos)).videos;
}

function sameVideo(a: ImageToVideoResult, b: ImageToVideoResult, what: string): void {
  assert.deepEqual(a.latents.data, b.latents.data, `${what}: latents`);
  assert.deepEqual(a.frames.data, b.frames.data, `${what}: frames`);
}

describe('batches', () => {
  test('a video is the same alone and in a batch of seeds and images', async () => {
    const batch = await generate([
      { inputs: { image }, params: params(1) },
      { inputs: { image }, params: params(2) },
      { inputs: { image: flipped }, params: params(1) },
    ]);
    const alone = [
      (await generate([{ inputs: { image }, params: params(1) }]))[0],
      (await generate([{ inputs: { image }, params: params(2) }]))[0],
      (await generate([{ inputs: { image: flipped }, params: params(1) }]))[0],
    ];
    batch.forEach((v, i) => {
      sameVideo(v, alone[i], `video ${i}`);
    });
    // …and the videos of the batch differ from one another (different seeds, different images).
    assert.ok(relError(batch[0].latents, batch[1].latents) > 1e-2, 'seeds 1 and 2 give different videos');
    assert.ok(relError(batch[0].latents, batch[2].latents) > 1e-3, 'different images give different videos');
  });

  test('the split CFG batch (two UNet calls) gives the joint batch’s video', async () => {
    const [joint] = await generate([{ inputs: { image }, params: params(5) }]);
    const [split] = await generate([{ inputs: { image }, params: params(5, { splitCfg: true }) }]);
    // Rows are independent in the UNet; only the kernels' blocking for 4 vs 8 rows changes float32 rounding
    // (measured 4.2e-6 after 3 steps; the first Euler step from σ 700 amplifies it).
    const err = relError(split.latents, joint.latents);
    assert.ok(err <= 1e-5, `split vs joint latents: ${err}`);
    assert.ok(relError(split.frames, joint.frames) <= 1e-5, 'split vs joint frames');
  });

  test('Euler with churn draws its noise per seed: reproducible, and different from no churn', async () => {
    const churn = { sChurn: 1.2, sTmin: 0.05, sTmax: 100, sNoise: 1.007 };
    const [a] = await generate([{ inputs: { image }, params: params(7, churn) }]);
    const [b] = await generate([{ inputs: { image }, params: params(7, churn) }]);
    const [plain] = await generate([{ inputs: { image }, params: params(7) }]);
    sameVideo(a, b, 'churn twice');
    assert.ok(relError(a.latents, plain.latents) > 1e-4, 'churn changes the trajectory');
  });
});

describe('per-frame image decoders', () => {
  for (const kind of ['autoencoder-kl', 'decoder'] as const) {
    test(`${kind}: decodes a tiny config, the same whatever the chunk size`, async () => {
      const dd = model.embedders.find((e) => e.kind === 'cond-frames-encoder');
      assert.ok(dd && dd.kind === 'cond-frames-encoder');
      const ddconfig = dd.autoencoder.ddconfig;
      const variant: SvdModel = {
        ...model,
        firstStage:
          kind === 'autoencoder-kl'
            ? { kind: 'autoencoder-kl', kl: dd.autoencoder }
            : { kind: 'autoencoding-engine', decoder: ddconfig, videoDecoder: false },
      };
      const tree = declareModelParams(variant);
      const random = randomCheckpoint(tree, 3);
      const runner = new StageRunner(engine, random, planMemory(variant, 4, 64, 64, 2, false));
      const latent = new Rng(9).randn('z', [4, 4, 8, 8]);
      const [byTwo] = await decodeVideos(runner, variant, [latent], [2]);
      const [byOne] = await decodeVideos(runner, variant, [latent], [1]);
      const [whole] = await decodeVideos(runner, variant, [latent], [4]);
      assert.deepEqual(byTwo.shape, [4, 3, 64, 64]);
      assert.ok(relError(byOne, byTwo) <= 1e-6 && relError(whole, byTwo) <= 1e-6, 'chunking changes nothing');
      const f = byTwo.data as Float32Array;
      assert.ok(
        f.every((v) => v >= 0 && v <= 1),
        'frames in [0, 1]',
      );
      assert.ok(Math.max(...f) - Math.min(...f) > 0.01, 'not a constant image');
      assert.equal(engine.hasWeight(`first_stage_model.decoder.conv_in.weight`), false, 'weights released');
    });
  }
});

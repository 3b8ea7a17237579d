/**
 * pipeline-tiny conditioning from the real input PNG: c = {crossattn, vector, concat} and uc (zeros for crossattn and
 * concat, same vector) against `run.safetensors` (≤ 1e-5, conditioning embeddings rule).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { augmentCondFrames, imageToVideoBatch } from '../../src/conditioning/image-to-video-batch.ts';
import { unconditional } from '../../src/conditioning/unconditional.ts';
import { GraphBuilder, type SymTensor } from '../../src/graph/builder.ts';
import { clipVisionConfigFromArch } from '../../src/models/clip/config.ts';
import { buildConditioner } from '../../src/models/conditioner/conditioner.ts';
import { embeddersFromSgm } from '../../src/models/reference/conditioner.ts';
import { Params } from '../../src/nn/params.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { loadImageTensor } from '../../src/video/image-io.ts';
import { SafetensorsFile } from '../../src/weights/index.ts';
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

test('pipeline-tiny conditioner outputs c and uc from input.png', async () => {
  const config = JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8'));
  const embedders = embeddersFromSgm(config.engine_config.params.conditioner_config);
  assert.deepEqual(
    embedders.map((e) => `${e.index}:${e.kind}:${e.inputKey}`),
    [
      '0:clip-image:cond_frames_without_noise',
      '1:timestep:fps_id',
      '2:timestep:motion_bucket_id',
      '3:cond-frames-encoder:cond_frames',
      '4:timestep:cond_aug',
    ],
  );
  const clip = clipVisionConfigFromArch(config.clip_arch);
  const run = await loadGolden('pipeline-tiny/run.safetensors');
  const noise = await loadGolden('pipeline-tiny/noise.safetensors');

  const image = await loadImageTensor(`${GOLDEN_DIR}pipeline-tiny/input.png`);
  assertClose(image, run.get('input.image')!, 0, 'input.image');
  // cond_frames = image + cond_aug · noise (float32, as torch)
  const condFrames = augmentCondFrames(image, noise.get('cond_noise')!, 0.02);
  assertClose(condFrames, run.get('cond_frames')!, 0, 'cond_frames');

  const feeds = imageToVideoBatch(embedders, image, noise.get('cond_noise')!, {
    frames: 4,
    fpsId: 6,
    motionBucketId: 127,
    condAug: 0.02,
  });
  for (const k of ['fps_id', 'motion_bucket_id', 'cond_aug']) {
    const ref = run.get(`batch.${k}`)!;
    assert.equal(feeds[k].dtype, ref.dtype, k);
    assert.deepEqual(Array.from(feeds[k].data, Number), Array.from(ref.data, Number), k);
  }
  const b = new GraphBuilder('conditioner');
  const inputs: Record<string, SymTensor> = {};
  for (const [k, t] of Object.entries(feeds)) inputs[k] = b.input(k, t.shape, t.dtype);
  const p = new Params(b);
  const out = buildConditioner(p, embedders, clip, inputs);
  for (const [k, v] of Object.entries(out)) b.output(k, v as SymTensor);
  const graph = b.build();

  // Strict: the declared conditioner parameters are exactly the checkpoint's conditioner keys minus the open_clip
  // text-tower leftovers, which the reference ignores.
  const file = await SafetensorsFile.open(`${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`);
  try {
    const ckpt = file.names().filter((k) => k.startsWith('conditioner.'));
    const textLeftovers = ckpt.filter(
      (k) => k.startsWith('conditioner.embedders.0.open_clip.model.') && !k.includes('.visual.'),
    );
    assert.ok(textLeftovers.length > 0);
    assert.deepEqual([...p.tree.shapes.keys()].sort(), ckpt.filter((k) => !textLeftovers.includes(k)).sort());
    const weights: Record<string, HostTensor> = {};
    for (const inp of graph.inputs) if (inp.kind === 'weight') weights[inp.name] = await file.read(inp.name);
    await engine.setWeights(weights);
  } finally {
    await file.close();
  }
  const c = await engine.run(graph, feeds);
  for (const k of ['crossattn', 'vector', 'concat'])
    assertClose(c[k], run.get(`cond.${k}`)!, PARITY.conditioning, `cond.${k}`);
  const uc = unconditional(c);
  for (const k of ['crossattn', 'vector', 'concat'])
    assertClose(uc[k], run.get(`uncond.${k}`)!, PARITY.conditioning, `uncond.${k}`);
});

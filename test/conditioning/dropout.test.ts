/**
 * Conditioning dropout (sgm `GeneralConditioner`, `ucg_rate`): masks drawn per sample with P(keep) = 1 − rate, a
 * pure function of (seed, embedder, sample); the conditioner zeroes exactly the dropped rows of each embedder's
 * output and leaves everything else as it was.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { dropoutMasks, droppingEmbedders } from '../../src/conditioning/dropout.ts';
import { imageToVideoBatch } from '../../src/conditioning/image-to-video-batch.ts';
import { GraphBuilder, type SymTensor } from '../../src/graph/builder.ts';
import { buildConditioner, keepInputName } from '../../src/models/conditioner/conditioner.ts';
import type { EmbedderSpec } from '../../src/models/description.ts';
import { modelFromReferenceConfig } from '../../src/models/reference/model-config.ts';
import { Params } from '../../src/nn/params.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { loadImageTensor } from '../../src/video/image-io.ts';
import { SafetensorsFile } from '../../src/weights/index.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const G = `${GOLDEN_DIR}pipeline-tiny/`;
let engine: Engine;
before(async () => {
  engine = await createTestEngine();
});
after(async () => {
  await engine.dispose();
});

const timestep = (index: number, ucgRate: number): EmbedderSpec => ({
  kind: 'timestep',
  index,
  inputKey: `k${index}`,
  ucgRate,
  outdim: 8,
});

test('masks: P(keep) = 1 − ucg_rate, seeded, independent of how samples are batched', () => {
  const embedders = [timestep(0, 0.3), timestep(1, 0), timestep(2, 1)];
  assert.deepEqual(
    droppingEmbedders(embedders).map((e) => e.index),
    [0, 2],
  );
  const masks = dropoutMasks(embedders, new Rng(11), 20_000);
  assert.deepEqual(Object.keys(masks), ['keep.0', 'keep.2']);
  const kept = (masks['keep.0'].data as Float32Array).reduce((a, v) => a + v, 0) / 20_000;
  assert.ok(Math.abs(kept - 0.7) < 0.015, `kept ${kept}`);
  assert.ok(
    (masks['keep.2'].data as Float32Array).every((v) => v === 0),
    'rate 1 drops everything',
  );
  const whole = dropoutMasks(embedders, new Rng(11), 10)['keep.0'].data;
  const first = dropoutMasks(embedders, new Rng(11), 6)['keep.0'].data;
  const rest = dropoutMasks(embedders, new Rng(11), 4, 6)['keep.0'].data;
  assert.deepEqual([...whole], [...first, ...rest]);
  assert.notDeepEqual([...dropoutMasks(embedders, new Rng(12), 10)['keep.0'].data], [...whole], 'depends on the seed');
  assert.throws(() => dropoutMasks([timestep(0, 1.5)], new Rng(1), 1), /ucg_rate 1\.5/);
});

test('the conditioner zeroes exactly the dropped rows of each dropping embedder', async () => {
  const base = modelFromReferenceConfig(JSON.parse(readFileSync(`${G}config.json`, 'utf8')), 'tiny');
  // Drop the CLIP embedding (crossattn) and fps_id (the first 8 columns of vector); keep the others.
  const embedders = base.embedders.map((e) =>
    e.inputKey === 'cond_frames_without_noise' || e.inputKey === 'fps_id' ? { ...e, ucgRate: 0.5 } : e,
  );
  const dropping = droppingEmbedders(embedders);
  assert.equal(dropping.length, 2);
  const image = await loadImageTensor(`${G}input.png`);
  const T = 4;
  const batch = imageToVideoBatch(embedders, image, new Rng(0).randn('n', image.shape), {
    frames: T,
    fpsId: 6,
    motionBucketId: 127,
    condAug: 0.02,
  });
  const keep: Record<string, HostTensor> = {
    [keepInputName(dropping[0])]: HostTensor.float32([1], [0]), // crossattn [1, 1, D]: dropped
    [keepInputName(dropping[1])]: HostTensor.float32([T], [1, 0, 1, 0]), // fps_id rows 1 and 3 dropped
  };
  const graph = (withDropout: boolean) => {
    const b = new GraphBuilder(withDropout ? 'conditioner_dropout' : 'conditioner');
    const inputs: Record<string, SymTensor> = {};
    const feeds = withDropout ? { ...batch, ...keep } : batch;
    for (const [k, t] of Object.entries(feeds)) inputs[k] = b.input(k, t.shape, t.dtype);
    const out = buildConditioner(new Params(b), embedders, base.clip, inputs, withDropout ? dropping : []);
    for (const [k, v] of Object.entries(out)) if (v) b.output(k, v);
    return { graph: b.build(), feeds };
  };
  const plain = graph(false);
  const dropped = graph(true);
  const file = await SafetensorsFile.open(`${G}checkpoint.safetensors`);
  try {
    for (const inp of dropped.graph.inputs) {
      if (inp.kind === 'weight') await engine.setWeights({ [inp.name]: await file.read(inp.name) });
    }
  } finally {
    await file.close();
  }
  const c = await engine.run(plain.graph, plain.feeds);
  const d = await engine.run(dropped.graph, dropped.feeds);
  assert.ok(
    (d.crossattn.data as Float32Array).every((v) => v === 0),
    'crossattn dropped',
  );
  assert.ok((c.crossattn.data as Float32Array).some((v) => v !== 0));
  assert.deepEqual(d.concat.data, c.concat.data, 'concat kept');
  const width = c.vector.shape[1];
  const cv = c.vector.data as Float32Array;
  const dv = d.vector.data as Float32Array;
  for (let r = 0; r < T; r++) {
    for (let j = 0; j < width; j++) {
      const fpsColumn = j < 8;
      const expected = fpsColumn && r % 2 === 1 ? 0 : cv[r * width + j];
      // (a dropped negative value becomes −0, as torch's multiply by the mask gives)
      assert.ok(dv[r * width + j] === expected, `vector[${r}, ${j}]: ${dv[r * width + j]} ≠ ${expected}`);
    }
  }
});

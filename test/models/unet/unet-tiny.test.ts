/**
 * VideoUNet parity with test/fixtures/golden/unet-tiny (Stability-AI/generative-models @ 059d8e9, a tiny VideoUNet
 * with every SVD flag; weights = the `model.diffusion_model.*` entries of pipeline-tiny/checkpoint.safetensors):
 * `output`, `output_image_only_mixed`, `t_emb`, `emb` and every tensor of intermediates.safetensors, each within the
 * golden rule max|mine − ref| / max|ref| ≤ 1e-4; and the ParamTree equals the checkpoint's UNet keys and shapes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { GraphBuilder, type SymTensor } from '../../../src/graph/builder.ts';
import type { Graph } from '../../../src/graph/ir.ts';
import { videoUNetConfigFromSgm } from '../../../src/models/unet/config.ts';
import { buildVideoUNet } from '../../../src/models/unet/video-unet.ts';
import { Params } from '../../../src/nn/params.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import type { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { formatShape } from '../../../src/tensor/shape.ts';
import { SafetensorsFile } from '../../../src/weights/index.ts';
import { assertClose } from '../../helpers/compare.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { GOLDEN_DIR, loadGolden } from '../../helpers/golden.ts';
import { PARITY } from '../../helpers/parity-bounds.ts';

const TOL = PARITY.unet; // README: UNet parity (golden ceiling 1e-4)
const PREFIX = 'model.diffusion_model';
const manifest = JSON.parse(readFileSync(`${GOLDEN_DIR}unet-tiny/manifest.json`, 'utf8'));
const pipelineConfig = JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8'));
const T: number = manifest.num_video_frames;
/** io.safetensors entries that are intermediates rather than inputs or outputs. */
const IO_INTERMEDIATES = ['t_emb', 'emb'];

describe('unet-tiny parity', () => {
  let engine: Engine;
  let io: Map<string, HostTensor>;
  let inter: Map<string, HostTensor>;
  let weights: Map<string, HostTensor>;
  let graph: Graph;
  let params: Params;

  before(async () => {
    io = await loadGolden('unet-tiny/io.safetensors');
    inter = await loadGolden('unet-tiny/intermediates.safetensors');
    const file = await SafetensorsFile.open(`${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`);
    try {
      weights = new Map();
      for (const name of file.names()) if (name.startsWith(`${PREFIX}.`)) weights.set(name, await file.read(name));
    } finally {
      await file.close();
    }

    const cfg = videoUNetConfigFromSgm(manifest.config);
    const b = new GraphBuilder('unet_tiny');
    const found = new Map<string, SymTensor>();
    params = new Params(b, PREFIX);
    const input = (name: string) => b.input(name, io.get(name)!.shape);
    const out = buildVideoUNet(
      params,
      {
        x: input('x'),
        timesteps: input('timesteps'),
        context: input('context'),
        y: input('y'),
        imageOnlyIndicator: input('image_only_indicator'),
      },
      cfg,
      T,
      { capture: (name, v) => found.set(name, v) },
    );
    b.output('output', out);
    for (const name of [...inter.keys(), ...IO_INTERMEDIATES]) {
      const v = found.get(name);
      assert.ok(v, `the model does not report the intermediate ${name}`);
      b.output(name, v);
    }
    graph = b.build();

    engine = await createTestEngine();
    await engine.setWeights(weights);
  });
  after(async () => {
    await engine?.dispose();
  });

  test('config: manifest config = pipeline-tiny network_config, converted with the reference defaults', () => {
    assert.deepEqual(manifest.config, pipelineConfig.engine_config.params.network_config.params);
    const cfg = videoUNetConfigFromSgm(manifest.config);
    assert.equal(cfg.mergeFactor, 0.5);
    assert.equal(cfg.numHeads, -1);
    assert.deepEqual(cfg.transformerDepth, [1, 1]);
    assert.equal(cfg.transformerDepthMiddle, 1);
    assert.equal(cfg.maxDdpmTembPeriod, 10000);
    assert.equal(cfg.convResample, true);
  });

  test('ParamTree = the checkpoint model.diffusion_model.* keys and shapes (no missing, no extra)', () => {
    const mine = new Map([...params.tree.shapes].map(([k, s]) => [k, formatShape(s)]));
    const ref = new Map([...weights].map(([k, t]) => [k, formatShape(t.shape)]));
    const missing = [...ref.keys()].filter((k) => !mine.has(k));
    const extra = [...mine.keys()].filter((k) => !ref.has(k));
    assert.deepEqual(missing, [], 'checkpoint keys the model does not have');
    assert.deepEqual(extra, [], 'model keys the checkpoint does not have');
    for (const [k, s] of ref) assert.equal(mine.get(k), s, `shape of ${k}`);
    assert.equal(ref.size, 595);
    assert.equal(params.tree.count(), 2046867);
  });

  test('output, t_emb, emb and every intermediate (image_only_indicator = zeros)', async (t) => {
    const feeds = {
      x: io.get('x')!,
      timesteps: io.get('timesteps')!,
      context: io.get('context')!,
      y: io.get('y')!,
      image_only_indicator: io.get('image_only_indicator')!,
    };
    const out = await engine.run(graph, feeds);
    const errors: string[] = [];
    const check = (name: string, ref: HostTensor) => {
      const e = assertClose(out[name], ref, TOL, name);
      errors.push(`${name} ${e.toExponential(2)}`);
    };
    check('output', io.get('output')!);
    for (const name of IO_INTERMEDIATES) check(name, io.get(name)!);
    for (const [name, ref] of inter) check(name, ref);
    t.diagnostic(`relative errors: ${errors.join(', ')}`);
  });

  test('output_image_only_mixed (some frames image-only: α forced to 1)', async (t) => {
    const out = await engine.run(graph, {
      x: io.get('x')!,
      timesteps: io.get('timesteps')!,
      context: io.get('context')!,
      y: io.get('y')!,
      image_only_indicator: io.get('image_only_indicator_mixed')!,
    });
    const e = assertClose(out.output, io.get('output_image_only_mixed')!, TOL, 'output_image_only_mixed');
    t.diagnostic(`output_image_only_mixed ${e.toExponential(2)}`);
  });
});

/**
 * open_clip VisionTransformer (`conditioner.embedders.0.open_clip.model.visual`): the tiny tower of pipeline-tiny
 * (weights from its checkpoint, strict keys) reproduces `cond.crossattn` from `clip.preprocessed` and from the raw
 * image, and the full-size ViT-H-14 parameter tree equals the reference manifest (392 tensors, 632,076,800 params).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import {
  CLIP_VISUAL_PREFIX,
  type ClipVisionConfig,
  clipVisionConfigFromArch,
  clipVisionTransformer,
  frozenOpenClipImagePredictionEmbedder,
  type OpenClipArch,
  VIT_H_14,
} from '../../../src/models/clip/index.ts';
import { Params } from '../../../src/nn/params.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import type { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { formatShape } from '../../../src/tensor/shape.ts';
import { SafetensorsFile } from '../../../src/weights/index.ts';
import { assertClose } from '../../helpers/compare.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { GOLDEN_DIR, loadGolden } from '../../helpers/golden.ts';
import { PARITY } from '../../helpers/parity-bounds.ts';

const TINY_ARCH = (
  JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8')) as { clip_arch: OpenClipArch }
).clip_arch;

function keyShapes(params: Params): Map<string, string> {
  return new Map([...params.tree.shapes].map(([k, s]) => [k, formatShape(s)]));
}

function towerGraph(cfg: ClipVisionConfig, batch: number) {
  const b = new GraphBuilder('clip_visual');
  const p = new Params(b).pp(CLIP_VISUAL_PREFIX);
  b.output('y', clipVisionTransformer(p, b.input('x', [batch, 3, cfg.imageSize, cfg.imageSize]), cfg));
  return { graph: b.build(), params: p };
}

describe('OpenCLIP image tower', () => {
  let engine: Engine;
  let run: Map<string, HostTensor>;
  let checkpointVisual: Map<string, HostTensor>;
  const cfg = clipVisionConfigFromArch(TINY_ARCH);

  before(async () => {
    engine = await createTestEngine();
    run = await loadGolden('pipeline-tiny/run.safetensors');
    const file = await SafetensorsFile.open(`${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`);
    try {
      checkpointVisual = new Map();
      for (const name of file.names()) {
        if (name.startsWith(`${CLIP_VISUAL_PREFIX}.`)) checkpointVisual.set(name, await file.read(name));
      }
    } finally {
      await file.close();
    }
    await engine.setWeights(Object.fromEntries(checkpointVisual));
  });
  after(async () => {
    await engine.dispose();
  });

  test('config: the tiny clip_arch and ViT-H-14', () => {
    assert.deepEqual(cfg, {
      imageSize: 224,
      patchSize: 14,
      width: 32,
      layers: 2,
      heads: 2,
      mlpRatio: 4,
      outputDim: 32,
      layerNormEps: 1e-5,
    });
    // The reference's clip_arch spelling of ViT-H-14 (heads given).
    const vitH14Arch = {
      name: 'ViT-H-14',
      embed_dim: 1024,
      vision: { image_size: 224, patch_size: 14, width: 1280, layers: 32, heads: 16, mlp_ratio: 4 },
    };
    assert.deepEqual(clipVisionConfigFromArch(vitH14Arch), VIT_H_14);
    // open_clip's own model-config spelling (ViT-H-14.json: vision_cfg with head_width 80).
    const openClipJson = {
      embed_dim: 1024,
      vision_cfg: { image_size: 224, layers: 32, width: 1280, head_width: 80, patch_size: 14 },
    };
    assert.deepEqual(clipVisionConfigFromArch(openClipJson), VIT_H_14);
  });

  test('strict keys: the tiny tower ParamTree equals the checkpoint visual.* tensors', () => {
    const { params } = towerGraph(cfg, 1);
    const mine = keyShapes(params);
    const ref = new Map([...checkpointVisual].map(([k, t]) => [k, formatShape(t.shape)]));
    assert.deepEqual(new Map([...mine].sort()), new Map([...ref].sort()));
  });

  test('tiny tower on clip.preprocessed reproduces cond.crossattn', async () => {
    const { graph } = towerGraph(cfg, 1);
    const out = await engine.run(graph, { x: run.get('clip.preprocessed')! });
    const ref = run.get('cond.crossattn')!; // [1, 1, D]
    const e = assertClose(out.y.reshape(ref.shape), ref, PARITY.clipTower, 'cond.crossattn (tower)');
    console.log(`  cond.crossattn from clip.preprocessed: relative error ${e.toExponential(3)}`);
  });

  test('image → preprocess → tower (FrozenOpenCLIPImagePredictionEmbedder) reproduces cond.crossattn', async () => {
    const image = run.get('input.image')!;
    const b = new GraphBuilder('clip_embedder');
    const p = new Params(b).pp('conditioner').pp('embedders').pp(0);
    b.output('y', frozenOpenClipImagePredictionEmbedder(p, b.input('image', image.shape), cfg));
    const out = await engine.run(b.build(), { image });
    const e = assertClose(out.y, run.get('cond.crossattn')!, PARITY.clipTower, 'cond.crossattn (image)');
    console.log(`  cond.crossattn from input.image: relative error ${e.toExponential(3)}`);
  });

  test('ViT-H-14 (shape only) equals manifests/clip_visual_keys_svd.tsv', () => {
    const tsv = readFileSync(`${GOLDEN_DIR}manifests/clip_visual_keys_svd.tsv`, 'utf8');
    const ref = new Map<string, string>();
    for (const line of tsv.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const [key, shape] = line.split('\t');
      ref.set(key, `[${shape.replace(/[()\s]/g, '').replace(/,$/, '')}]`);
    }
    const { params } = towerGraph(VIT_H_14, 1);
    const mine = new Map([...keyShapes(params)].map(([k, s]) => [k, s.replace(/\s/g, '')]));
    assert.equal(ref.size, 392);
    assert.deepEqual(new Map([...mine].sort()), new Map([...ref].sort()));
    assert.equal(params.tree.count(), 632_076_800);
  });
});

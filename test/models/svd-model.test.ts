/** Whole-model descriptions: presets and JSON configs declare exactly the released / golden checkpoint keys. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PRESET_NAMES, PRESETS } from '../../src/models/presets.ts';
import { declareModelParams, modelSpecFromJson, svdModelFromSpec } from '../../src/models/svd-model.ts';
import { formatShape } from '../../src/tensor/shape.ts';
import { SafetensorsFile } from '../../src/weights/index.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';
import { readKeyTable } from '../helpers/manifest.ts';

function sameKeys(declared: ReadonlyMap<string, readonly number[]>, expected: ReadonlyMap<string, readonly number[]>) {
  const missing = [...expected.keys()].filter((k) => !declared.has(k));
  const extra = [...declared.keys()].filter((k) => !expected.has(k));
  const wrong = [...expected.keys()].filter(
    (k) => declared.has(k) && formatShape(declared.get(k)!) !== formatShape(expected.get(k)!),
  );
  assert.deepEqual(
    { missing: missing.slice(0, 5), extra: extra.slice(0, 5), wrong: wrong.slice(0, 5) },
    { missing: [], extra: [], wrong: [] },
  );
}

for (const name of ['svd', 'svd-xt', 'svd-xt-1.1']) {
  test(`${name}: the shape-only build consumes exactly the released checkpoint's inference keys and shapes`, () => {
    const tree = declareModelParams(svdModelFromSpec(PRESETS[name]));
    const expected = new Map<string, number[]>();
    for (const table of [
      'unet_keys_svd.tsv',
      'vae_keys_svd.tsv',
      'embedder3_keys_svd.tsv',
      'clip_visual_keys_svd.tsv',
    ]) {
      for (const [k, s] of readKeyTable(table)) expected.set(k, s);
    }
    sameKeys(tree.shapes, expected);
    assert.equal(tree.count('model.diffusion_model.'), 1_524_623_082);
    assert.equal(tree.count(), 2_338_096_520);
  });
}

test('every preset builds and reports its parameter count', () => {
  const counts: Record<string, number> = {};
  for (const name of PRESET_NAMES) counts[name] = declareModelParams(svdModelFromSpec(PRESETS[name])).count();
  // image-decoder variants: AutoencoderKL (encoder + quant convs + plain decoder) instead of the temporal decoder.
  assert.equal(counts['svd-image-decoder'], counts['svd-xt-image-decoder']);
  assert.ok(counts['svd-image-decoder'] < counts.svd);
  // sv3d: no first-stage encoder; adm 256 (u) or 1280 (p).
  assert.ok(counts['sv3d-u'] < counts['sv3d-p']);
  for (const [name, n] of Object.entries(counts)) assert.ok(n > 2e9, `${name}: ${n}`);
});

test('pipeline-tiny: the JSON config declares exactly the checkpoint keys except the text-tower leftovers', async () => {
  const json = JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8'));
  const model = svdModelFromSpec(modelSpecFromJson(json, 'pipeline-tiny'));
  assert.equal(model.sampling.maxCfg, 2.5);
  const tree = declareModelParams(model);
  const file = await SafetensorsFile.open(`${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`);
  try {
    const expected = new Map<string, readonly number[]>();
    for (const k of file.names()) {
      const text = k.startsWith('conditioner.embedders.0.open_clip.model.') && !k.includes('.visual.');
      if (!text) expected.set(k, file.info(k).shape);
    }
    sameKeys(tree.shapes, expected);
  } finally {
    await file.close();
  }
});

test('unsupported configs fail with a clear message', () => {
  const bad = structuredClone(PRESETS.svd);
  bad.engineConfig.params.denoiser_config.params.scaling_config.target = 'sgm.EpsScaling';
  assert.throws(() => svdModelFromSpec(bad), /denoiser scaling sgm\.EpsScaling is not supported/);
  assert.throws(() => modelSpecFromJson({ engine_config: {} }), /needs "engine_config" and "clip_arch"/);
});

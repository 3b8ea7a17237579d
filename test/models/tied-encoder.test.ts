/**
 * A checkpoint pruned for generation (no `first_stage_model.encoder`, as the shipped svd-mini file) reads the
 * first-stage encoder through the conditioning autoencoder's twin tensors (src/models/tied-encoder.ts); a full
 * checkpoint is read as it is.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { declareModelParams } from '../../src/models/declare-params.ts';
import { condEncoderPrefix } from '../../src/models/description.ts';
import { openModelWeights } from '../../src/models/load-weights.ts';
import { loadModelConfig } from '../../src/models/reference/model-config.ts';
import { tiedEncoderKeys } from '../../src/models/tied-encoder.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/weights/index.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const CKPT = `${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`;
const tinyModel = () => loadModelConfig(`${GOLDEN_DIR}pipeline-tiny/config.json`);
const KEY = 'first_stage_model.encoder.conv_in.weight';

test('without the first-stage encoder, its keys read the conditioner encoder’s tensors', async () => {
  const model = tinyModel();
  const twin = `${condEncoderPrefix(model)}.encoder.conv_in.weight`;
  const dir = mkdtempSync(join(tmpdir(), 'svd-tied-'));
  try {
    const file = await SafetensorsFile.open(CKPT);
    const all = await file.readAll();
    await file.close();
    const pruned = new Map([...all].filter(([k]) => !k.startsWith('first_stage_model.encoder.')));
    assert.ok(pruned.size < all.size);
    await writeSafetensors(join(dir, 'pruned.safetensors'), pruned, { format: 'pt' });

    const full = await openModelWeights(CKPT, model);
    assert.equal(full.tiedEncoder, false);
    await full.source.close();

    const w = await openModelWeights(join(dir, 'pruned.safetensors'), model);
    try {
      assert.equal(w.tiedEncoder, true);
      assert.equal(w.source.entries().has(KEY), false, 'entries stay what the file holds');
      const read = await w.source.read(KEY);
      assert.deepEqual([...read.data], [...(await w.source.read(twin)).data]);
      assert.deepEqual(read.shape, all.get(KEY)!.shape);
    } finally {
      await w.source.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no tie when the conditioner’s encoder has another shape or the first stage’s is there', () => {
  const model = tinyModel();
  const tree = declareModelParams(model);
  const entries = new Map([...tree.shapes].map(([k, shape]) => [k, { shape }]));
  assert.equal(tiedEncoderKeys(entries, model, tree), undefined, 'the first-stage encoder is present');
  const pruned = new Map([...entries].filter(([k]) => !k.startsWith('first_stage_model.encoder.')));
  const tied = tiedEncoderKeys(pruned, model, tree);
  assert.ok(tied);
  assert.equal(tied.get(KEY), `${condEncoderPrefix(model)}.encoder.conv_in.weight`);
  const twin = tied.get(KEY)!;
  pruned.set(twin, { shape: [1, 2, 3] });
  assert.equal(tiedEncoderKeys(pruned, model, tree), undefined, 'a twin of another shape');
});

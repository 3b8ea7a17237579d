/** Strict loading of the tiny checkpoint from the sgm file and from a diffusers folder converted from it. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openModelWeights } from '../../src/models/load-weights.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { modelSpecFromJson, svdModelFromSpec } from '../../src/models/svd-model.ts';
import { convertCheckpoint, openCheckpoint } from '../../src/weights/index.ts';
import { checkpointConfigFromReference } from '../../src/weights/layouts/reference-config.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const CKPT = `${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`;
const configJson = () => JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8'));

test('the tiny model loads strictly from the sgm file and from a diffusers folder, with the same values', async () => {
  const model = svdModelFromSpec(modelSpecFromJson(configJson(), 'tiny'));
  const notices: string[] = [];
  const sgm = await openModelWeights(CKPT, model, { onNotice: (l) => notices.push(l) });
  assert.ok(
    notices.some((l) => /ignoring 6 checkpoint keys: open_clip text-tower leftovers/.test(l)),
    notices.join('\n'),
  );

  const dir = mkdtempSync(join(tmpdir(), 'svd-diffusers-'));
  try {
    // (the sgm source stays open for the comparison below and is closed in `finally`)
    const src = await openCheckpoint(CKPT);
    await convertCheckpoint(src, join(dir, 'tiny'), {
      to: 'diffusers',
      config: checkpointConfigFromReference(configJson(), 'tiny'),
    });
    await src.close();
    const diff = await openModelWeights(join(dir, 'tiny'), model);
    for (const key of [
      'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight',
      'first_stage_model.decoder.conv_out.time_mix_conv.weight',
      'conditioner.embedders.0.open_clip.model.visual.proj',
    ]) {
      const a = await sgm.source.read(key);
      const b = await diff.source.read(key);
      assert.deepEqual(b.shape, a.shape, key);
      assert.deepEqual(Buffer.from((b.data as Float32Array).buffer), Buffer.from((a.data as Float32Array).buffer), key);
    }
    await diff.source.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await sgm.source.close();
  }
});

test('a checkpoint of another model fails with the keys listed', async () => {
  const svd = svdModelFromSpec(PRESETS.svd);
  await assert.rejects(openModelWeights(CKPT, svd), (e: Error) => {
    assert.equal(e.name, 'CheckpointError');
    assert.match(e.message, /missing|wrong shape|unexpected/i);
    assert.match(e.message, /model\.diffusion_model\./);
    return true;
  });
});

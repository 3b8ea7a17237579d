/**
 * Strict loading follows the model description: the tiny checkpoint from the sgm file and from a diffusers folder
 * converted from it; the multi-view checkpoints (conditioning encoder at conditioner.embedders.1) with their configs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { convertCheckpoint } from '../../src/models/checkpoint-convert.ts';
import { CheckpointMismatchError } from '../../src/models/checkpoint-mismatch.ts';
import { loadWeightsInto, openModelWeights } from '../../src/models/load-weights.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { loadModelConfig } from '../../src/models/reference/model-config.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { CheckpointError, openCheckpoint, SafetensorsFile, writeSafetensors } from '../../src/weights/index.ts';
import { createTestEngine } from '../helpers/engine.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const CKPT = `${GOLDEN_DIR}pipeline-tiny/checkpoint.safetensors`;
const tinyModel = () => loadModelConfig(`${GOLDEN_DIR}pipeline-tiny/config.json`);

test('the tiny model loads strictly from the sgm file and from a diffusers folder, with the same values', async () => {
  const model = tinyModel();
  const notices: string[] = [];
  const sgm = await openModelWeights(CKPT, model, { onNotice: (l) => notices.push(l) });
  assert.deepEqual(
    notices.map((l) => l.split(': ')[0]),
    ['ignoring 6 checkpoint keys under conditioner.embedders.0.open_clip.model'],
  );

  const dir = mkdtempSync(join(tmpdir(), 'svd-diffusers-'));
  try {
    // (the sgm source stays open for the comparison below and is closed in `finally`)
    const src = await openCheckpoint(CKPT);
    await convertCheckpoint(src, join(dir, 'tiny'), { to: 'diffusers', model });
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

test('a checkpoint of another model fails saying what it looks like, the keys in its details', async () => {
  await assert.rejects(openModelWeights(CKPT, PRESETS.svd), (e: unknown) => {
    assert.ok(e instanceof CheckpointMismatchError && e instanceof CheckpointError);
    assert.match(
      e.message,
      /: does not fit the preset svd \(\d+ keys missing, \d+ unexpected, \d+ of another shape\): /,
    );
    assert.match(e.message, /this looks like a custom-size image-to-video model: pass its model config with --config$/);
    assert.ok(e.details.some((l) => l.startsWith('  model.diffusion_model.')));
    return true;
  });
});

describe('strict loading follows the config for sv3d (conditioning encoder at conditioner.embedders.1)', () => {
  for (const set of ['pipeline-sv3d-tiny', 'pipeline-sv3d-u-tiny']) {
    const ckpt = `${GOLDEN_DIR}${set}/checkpoint.safetensors`;
    const model = () => loadModelConfig(`${GOLDEN_DIR}${set}/config.json`);

    test(`${set}: loads with its config.json; only the text leftovers are ignored`, async () => {
      const notices: string[] = [];
      const w = await openModelWeights(ckpt, model(), { onNotice: (l) => notices.push(l) });
      try {
        assert.equal(w.source.entries().size - 6, w.tree.shapes.size);
        assert.ok(w.tree.shapes.has('conditioner.embedders.1.encoder.quant_conv.weight'));
        assert.deepEqual(
          notices.map((l) => l.split(': ')[0]),
          ['ignoring 6 checkpoint keys under conditioner.embedders.0.open_clip.model'],
        );
      } finally {
        await w.source.close();
      }
    });

    test(`${set}: without the unused conditioning decoder, the notice names conditioner.embedders.1.encoder`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'svd-sv3d-'));
      try {
        // A pruned checkpoint: the keys inference never reads (the conditioning autoencoder's decoder and
        // post_quant_conv) left out, as a loader building only what inference uses would have them.
        const file = await SafetensorsFile.open(ckpt);
        const kept: Record<string, HostTensor> = {};
        for (const [k, t] of await file.readAll()) {
          if (!/^conditioner\.embedders\.1\.encoder\.(decoder|post_quant_conv)\./.test(k)) kept[k] = t;
        }
        await file.close();
        const pruned = join(dir, 'pruned.safetensors');
        await writeSafetensors(pruned, kept);
        const notices: string[] = [];
        const w = await openModelWeights(pruned, model(), { onNotice: (l) => notices.push(l) });
        await w.source.close();
        assert.deepEqual(
          notices.map((l) => l.split(' (')[0]),
          [
            'ignoring 6 checkpoint keys under conditioner.embedders.0.open_clip.model: open_clip text-tower leftovers',
            'ignoring 104 checkpoint keys under conditioner.embedders.1.encoder: conditioning autoencoder decoder and post_quant_conv',
          ],
        );
        assert.ok(!notices.some((l) => l.includes('conditioner.embedders.3')));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('the same model with the conditioning encoder placed at embedder 3 (svd order) does not fit', async () => {
    const sv3d = loadModelConfig(`${GOLDEN_DIR}pipeline-sv3d-u-tiny/config.json`);
    const svdOrder = { ...sv3d, embedders: sv3d.embedders.map((e) => (e.index === 1 ? { ...e, index: 3 } : e)) };
    await assert.rejects(
      openModelWeights(`${GOLDEN_DIR}pipeline-sv3d-u-tiny/checkpoint.safetensors`, svdOrder),
      (e: unknown) => {
        assert.ok(e instanceof CheckpointError);
        assert.equal(e.missing.length, 70 + 2); // encoder + quant_conv (the decoder and post_quant_conv are ignored)
        assert.ok(e.missing.every((k) => k.startsWith('conditioner.embedders.3.encoder.')));
        assert.equal(e.unexpected.length, 70 + 102 + 2 + 2); // every conditioner.embedders.1.encoder key
        assert.ok(e.unexpected.every((k) => k.startsWith('conditioner.embedders.1.encoder.')));
        assert.deepEqual(e.wrongShape, []);
        return true;
      },
    );
  });
});

test('concurrent loads of overlapping keys read and send each key once, and a detached buffer is refused', async () => {
  const engine = await createTestEngine();
  const src = await openCheckpoint(CKPT);
  const reads = new Map<string, number>();
  const counting = {
    ...src,
    read: async (k: string) => {
      reads.set(k, (reads.get(k) ?? 0) + 1);
      return src.read(k);
    },
  };
  try {
    const keys = [...src.entries().keys()].filter((k) => k.startsWith('first_stage_model.encoder.')).slice(0, 12);
    // two loaders at once (a training step's graphs and the latent cache's encoder): before, both sent a key, and a
    // source that hands out one tensor (fresh weights) had its buffer sent twice, the second time detached: no reply
    await Promise.all([loadWeightsInto(engine, counting, keys), loadWeightsInto(engine, counting, keys.slice(3))]);
    assert.ok(keys.every((k) => engine.hasWeight(k)));
    assert.deepEqual([...reads.values()], new Array(keys.length).fill(1), 'each key read once');
    const t = await src.read(keys[0]);
    await engine.setWeights({ probe: t }, { transfer: true });
    await assert.rejects(engine.setWeights({ probe2: t }, { transfer: true }), /already transferred/);
  } finally {
    await src.close();
    await engine.dispose();
  }
});

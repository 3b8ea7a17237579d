/**
 * Training from a checkpoint that leaves out what generation never reads (the shipped svd-mini file drops the
 * conditioning autoencoder's decoder and post_quant_conv): the run trains and exports, the exported model leaves the
 * same tensors out and holds every other one (but open_clip's text-tower leftovers, which no export carries).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { runTraining } from '../../../src/training/run/train-run.ts';
import { SafetensorsFile, writeSafetensors } from '../../../src/weights/index.ts';
import { GOLDEN_DIR } from '../../helpers/golden.ts';
import { panningClips } from '../helpers/panning-clips.ts';
import { tinyConfig } from '../helpers/tiny-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'svd-init-unread-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const G = `${GOLDEN_DIR}pipeline-tiny/`;
const unread = (k: string) => /^conditioner\.embedders\.\d+\.encoder\.(decoder|post_quant_conv)\./.test(k);

async function keys(path: string): Promise<Map<string, HostTensor>> {
  const f = await SafetensorsFile.open(path);
  try {
    return (await f.readAll()) as Map<string, HostTensor>;
  } finally {
    await f.close();
  }
}

test('i2v from a checkpoint without the unread conditioning decoder: trains, exports without it', async () => {
  const full = await keys(`${G}checkpoint.safetensors`);
  const stripped = new Map([...full].filter(([k]) => !unread(k)));
  assert.ok(stripped.size < full.size, 'the tiny checkpoint has a conditioning decoder to leave out');
  const init = join(dir, 'init.safetensors');
  await writeSafetensors(init, stripped, { format: 'pt' });
  const config = tinyConfig('i2v', {
    steps: 1,
    model: { preset: undefined, config: `${G}config.json`, init },
    validation: { every: 100, seeds: [1], steps: 1 },
  });
  const result = await runTraining(config, { run: join(dir, 'run'), samples: panningClips });
  assert.ok(result.exported, 'the run exported a model');
  const out = await keys(result.exported);
  assert.deepEqual([...out.keys()].filter(unread), []);
  // nothing invented, nothing lost but the open_clip text-tower leftovers an export never carries
  assert.deepEqual(
    [...out.keys()].filter((k) => !stripped.has(k)),
    [],
  );
  const lost = [...stripped.keys()].filter((k) => !out.has(k));
  assert.deepEqual(
    lost.filter(
      (k) => !/\.open_clip\.model\.(positional_embedding|text_projection|logit_scale|token_embedding|ln_final)/.test(k),
    ),
    [],
  );
});

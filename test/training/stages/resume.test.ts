/**
 * Exact resume of a training run: stopped after a few steps (with the checkpoint an interruption writes) and resumed
 * from its run folder, it ends with the same weights, bit for bit, as the uninterrupted run (same thread count).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runTraining } from '../../../src/training/run/train-run.ts';
import { panningClips } from '../helpers/panning-clips.ts';
import { tinyConfig } from '../helpers/tiny-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'svd-resume-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('stop after 3 of 6 steps, resume: the exported weights equal the uninterrupted run’s bytes', async () => {
  const config = tinyConfig('i2v', { steps: 6, accumulate: 2, ema: 0.9, checkpoint: { every: 2, keep: 2 } });
  const whole = await runTraining(config, { run: join(dir, 'whole'), samples: panningClips });
  const first = await runTraining(config, { run: join(dir, 'parts'), samples: panningClips, stopAfter: 3 });
  assert.equal(first.step, 3);
  assert.equal(first.exported, undefined);
  const resumed = await runTraining(undefined, { run: join(dir, 'parts'), resume: true, samples: panningClips });
  assert.equal(resumed.step, 6);
  assert.equal(resumed.lastLoss, whole.lastLoss);
  assert.ok(readFileSync(resumed.exported!).equals(readFileSync(whole.exported!)), 'same weights, bit for bit');
  // The log of the resumed run has each step once.
  const steps = readFileSync(join(dir, 'parts', 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => typeof r.loss === 'number')
    .map((r) => r.step);
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6]);
});

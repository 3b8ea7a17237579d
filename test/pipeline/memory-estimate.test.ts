/** Memory planning: the CFG split is chosen to fit memory (the same video up to float32 rounding); a too-large decode chunk warns but is kept. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PRESETS } from '../../src/models/presets.ts';
import { modelFromReferenceConfig } from '../../src/models/reference/model-config.ts';
import { planMemory } from '../../src/pipeline/memory-estimate.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const GiB = 2 ** 30;

test('svd-xt at 576×1024 with 25 frames splits the CFG batch on a 24 GiB machine and warns about decoding', () => {
  const plan = planMemory(PRESETS['svd-xt'], 25, 576, 1024, 14, false, 24 * GiB);
  assert.equal(plan.splitCfg, true);
  assert.equal(plan.memoryArena, false);
  assert.match(plan.notes[0], /two UNet calls \(the same video up to float32 rounding\)/);
  assert.ok(plan.notes.some((n) => /--decode-chunk is kept as given/.test(n)));
});

test('the tiny model needs neither', () => {
  const tiny = modelFromReferenceConfig(JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8')));
  const plan = planMemory(tiny, 4, 64, 64, 2, false, 24 * GiB);
  assert.equal(plan.splitCfg, false);
  assert.equal(plan.memoryArena, true);
  assert.deepEqual(plan.notes, []);
});

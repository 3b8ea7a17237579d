/**
 * Memory planning: the CFG split is chosen to fit memory (the same video up to float32 rounding); a too-large decode
 * chunk warns but is kept; the estimates scale with the model's widths (svd's measured figures stay as they were, the
 * tiny model's are near its measured peaks — see src/pipeline/memory-estimate.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PRESETS } from '../../src/models/presets.ts';
import { modelFromReferenceConfig } from '../../src/models/reference/model-config.ts';
import {
  decoderBytesPerFramePixel,
  planMemory,
  unetActivationWidth,
  unetBytesPerRowPixel,
} from '../../src/pipeline/memory-estimate.ts';
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

test("the estimates scale with the model: svd's measured figures as they were, the tiny model's near its peaks", () => {
  const svd = PRESETS['svd-xt'];
  assert.equal(unetActivationWidth(svd.unet), 2900);
  assert.equal(unetBytesPerRowPixel(svd.unet), 285_000);
  assert.equal(decoderBytesPerFramePixel(svd), 6000);
  const tiny = modelFromReferenceConfig(JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-tiny/config.json`, 'utf8')));
  assert.equal(unetActivationWidth(tiny.unet), 144);
  // The tiny model at 1024×576, 4 frames: measured about 0.8 GiB for the UNet call of 8 rows (it was predicted to
  // need 19.6 GiB and split), and VmHWM 4.23 GB with 4 frames decoded in one call.
  const plan = planMemory(tiny, 4, 576, 1024, 4, false, 24 * GiB);
  assert.equal(plan.splitCfg, false);
  assert.deepEqual(plan.notes, []);
  assert.ok(plan.unetPeakBytes > 0.7 * GiB && plan.unetPeakBytes < 1.2 * GiB, `${plan.unetPeakBytes / GiB} GiB`);
  assert.ok(plan.decodePeakBytes > 3.5e9 && plan.decodePeakBytes < 5e9, `${plan.decodePeakBytes / 1e9} GB`);
});

/** The animatelcm-svd-xt preset: svd-xt's network with AnimateLCM's sampling defaults (animatelcm_svd/app.py). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { declareModelParams } from '../../src/models/declare-params.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { defaultParams } from '../../src/pipeline/params.ts';

test('animatelcm-svd-xt: the svd-xt network; 4 lcm steps, guidance 1 → 1.2, motion bucket 80, decode chunk 4', () => {
  const lcm = PRESETS['animatelcm-svd-xt'];
  const xt = PRESETS['svd-xt'];
  assert.deepEqual(lcm.unet, xt.unet);
  assert.deepEqual(lcm.firstStage, xt.firstStage);
  assert.equal(declareModelParams(lcm).count(), declareModelParams(xt).count());
  const p = defaultParams(lcm.sampling);
  assert.deepEqual(
    [p.sampler, p.steps, p.frames, p.guider, p.minCfg, p.maxCfg, p.motionBucketId, p.fpsId, p.decodeChunk],
    ['lcm', 4, 25, 'linear', 1, 1.2, 80, 6, 4],
  );
  assert.equal(defaultParams(xt.sampling).sampler, 'euler');
});

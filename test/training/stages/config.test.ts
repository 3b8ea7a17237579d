/** The train config's data fields: the colour jitter defaults to none and is checked. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveTrainConfig } from '../../../src/training/stages/config.ts';

const base = { stage: 'autoencoder', data: { manifest: 'm.jsonl' } };

test('data.colourJitter: 0 unless set; a value in [0, 1) is kept; others are refused naming the field', () => {
  assert.equal(resolveTrainConfig(base).data.colourJitter, 0);
  assert.equal(resolveTrainConfig({ ...base, data: { ...base.data, colourJitter: 0.3 } }).data.colourJitter, 0.3);
  for (const bad of [1, -0.1, '0.2']) {
    assert.throws(
      () => resolveTrainConfig({ ...base, data: { ...base.data, colourJitter: bad } }),
      /data\.colourJitter.*\[0, 1\)/,
    );
  }
});

/** Train config fields of the autoencoder stage: the colour jitter and the encoder's initial log-variance. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshWeights } from '../../../src/models/fresh-weights.ts';
import { SVD_MINI } from '../../../src/models/presets.ts';
import { resolveTrainConfig } from '../../../src/training/stages/config.ts';
import { setLogvarBias } from '../../../src/training/stages/init.ts';

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

test('model.logvarInit: the autoencoder stage from fresh weights only, in [−30, 20]', () => {
  assert.equal(resolveTrainConfig({ ...base, model: { logvarInit: -8 } }).model.logvarInit, -8);
  assert.throws(() => resolveTrainConfig({ ...base, model: { logvarInit: -31 } }), /model\.logvarInit.*\[−30, 20\]/);
  assert.throws(
    () => resolveTrainConfig({ ...base, model: { logvarInit: -8, init: 'w.safetensors' } }),
    /model\.logvarInit.*only from fresh weights/,
  );
  assert.throws(
    () => resolveTrainConfig({ stage: 'image', data: { manifest: 'm.jsonl' }, model: { logvarInit: -8 } }),
    /model\.logvarInit.*only for the autoencoder stage/,
  );
});

test('setLogvarBias: the log-variance half of the encoder conv_out bias, the mean half untouched', () => {
  const weights = freshWeights(SVD_MINI, 0);
  const before = [...weights.get('first_stage_model.encoder.conv_out.bias')!.data];
  setLogvarBias(weights, SVD_MINI, -8);
  const after = [...weights.get('first_stage_model.encoder.conv_out.bias')!.data];
  assert.deepEqual(after.slice(0, 4), before.slice(0, 4));
  assert.deepEqual(after.slice(4), [-8, -8, -8, -8]);
});

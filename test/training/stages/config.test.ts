/**
 * Train config fields of the autoencoder stage: the colour jitter, the encoder's initial log-variance and the latent's
 * width.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { freshWeights } from '../../../src/models/fresh-weights.ts';
import { MINI_LATENT_CHANNELS, SVD_MINI } from '../../../src/models/presets.ts';
import { trainModel } from '../../../src/training/run/train-run.ts';
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
  const z = MINI_LATENT_CHANNELS;
  assert.equal(after.length, 2 * z);
  assert.deepEqual(after.slice(0, z), before.slice(0, z));
  assert.deepEqual(after.slice(z), new Array(z).fill(-8));
});

test('model.latentChannels: the autoencoder stage only, an integer in [1, 64]; the run model gets that width', () => {
  const c = resolveTrainConfig({ ...base, model: { preset: 'svd-mini', latentChannels: 4 } });
  const m = trainModel(c);
  assert.equal(m.unet.outChannels, 4);
  assert.equal(m.unet.inChannels, 8);
  assert.equal(trainModel(resolveTrainConfig({ ...base, model: { preset: 'svd-mini' } })).unet.outChannels, 16);
  for (const bad of [0, 65, 2.5]) {
    assert.throws(
      () => resolveTrainConfig({ ...base, model: { latentChannels: bad } }),
      /model\.latentChannels.*1 to 64/,
    );
  }
  assert.throws(
    () => resolveTrainConfig({ stage: 'image', data: { manifest: 'm.jsonl' }, model: { latentChannels: 4 } }),
    /model\.latentChannels.*only for the autoencoder stage/,
  );
});

test("svd-mini's recipe: every stage config in models/svd-mini/train resolves", () => {
  const dir = 'models/svd-mini/train';
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.includes('autoencoder.json') && files.includes('image.json'), files.join());
  for (const f of files) {
    const c = resolveTrainConfig(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    assert.ok(c.steps > 0, f);
  }
});

test('klWeight: the autoencoder stage only, a number in [0, 1]; unset leaves the LDM default to the loss graph', () => {
  assert.equal(resolveTrainConfig(base).klWeight, undefined);
  assert.equal(resolveTrainConfig({ ...base, klWeight: 0 }).klWeight, 0);
  assert.throws(() => resolveTrainConfig({ ...base, klWeight: -1 }), /klWeight.*\[0, 1\]/);
  assert.throws(
    () => resolveTrainConfig({ stage: 'image', data: { manifest: 'm.jsonl' }, klWeight: 0 }),
    /klWeight.*only for the autoencoder stage/,
  );
});

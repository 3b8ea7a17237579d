/**
 * Train config fields of the autoencoder stage: the colour jitter, the encoder's initial log-variance and the latent's
 * width; the fresh video decoder's identity output mix.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { freshCheckpoint, freshWeights } from '../../../src/models/fresh-weights.ts';
import { MINI_LATENT_CHANNELS, SVD_MINI } from '../../../src/models/presets.ts';
import { planMemory } from '../../../src/pipeline/memory-estimate.ts';
import { StageRunner } from '../../../src/pipeline/stage-runner.ts';
import { decodeVideos } from '../../../src/pipeline/stages/decoding.ts';
import { Engine } from '../../../src/runtime/engine.ts';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { Rng } from '../../../src/tensor/rng.ts';
import { trainModel } from '../../../src/training/run/train-run.ts';
import { resolveTrainConfig } from '../../../src/training/stages/config.ts';
import {
  DECODER_TIME_MIX_CONV,
  initDecoderTimeMixAsIdentity,
  scaleEncoderColourInit,
  setLogvarBias,
} from '../../../src/training/stages/init.ts';

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

test('data.channelShuffle: false unless set; true is kept; anything but a boolean is refused naming the field', () => {
  assert.equal(resolveTrainConfig(base).data.channelShuffle, false);
  assert.equal(resolveTrainConfig({ ...base, data: { ...base.data, channelShuffle: true } }).data.channelShuffle, true);
  assert.throws(
    () => resolveTrainConfig({ ...base, data: { ...base.data, channelShuffle: 'yes' } }),
    /data\.channelShuffle.*true or false/,
  );
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

test('initDecoderTimeMixAsIdentity: a fresh video decoder decodes each frame as if alone (svd-mini, 3 frames)', async () => {
  const model = SVD_MINI;
  let found = false;
  const source = freshCheckpoint(model, 0, (w) => {
    found = initDecoderTimeMixAsIdentity(w);
  });
  assert.ok(found);
  const w = await source.read(`${DECODER_TIME_MIX_CONV}.weight`);
  assert.deepEqual(w.shape, [3, 3, 3, 1, 1]);
  assert.deepEqual([...w.data].slice(0, 9), [0, 1, 0, 0, 0, 0, 0, 0, 0]); // output 0: input 0's centre tap
  const engine = await Engine.create({ provider: 'cpu', threads: 1 });
  try {
    const [t, z, h] = [3, MINI_LATENT_CHANNELS, 4]; // latents [3, 16, 4, 4] → frames [3, 3, 32, 32]
    const latents = new Rng(5).randn('z', [t, z, h, h]);
    const runner = new StageRunner(engine, source, planMemory(model, t, 8 * h, 8 * h, t, false));
    const [together] = await decodeVideos(runner, model, [latents], [t]);
    const plane = z * h * h;
    const frame = 3 * 64 * h * h;
    for (let i = 0; i < t; i++) {
      const one = new HostTensor(
        'float32',
        [1, z, h, h],
        (latents.data as Float32Array).slice(i * plane, (i + 1) * plane),
      );
      const [alone] = await decodeVideos(runner, model, [one], [1]);
      const a = alone.data as Float32Array;
      const b = (together.data as Float32Array).subarray(i * frame, (i + 1) * frame);
      const diff = a.reduce((m, v, j) => Math.max(m, Math.abs(v - b[j])), 0);
      assert.ok(diff < 1e-5, `frame ${i}: decoded with its neighbours differs by ${diff}`);
    }
  } finally {
    await engine.dispose();
  }
});

test('reconstructionLoss: the autoencoder stage only, "l1" (default, unset) or "mse"', () => {
  assert.equal(resolveTrainConfig(base).reconstructionLoss, undefined);
  assert.equal(resolveTrainConfig({ ...base, reconstructionLoss: 'mse' }).reconstructionLoss, 'mse');
  assert.throws(() => resolveTrainConfig({ ...base, reconstructionLoss: 'l2' }), /reconstructionLoss.*"l1" or "mse"/);
  assert.throws(
    () => resolveTrainConfig({ stage: 'image', data: { manifest: 'm.jsonl' }, reconstructionLoss: 'mse' }),
    /reconstructionLoss.*only for the autoencoder stage/,
  );
});

test('model.colourInitGain: the autoencoder stage from fresh weights only; scales conv_in across colours about its mean', () => {
  assert.equal(resolveTrainConfig({ ...base, model: { colourInitGain: 3 } }).model.colourInitGain, 3);
  assert.throws(() => resolveTrainConfig({ ...base, model: { colourInitGain: 0 } }), /colourInitGain.*\(0, 100\]/);
  assert.throws(
    () => resolveTrainConfig({ ...base, model: { colourInitGain: 3, init: 'w.safetensors' } }),
    /colourInitGain.*only from fresh weights/,
  );
  const weights = freshWeights(SVD_MINI, 0);
  const key = 'first_stage_model.encoder.conv_in.weight';
  const before = Float32Array.from(weights.get(key)!.data as Float32Array);
  scaleEncoderColourInit(weights, 3);
  const after = weights.get(key)!.data as Float32Array;
  const [, , kh, kw] = weights.get(key)!.shape;
  const taps = kh * kw;
  for (const [o, t] of [
    [0, 0],
    [5, 4],
    [31, 8],
  ]) {
    const at = [0, 1, 2].map((c) => (o * 3 + c) * taps + t);
    const mean = (a: Float32Array) => (a[at[0]] + a[at[1]] + a[at[2]]) / 3;
    assert.ok(Math.abs(mean(after) - mean(before)) < 1e-6);
    for (const i of at) assert.ok(Math.abs(after[i] - mean(before) - 3 * (before[i] - mean(before))) < 1e-6);
  }
});

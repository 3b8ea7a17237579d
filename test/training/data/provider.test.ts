/**
 * The training run's sample provider over a train config's data: samples in the stage's shape with their labels,
 * skips for broken clips, a JSON position that resumes exactly, and the latent-cache variant (moments plus the first
 * frame), which needs the stage's encoder.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { createTrainDataProvider, trainDataProvider } from '../../../src/training/data/provider.ts';
import type { TrainConfig } from '../../../src/training/stages/config.ts';
import { copyTo, makeTestVideos, type TestVideos } from './test-videos.ts';

let v: TestVideos;
let folder: string;
before(async () => {
  v = await makeTestVideos(['bars', 'gray', 'text']);
  folder = mkdtempSync(join(tmpdir(), 'svd-provider-'));
  copyTo(v.bars, folder, 'a.mp4');
  copyTo(v.gray, folder, 'b.mkv');
  copyTo(v.text, folder, 'c.mp4');
});
after(() => {
  v.remove();
  rmSync(folder, { recursive: true, force: true });
});

/** The fields of a train config the provider reads. */
const config = (latentCache = false) =>
  ({
    seed: 11,
    data: { videos: folder, frames: 3, fps: [5], width: 16, height: 16, latentCache },
  }) as unknown as TrainConfig;

test('samples for the run, skips, and a position that resumes exactly', async () => {
  const provider = await trainDataProvider(config());
  const got: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await provider.next();
    if ('skipped' in r) got.push(`skip ${r.skipped.id} ${r.skipped.reason}`);
    else {
      assert.deepEqual(r.sample.frames.shape, [3, 3, 16, 16]);
      assert.equal(r.sample.fpsId, 4);
      assert.equal(r.sample.motionBucketId, 127);
      got.push(`${r.sample.id} ${(r.sample.frames.data as Float32Array)[100].toFixed(4)}`);
    }
  }
  assert.deepEqual(
    got.map((s) =>
      s
        .split(' ')
        .slice(0, s.startsWith('skip') ? 4 : 1)
        .join(' '),
    ),
    ['b.mkv', 'skip c.mp4 not-a-video', 'a.mp4', 'skip c.mp4 not-a-video'],
    'epoch 0 visits the three files once, epoch 1 starts again',
  );
  const saved = JSON.parse(JSON.stringify(provider.position()));
  assert.deepEqual(saved, { epoch: 1, index: 1 });
  const next = await provider.next();
  const resumed = await (await trainDataProvider(config(), saved)).next();
  assert.deepEqual(resumed, next, 'the resumed provider yields the same next sample');
  await assert.rejects(trainDataProvider(config(), { index: 'x' }), /saved data position must be \{ epoch, index \}/);
});

test('with the latent cache: moments and the first frame; the encoder is required', async () => {
  await assert.rejects(trainDataProvider(config(true)), /data\.latentCache needs the stage encoder/);
  const cacheDir = join(folder, '.cache-test');
  mkdirSync(cacheDir);
  let encoded = 0;
  const factory = createTrainDataProvider({
    cacheDir,
    encode: async (frames) => {
      encoded++;
      const shape = [frames.shape[0], 4, 2, 2];
      return { mean: HostTensor.zeros('float32', shape), logvar: HostTensor.zeros('float32', shape) };
    },
  });
  const provider = await factory(config(true));
  const samples = [];
  for (let i = 0; i < 6; i++) {
    const r = await provider.next();
    if ('sample' in r) samples.push(r.sample);
  }
  assert.equal(samples.length, 4, 'two epochs of the two good clips');
  assert.equal(encoded, 2, 'each clip encoded once');
  for (const s of samples) {
    assert.deepEqual(s.frames.shape, [1, 3, 16, 16]);
    assert.deepEqual(s.moments?.mean.shape, [3, 4, 2, 2]);
  }
  await (provider as unknown as { close(): Promise<void> }).close();
});

test('the default latent cache folder is one per encoder: latents of other encoder weights are not read', async () => {
  let encoded = 0;
  const encode = async (frames: HostTensor<'float32'>) => {
    encoded++;
    const shape = [frames.shape[0], 4, 2, 2];
    return { mean: HostTensor.zeros('float32', shape), logvar: HostTensor.zeros('float32', shape) };
  };
  const factory = createTrainDataProvider();
  const drain = async (encoderId: string) => {
    const provider = await factory(config(true), undefined, { encode, encoderId });
    for (let i = 0; i < 3; i++) await provider.next();
    await (provider as unknown as { close(): Promise<void> }).close();
  };
  try {
    await drain('aaaaaaaaaaaa');
    assert.equal(encoded, 2, 'each clip encoded once by the first encoder');
    assert.ok(existsSync(join(folder, '.svd-latents', '16x16x3-aaaaaaaaaaaa')), 'the folder names the encoder');
    await drain('aaaaaaaaaaaa');
    assert.equal(encoded, 2, 'the same encoder reads its cache');
    await drain('bbbbbbbbbbbb');
    assert.equal(encoded, 4, 'another encoder encodes again');
  } finally {
    rmSync(join(folder, '.svd-latents'), { recursive: true, force: true });
  }
});

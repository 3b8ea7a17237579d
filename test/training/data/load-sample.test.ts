/**
 * The clip loader: exact pixels in [−1, 1] ([T, 3, H, W], x/127.5 − 1) from lossless test videos, the window the
 * choices pick (rate, start, crop, flip), labels (fps_id, motion bucket, caption), lazily probed folder records,
 * images as one frame or repeated, and typed errors for clips that cannot be used.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { SampleChoices } from '../../../src/training/data/choices.ts';
import { loadSample, resolveRecord } from '../../../src/training/data/load-sample.ts';
import type { ClipRecord } from '../../../src/training/data/record.ts';
import { ImageInputError, VideoInputError } from '../../../src/video/errors.ts';
import { makeTestVideos, type TestVideos } from './test-videos.ts';

let v: TestVideos;
before(async () => {
  v = await makeTestVideos(['bars', 'gray', 'ramp', 'audio', 'text', 'empty', 'truncated']);
});
after(() => v.remove());

const centre: SampleChoices = {
  fps: 0.5,
  start: 0,
  cropX: 0.5,
  cropY: 0.5,
  flip: 0.9,
  colour: [0.5, 0.5, 0.5],
  order: 0.5,
};
const unit = (byte: number) => Math.fround(byte / 127.5 - 1);

test('a video clip: [T, 3, H, W] float32, exact levels, the chosen rate and start, labels', async () => {
  // gray.mkv: frame N has level 8N, 10 fps, 3 s. Clip [1, 3] s, 4 frames at 5 fps from the clip start.
  const record: ClipRecord = { id: 'g', path: v.gray, start: 1, end: 3, fps: 10, motionScore: 0.02, caption: 'gray' };
  const s = await loadSample(record, centre, { frames: 4, width: 16, height: 16, rate: { fps: [5] } });
  assert.deepEqual(s.frames.shape, [4, 3, 16, 16]);
  assert.equal(s.frames.dtype, 'float32');
  const plane = 16 * 16;
  for (let t = 0; t < 4; t++) {
    const level = 8 * (10 + 2 * t);
    const frame = s.frames.data.subarray(t * 3 * plane, (t + 1) * 3 * plane);
    assert.ok(
      frame.every((x) => x === unit(level)),
      `frame ${t} is level ${level}`,
    );
  }
  assert.deepEqual([s.fpsId, s.motionBucketId, s.caption, s.image], [4, 51, 'gray', false]);
  assert.deepEqual(s.window, { start: 1, fps: 5, count: 4, crop: { x: 0.5, y: 0.5 }, flip: false });
  assert.equal(s.key, 'f5_t4_s1.000000_c0.5000x0.5000_n');
});

test('crop offset and flip act on the pixels (lossless ramp R = 2x)', async () => {
  const record: ClipRecord = { id: 'r', path: v.ramp, start: 0, end: 1, fps: 10 };
  const opts = { frames: 2, width: 32, height: 32, flipProbability: 0.5 };
  const plain = await loadSample(record, { ...centre, cropX: 0, flip: 0.9 }, opts);
  const flipped = await loadSample(record, { ...centre, cropX: 0, flip: 0.1 }, opts);
  assert.equal(plain.window.flip, false);
  assert.equal(flipped.window.flip, true);
  // red plane, row 0: x → 2x for x in the crop [0, 32); flipped, column x shows 31 − x
  assert.equal(plain.frames.data[0], unit(0));
  assert.equal(plain.frames.data[31], unit(62));
  assert.equal(flipped.frames.data[0], unit(62));
  assert.equal(flipped.frames.data[31], unit(0));
  const right = await loadSample(record, { ...centre, cropX: 1 - 1e-9, flip: 0.9 }, opts);
  assert.equal(right.frames.data[0], unit(2 * 95), 'crop x = floor(96 · u)');
  assert.equal(plain.frames.data[2 * 32 * 32], unit(128), 'blue plane is 128');
});

test('a folder record is probed for its duration and rate when loaded', async () => {
  const record: ClipRecord = { id: 'bars.mp4', path: v.bars, start: 0 };
  const resolved = await resolveRecord(record);
  assert.deepEqual([resolved.end, resolved.fps], [3, 10]);
  const s = await loadSample(record, { ...centre, start: 0.999 }, { frames: 5, width: 24, height: 24 });
  assert.deepEqual(s.frames.shape, [5, 3, 24, 24]);
  assert.equal(s.fpsId, 9, 'native rate 10 fps → fps_id 9');
  assert.ok(Math.abs(s.window.start - (3 - (4 / 10 + 1 / 10)) * 0.999) < 1e-9, `start ${s.window.start}`);
  assert.equal(s.motionBucketId, 127, 'no score: the default bucket');
  const min = Math.min(...s.frames.data);
  const max = Math.max(...s.frames.data);
  assert.ok(min >= -1 && max <= 1 && max - min > 1, `values in [−1, 1] with contrast: ${min}…${max}`);
});

test('an image: one frame or repeated, cover-resized and cropped', async () => {
  const path = join(v.dir, 'photo.png');
  // 40×20, left half black, right half white
  const raw = Buffer.alloc(40 * 20 * 3);
  for (let y = 0; y < 20; y++) for (let x = 20; x < 40; x++) raw.fill(255, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3);
  await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } })
    .png()
    .toFile(path);
  const record: ClipRecord = { id: 'photo.png', path, start: 0, end: 0, image: true, caption: 'half' };
  const left = await loadSample(record, { ...centre, cropX: 0 }, { frames: 3, width: 10, height: 10 });
  assert.deepEqual(left.frames.shape, [1, 3, 10, 10]);
  assert.equal(left.frames.data[0], -1, 'the left crop starts black');
  assert.deepEqual([left.image, left.fpsId, left.caption], [true, 6, 'half']);
  const rep = await loadSample(
    record,
    { ...centre, cropX: 1 - 1e-9 },
    { frames: 3, width: 10, height: 10, imageFrames: 'repeat' },
  );
  assert.deepEqual(rep.frames.shape, [3, 3, 10, 10]);
  assert.equal(rep.frames.data[9], 1, 'the right crop ends white');
  assert.deepEqual(rep.frames.data.subarray(0, 300), rep.frames.data.subarray(600, 900), 'frames repeat');
});

test('clips that cannot be used are typed errors', async () => {
  const opts = { frames: 4, width: 8, height: 8 };
  const reason = async (record: ClipRecord, choices = centre) => {
    try {
      await loadSample(record, choices, opts);
    } catch (e) {
      if (e instanceof VideoInputError) return e.reason;
      if (e instanceof ImageInputError) return `image:${e.problem}`;
      throw e;
    }
    return 'ok';
  };
  assert.equal(await reason({ id: 'a', path: v.audio, start: 0 }), 'no-video');
  assert.equal(await reason({ id: 't', path: v.text, start: 0 }), 'not-a-video');
  assert.equal(await reason({ id: 'e', path: v.empty, start: 0 }), 'empty');
  assert.equal(await reason({ id: 'g', path: v.gray, start: 0, end: 0.2, fps: 10 }), 'too-short');
  const truncated: ClipRecord = { id: 'x', path: v.truncated, start: 0, end: 3, fps: 10 };
  assert.equal(await reason(truncated), 'ok', 'the intact start of a truncated video loads');
  assert.equal(await reason(truncated, { ...centre, start: 0.99 }), 'corrupt', 'its lost end does not');
  assert.equal(await reason({ id: 'i', path: v.text, start: 0, end: 0, image: true }), 'image:not-an-image');
  assert.equal(
    await reason({ id: 'm', path: join(v.dir, 'missing.png'), start: 0, end: 0, image: true }),
    'image:missing',
  );
});

test('colour jitter: each channel scaled by the window gains, clipped; the key names the gains', async () => {
  // gray.mkv frame 10 is level 80 in every channel; gains 1 + 0.9·(2u − 1) for u = 0.1, 0.5, 0.99 → 0.28, 1, 1.882
  const record: ClipRecord = { id: 'g', path: v.gray, start: 1, end: 3, fps: 10 };
  const opts = { frames: 1, width: 8, height: 8, rate: { fps: [5] }, colourJitter: 0.9 };
  const s = await loadSample(record, { ...centre, colour: [0.1, 0.5, 0.99] }, opts);
  const gains = s.window.gains!;
  assert.deepEqual(
    gains.map((g) => g.toFixed(3)),
    ['0.280', '1.000', '1.882'],
  );
  const plane = 64;
  const p = 80 / 255;
  const expect = gains.map((g) => Math.fround(Math.min(1, Math.max(-1, g * (unit(80) + 1) - 1))));
  for (let c = 0; c < 3; c++) {
    const ch = s.frames.data.subarray(c * plane, (c + 1) * plane);
    assert.ok(
      ch.every((x) => x === expect[c]),
      `channel ${c}: ${ch[0]} vs ${expect[c]}`,
    );
  }
  // in pixel terms: 0.28·p, p, 1.882·p
  assert.ok(Math.abs((s.frames.data[0] + 1) / 2 - 0.28 * p) < 1e-6);
  assert.ok(Math.abs((s.frames.data[2 * plane] + 1) / 2 - 1.882 * p) < 1e-3);
  assert.match(s.key, /_n_g0\.2800x1\.0000x1\.8820$/);
  const plain = await loadSample(record, { ...centre, colour: [0.1, 0.5, 0.99] }, { ...opts, colourJitter: 0 });
  assert.equal(plain.window.gains, undefined);
  assert.equal(plain.frames.data[0], unit(80));
});

test('channel shuffle: the decoded channels in the window order, after the gains; the key names the order', async () => {
  // gray.mkv frame 10 is level 80 in every channel: gains 0.28, 1, 1.882 make the three channels tell apart
  const record: ClipRecord = { id: 'g', path: v.gray, start: 1, end: 3, fps: 10 };
  const opts = { frames: 1, width: 8, height: 8, rate: { fps: [5] }, colourJitter: 0.9 };
  const choices = { ...centre, colour: [0.1, 0.5, 0.99] as [number, number, number], order: 0.7 };
  const plain = await loadSample(record, choices, opts);
  const shuffled = await loadSample(record, choices, { ...opts, channelShuffle: true });
  assert.deepEqual(shuffled.window.channels, [2, 0, 1]);
  const plane = 64;
  const channel = (s: typeof plain, c: number) => [...s.frames.data.subarray(c * plane, (c + 1) * plane)];
  for (const [c, from] of [2, 0, 1].entries()) assert.deepEqual(channel(shuffled, c), channel(plain, from));
  assert.match(shuffled.key, /_g0\.2800x1\.0000x1\.8820_p201$/);
  assert.equal(plain.window.channels, undefined);
});

/**
 * Video input: probeVideo and decodeFrames on small videos made by ffmpeg in a temporary folder — exact frame
 * selection in time (a lossless gray ramp whose level is the frame number), exact crop geometry (a lossless spatial
 * ramp), every container of the training sources, and every broken input as a typed VideoInputError with its reason;
 * no ffmpeg child outlives a call.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { decodeFrames } from '../../src/video/decode.ts';
import { decodeArgs, decodeFilter } from '../../src/video/decode-args.ts';
import { VideoInputError } from '../../src/video/errors.ts';
import { parseProbeOutput, parseRate, probeVideo } from '../../src/video/probe.ts';
import { makeTestVideos, type TestVideos } from '../training/data/test-videos.ts';

let v: TestVideos;
before(async () => {
  v = await makeTestVideos();
});
after(() => v.remove());

/** Rejects with a VideoInputError whose reason is `reason`; returns it. */
async function rejectsWith(p: Promise<unknown>, reason: string): Promise<VideoInputError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof VideoInputError, `expected a VideoInputError, got ${e}`);
    assert.equal(e.reason, reason, e.message);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    return e;
  }
  assert.fail(`expected a VideoInputError (${reason}), but it resolved`);
}

/** ffmpeg / ffprobe children of this process still running. */
function childTools(): string[] {
  const r = spawnSync('ps', ['--ppid', String(process.pid), '-o', 'comm='], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s === 'ffmpeg' || s === 'ffprobe');
}

/** The distinct byte values of a frame. */
const levels = (frame: Uint8Array) => [...new Set(frame)].sort((a, b) => a - b);

describe('probeVideo', () => {
  test('reads size, rate, duration and frame count of each container', async () => {
    const bars = await probeVideo(v.bars);
    assert.deepEqual(
      {
        w: bars.width,
        h: bars.height,
        fps: bars.fps,
        d: bars.duration,
        n: bars.frameCount,
        est: bars.frameCountEstimated,
      },
      { w: 96, h: 64, fps: 10, d: 3, n: 30, est: false },
    );
    assert.equal(bars.hasVideo, true);
    assert.equal(bars.codec, 'h264');
    const webm = await probeVideo(v.mandel);
    assert.equal(webm.codec, 'vp9');
    assert.equal(webm.fps, 12);
    assert.equal(webm.frameCount, 12, 'WebM records no frame count: estimated from the duration');
    assert.equal(webm.frameCountEstimated, true);
    const gif = await probeVideo(v.gif);
    assert.equal(gif.codec, 'gif');
    assert.equal(gif.width, 48);
    const gray = await probeVideo(v.gray);
    assert.deepEqual([gray.width, gray.height, gray.fps, gray.frameCount], [32, 16, 10, 30]);
  });

  test('an audio-only file probes as hasVideo: false; broken files are typed errors', async () => {
    const audio = await probeVideo(v.audio);
    assert.equal(audio.hasVideo, false);
    assert.ok(audio.duration > 0.9 && audio.duration < 1.2, `duration ${audio.duration}`);
    await rejectsWith(probeVideo(v.text), 'not-a-video');
    await rejectsWith(probeVideo(v.empty), 'empty');
    await rejectsWith(probeVideo(`${v.dir}/nope.mp4`), 'missing');
    await rejectsWith(probeVideo(v.dir), 'unreadable');
    await rejectsWith(probeVideo(v.noIndex), 'corrupt');
    await rejectsWith(probeVideo(v.bars, { ffprobePath: '/nonexistent/ffprobe' }), 'ffmpeg-missing');
  });

  test('rates and rotation from ffprobe JSON', () => {
    assert.equal(parseRate('30000/1001'), 30000 / 1001);
    assert.equal(parseRate('25'), 25);
    assert.ok(Number.isNaN(parseRate('0/0')));
    assert.ok(Number.isNaN(parseRate('abc')));
    const json = JSON.stringify({
      streams: [
        { codec_name: 'h264', width: 1920, height: 1080, r_frame_rate: '30/1', side_data_list: [{ rotation: -90 }] },
      ],
      format: { duration: '2.5' },
    });
    const p = parseProbeOutput(json, 'phone.mp4');
    assert.deepEqual([p.width, p.height, p.rotation], [1080, 1920, 270], 'a portrait phone video decodes rotated');
    assert.deepEqual([p.duration, p.frameCount, p.frameCountEstimated], [2.5, 75, true]);
    assert.throws(
      () => parseProbeOutput(JSON.stringify({ streams: [{ width: 4, height: 4, r_frame_rate: '0/0' }] }), 'x.mp4'),
      (e: unknown) => e instanceof VideoInputError && e.reason === 'corrupt',
    );
  });
});

describe('decodeFrames', () => {
  test('picks the frames of the requested start and rate (lossless gray ramp: level = 8 · frame)', async () => {
    const at5 = await decodeFrames(v.gray, { fps: 5, start: 1, count: 4, width: 32, height: 16 });
    assert.deepEqual(
      at5.data.map((f) => levels(f)),
      [[80], [96], [112], [128]],
      'frames 10, 12, 14, 16',
    );
    const native = await decodeFrames(v.gray, { start: 0.5, count: 3, width: 32, height: 16 });
    assert.deepEqual(
      native.data.map((f) => levels(f)),
      [[40], [48], [56]],
      'frames 5, 6, 7 at the native rate',
    );
    assert.equal(native.width, 32);
    assert.equal(native.height, 16);
    assert.equal(native.data[0].length, 32 * 16 * 3);
  });

  test('scales to cover and crops at the given offsets (lossless ramp R = 2x, G = 8y)', async () => {
    // 128×32 → cover 32×32 keeps 128×32 (no resampling), the window moves over x ∈ [0, 96].
    const at = async (x: number) => {
      const f = await decodeFrames(v.ramp, { count: 1, width: 32, height: 32, crop: { mode: 'offset', x, y: 0 } });
      return f.data[0];
    };
    const left = await at(0);
    const right = await at(1);
    const centre = (await decodeFrames(v.ramp, { count: 1, width: 32, height: 32 })).data[0];
    assert.deepEqual([left[0], right[0], centre[0]], [0, 192, 96], 'R of the top-left pixel = 2 · crop x');
    assert.deepEqual([left[1], left[2]], [0, 128]);
    assert.equal(left[(5 * 32 + 3) * 3], 6, 'pixel (3, 5): R = 2 · 3');
    assert.equal(left[(5 * 32 + 3) * 3 + 1], 40, 'pixel (3, 5): G = 8 · 5');
    const rect = await decodeFrames(v.ramp, {
      count: 1,
      width: 16,
      height: 16,
      crop: { mode: 'rect', left: 10, top: 4, width: 16, height: 16 },
    });
    assert.deepEqual([rect.data[0][0], rect.data[0][1]], [20, 32], 'rect crop at (10, 4), no scaling');
  });

  test('resizes every container to the requested size', async () => {
    for (const [path, count] of [
      [v.bars, 30],
      [v.mandel, 12],
      [v.gif, 10],
    ] as const) {
      const f = await decodeFrames(path, { count, width: 40, height: 24 });
      assert.equal(f.data.length, count, path);
      assert.ok(
        f.data.every((d) => d.length === 40 * 24 * 3),
        path,
      );
      assert.ok(levels(f.data[0]).length > 8, `${path}: frames carry a picture`);
    }
  });

  test('too few frames is too-short; broken inputs are typed errors with their reason', async () => {
    const short = await rejectsWith(decodeFrames(v.gray, { count: 31, width: 8, height: 8 }), 'too-short');
    assert.match(short.message, /30 of 31 frames/);
    await rejectsWith(decodeFrames(v.gray, { fps: 10, start: 2.5, count: 10, width: 8, height: 8 }), 'too-short');
    await rejectsWith(decodeFrames(v.truncated, { count: 30, width: 8, height: 8 }), 'corrupt');
    const first = await decodeFrames(v.truncated, { count: 3, width: 8, height: 8 });
    assert.equal(first.data.length, 3, 'the intact start of a truncated video still decodes');
    await rejectsWith(decodeFrames(v.audio, { count: 1, width: 8, height: 8 }), 'no-video');
    await rejectsWith(decodeFrames(v.text, { count: 1, width: 8, height: 8 }), 'not-a-video');
    await rejectsWith(decodeFrames(v.empty, { count: 1, width: 8, height: 8 }), 'empty');
    await rejectsWith(decodeFrames(v.noIndex, { count: 1, width: 8, height: 8 }), 'corrupt');
    await rejectsWith(decodeFrames(`${v.dir}/nope.mkv`, { count: 1, width: 8, height: 8 }), 'missing');
    await rejectsWith(
      decodeFrames(v.ramp, {
        count: 1,
        width: 8,
        height: 8,
        crop: { mode: 'rect', left: 0, top: 0, width: 500, height: 8 },
      }),
      'bad-options',
    );
    await rejectsWith(
      decodeFrames(v.bars, { count: 1, width: 8, height: 8, ffmpegPath: '/nonexistent/ffmpeg' }),
      'ffmpeg-missing',
    );
    assert.deepEqual(childTools(), []);
  });

  test('bad options are refused before ffmpeg starts', async () => {
    const bad = { count: 1, width: 8, height: 8 };
    await rejectsWith(decodeFrames(v.bars, { ...bad, count: 0 }), 'bad-options');
    await rejectsWith(decodeFrames(v.bars, { ...bad, width: 7.5 }), 'bad-options');
    await rejectsWith(decodeFrames(v.bars, { ...bad, fps: -1 }), 'bad-options');
    await rejectsWith(decodeFrames(v.bars, { ...bad, start: Number.NaN }), 'bad-options');
    await rejectsWith(decodeFrames(v.bars, { ...bad, crop: { mode: 'offset', x: 1.5, y: 0 } }), 'bad-options');
  });

  test('abort and timeout kill ffmpeg; nothing is left running', async () => {
    const controller = new AbortController();
    const pending = decodeFrames(v.bars, { count: 30, width: 96, height: 64, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop now')), 5);
    await assert.rejects(pending, /stop now/);
    await rejectsWith(decodeFrames(v.bars, { count: 30, width: 96, height: 64, timeoutMs: 1 }), 'timeout');
    await rejectsWith(probeVideo(v.bars, { timeoutMs: 1 }), 'timeout');
    await assert.rejects(probeVideo(v.bars, { signal: AbortSignal.abort(new Error('no probe')) }), /no probe/);
    const aborted = AbortSignal.abort(new Error('already'));
    await assert.rejects(decodeFrames(v.bars, { count: 1, width: 8, height: 8, signal: aborted }), /already/);
    assert.deepEqual(childTools(), []);
  });

  test('the command line: seek before the input, rate, cover-scale, crop, rgb24 on stdout', () => {
    const args = decodeArgs('in.mp4', { fps: 7, start: 1.5, count: 14, width: 64, height: 32 });
    assert.deepEqual(args.slice(args.indexOf('-ss'), args.indexOf('-ss') + 4), ['-ss', '1.500000', '-i', 'in.mp4']);
    assert.deepEqual(args.slice(args.indexOf('-frames:v'), args.indexOf('-frames:v') + 2), ['-frames:v', '14']);
    const filter = decodeFilter({ fps: 7, count: 14, width: 64, height: 32, crop: { mode: 'offset', x: 0.25, y: 1 } });
    assert.match(filter, /^fps=7,/);
    assert.match(filter, /force_original_aspect_ratio=increase/);
    assert.match(filter, /x='floor\(\(iw-ow\)\*0\.25\)':y='floor\(\(ih-oh\)\*1\)'/);
  });
});

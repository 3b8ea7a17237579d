/**
 * streamFrames (src/video/frame-stream.ts), the whole-video frame iterator the cut detectors read: every frame in
 * order at the analysis size (a lossless gray video whose level is 8·N for frame N), resampling in time, buffer
 * reuse, early stop and abort without a leftover ffmpeg, typed errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openFrameStream } from '../../../src/curation/frames.ts';
import { VideoInputError } from '../../../src/video/errors.ts';
import { frameStreamArgs, streamFrames } from '../../../src/video/frame-stream.ts';
import { runFfmpeg } from './media.ts';

let dir: string;
let gray: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svd-frame-stream-'));
  gray = join(dir, 'gray.mkv');
  await runFfmpeg([
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi'],
    ...['-i', "color=black:s=32x16:r=10:d=3,format=gray,geq=lum='N*8'", '-c:v', 'ffv1', gray],
  ]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** ffmpeg children of this process still running. */
function ffmpegChildren(): string[] {
  const r = spawnSync('ps', ['--ppid', String(process.pid), '-o', 'comm='], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s === 'ffmpeg');
}

async function rejectsWith(p: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof VideoInputError, `expected a VideoInputError, got ${e}`);
    assert.equal(e.reason, reason, e.message);
    return true;
  });
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const f of it) out.push(f);
  return out;
}

describe('streamFrames', () => {
  test('every frame, in order, at the requested size', async () => {
    const frames = await collect(streamFrames(gray, { width: 8, height: 4 }));
    assert.equal(frames.length, 30);
    frames.forEach((f, i) => {
      assert.equal(f.length, 8 * 4 * 3);
      assert.ok(
        f.every((v) => v === 8 * i),
        `frame ${i} is level ${8 * i}`,
      );
    });
    assert.notEqual(frames[0].buffer, frames[1].buffer, 'a new buffer per frame by default');
  });

  test('fps resamples in time; maxFrames and start bound the stream', async () => {
    const half = await collect(streamFrames(gray, { width: 4, height: 2, fps: 5 }));
    assert.deepEqual(
      half.map((f) => f[0]),
      Array.from({ length: 15 }, (_, k) => 16 * k),
    );
    const some = await collect(streamFrames(gray, { width: 4, height: 2, start: 1, maxFrames: 4 }));
    assert.deepEqual(
      some.map((f) => f[0]),
      [80, 88, 96, 104],
    );
    assert.deepEqual(await collect(streamFrames(gray, { width: 4, height: 2, start: 10 })), [], 'past the end');
  });

  test('reuse hands out one buffer; stopping early leaves no ffmpeg behind', async () => {
    const seen = new Set<Uint8Array>();
    let n = 0;
    for await (const f of streamFrames(gray, { width: 32, height: 16, reuse: true })) {
      seen.add(f);
      assert.equal(f[0], 8 * n);
      if (++n === 3) break;
    }
    assert.equal(seen.size, 1);
    assert.deepEqual(ffmpegChildren(), []);
  });

  test('abort rejects with the reason and kills ffmpeg', async () => {
    const controller = new AbortController();
    const frames = streamFrames(gray, { width: 32, height: 16, signal: controller.signal });
    await frames.next();
    controller.abort(new Error('stopped by the test'));
    await assert.rejects(collect(frames), /stopped by the test/);
    assert.deepEqual(ffmpegChildren(), []);
  });

  test('typed errors: missing, not a video, empty, bad options', async () => {
    const text = join(dir, 'text.mp4');
    writeFileSync(text, 'hello, I am not a video\n'.repeat(20));
    const empty = join(dir, 'empty.mp4');
    writeFileSync(empty, '');
    await rejectsWith(collect(streamFrames(join(dir, 'nope.mp4'), { width: 8, height: 8 })), 'missing');
    await rejectsWith(collect(streamFrames(text, { width: 8, height: 8 })), 'not-a-video');
    await rejectsWith(collect(streamFrames(empty, { width: 8, height: 8 })), 'empty');
    await rejectsWith(collect(streamFrames(gray, { width: 0, height: 8 })), 'bad-options');
    await rejectsWith(collect(streamFrames(gray, { width: 8, height: 8, fps: -1 })), 'bad-options');
    await rejectsWith(collect(streamFrames(gray, { width: 8, height: 8, maxFrames: 0 })), 'bad-options');
    assert.deepEqual(ffmpegChildren(), []);
  });

  test('the command line: constant rate at the video rate, or the fps filter; exact scale, no crop', () => {
    assert.deepEqual(frameStreamArgs('in.mp4', { width: 256, height: 144 }), [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', 'in.mp4', '-map', '0:V:0', '-an', '-sn', '-dn'],
      ...['-vf', 'scale=w=256:h=144:flags=area+accurate_rnd+full_chroma_int,setsar=1,format=rgb24'],
      ...['-fps_mode', 'cfr', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    ]);
    const args = frameStreamArgs('in.mp4', { width: 16, height: 9, fps: 2, start: 1.5, threads: 1, maxFrames: 7 });
    assert.ok(args.includes('fps=2,scale=w=16:h=9:flags=area+accurate_rnd+full_chroma_int,setsar=1,format=rgb24'));
    assert.ok(!args.includes('-fps_mode'));
    assert.deepEqual(args.slice(4, 8), ['-threads', '1', '-ss', '1.500000']);
    assert.deepEqual(args.slice(args.indexOf('-frames:v'), args.indexOf('-frames:v') + 2), ['-frames:v', '7']);
  });

  test('openFrameStream probes the video and streams it at the chosen size', async () => {
    const { stream, probe } = await openFrameStream(gray, {
      size: (p) => ({ width: p.width / 2, height: p.height / 2 }),
    });
    assert.deepEqual([stream.width, stream.height, stream.fps, probe.frameCount], [16, 8, 10, 30]);
    const frames = await collect(stream.frames);
    assert.equal(frames.length, 30);
    assert.equal(frames[29].length, 16 * 8 * 3);
  });
});

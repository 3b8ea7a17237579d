/**
 * Video writers: every format from synthetic frames, checked with ffprobe (codec, pix_fmt, frame count, size, fps);
 * PNG frames round-trip bit-exactly; no temporary file survives a write, an abort or a failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { VideoOutputError } from '../../src/video/errors.ts';
import type { VideoFrames } from '../../src/video/frames.ts';
import { resolveVideoOutput } from '../../src/video/output-path.ts';
import { checkVideoOutput, checkWritable, padToEven, writeVideo } from '../../src/video/writers.ts';

const root = mkdtempSync(join(tmpdir(), 'svd-writers-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
/** A fresh empty directory per test, so "nothing else is left" is a plain listing. */
const freshDir = () => {
  const d = join(root, `t${dirCount++}`);
  mkdirSync(d);
  return d;
};

/** `t` frames of vertical colour bars that move one bar width per frame. */
function colourBars(width: number, height: number, t: number): VideoFrames {
  const bars = [
    [255, 255, 255],
    [255, 255, 0],
    [0, 255, 255],
    [0, 255, 0],
    [255, 0, 255],
    [255, 0, 0],
    [0, 0, 255],
    [0, 0, 0],
  ];
  const barWidth = Math.ceil(width / bars.length);
  const data = Array.from({ length: t }, (_, f) => {
    const frame = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++)
        frame.set(bars[(Math.floor(x / barWidth) + f) % bars.length], (y * width + x) * 3);
    }
    return frame;
  });
  return { width, height, data };
}

interface Probe {
  codec_name: string;
  pix_fmt?: string;
  width: number;
  height: number;
  r_frame_rate: string;
  nb_read_frames?: string;
}

function ffprobe(path: string): Probe {
  const r = spawnSync(
    'ffprobe',
    [
      ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
      ...['-show_entries', 'stream=codec_name,pix_fmt,width,height,r_frame_rate,nb_read_frames', '-of', 'json', path],
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `ffprobe ${path}: ${r.stderr}`);
  return JSON.parse(r.stdout).streams[0];
}

/** Top-level MP4 box types in file order. */
function mp4Boxes(path: string): string[] {
  const buf = readFileSync(path);
  const types: string[] = [];
  for (let at = 0; at + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(at);
    types.push(buf.toString('latin1', at + 4, at + 8));
    if (size < 8) break;
    at += size;
  }
  return types;
}

const frames = colourBars(64, 48, 5);

describe('writeVideo: every format opens in ffprobe', () => {
  test('mp4: H.264, yuv420p, 5 frames, 64×48, 7 fps, moov before mdat (faststart)', async () => {
    const dir = freshDir();
    const out = join(dir, 'clip.mp4');
    const written = await writeVideo(frames, out, { fps: 7 });
    assert.deepEqual(written, { path: out, format: 'mp4', width: 64, height: 48, frameCount: 5, fps: 7 });
    const p = ffprobe(out);
    assert.equal(p.codec_name, 'h264');
    assert.equal(p.pix_fmt, 'yuv420p');
    assert.equal(p.nb_read_frames, '5');
    assert.equal(`${p.width}×${p.height}`, '64×48');
    assert.equal(p.r_frame_rate, '7/1');
    const boxes = mp4Boxes(out);
    assert.ok(boxes.indexOf('moov') < boxes.indexOf('mdat'), boxes.join(' '));
    assert.deepEqual(readdirSync(dir), ['clip.mp4']);
  });

  test('webm: VP9, 5 frames, 64×48, 7 fps', async () => {
    const dir = freshDir();
    const out = join(dir, 'clip.webm');
    await writeVideo(frames, out, { fps: 7 });
    const p = ffprobe(out);
    assert.equal(p.codec_name, 'vp9');
    assert.equal(p.nb_read_frames, '5');
    assert.equal(`${p.width}×${p.height}`, '64×48');
    assert.equal(p.r_frame_rate, '7/1');
    assert.deepEqual(readdirSync(dir), ['clip.webm']);
  });

  test('gif: palette, 5 frames, 64×48, 10 fps (GIF delays are in 1/100 s)', async () => {
    const dir = freshDir();
    const out = join(dir, 'clip.gif');
    await writeVideo(frames, out, { fps: 10 });
    const p = ffprobe(out);
    assert.equal(p.codec_name, 'gif');
    assert.equal(p.nb_read_frames, '5');
    assert.equal(`${p.width}×${p.height}`, '64×48');
    assert.equal(p.r_frame_rate, '10/1');
    const meta = await sharp(out, { animated: true }).metadata();
    assert.equal(meta.loop, 0);
    assert.deepEqual(readdirSync(dir), ['clip.gif']);
  });

  test('webp: animated, 5 frames of 64×48, 100 ms each, looping', async () => {
    const dir = freshDir();
    const out = join(dir, 'clip.webp');
    await writeVideo(frames, out, { fps: 10 });
    // ffmpeg ≤ 7.0 has no animated-WebP decoder: ffprobe identifies the stream, sharp reads the animation.
    assert.equal(ffprobe(out).codec_name, 'webp');
    const meta = await sharp(out, { animated: true }).metadata();
    assert.equal(meta.pages, 5);
    assert.equal(meta.width, 64);
    assert.equal(meta.pageHeight, 48);
    assert.deepEqual(meta.delay, [100, 100, 100, 100, 100]);
    assert.equal(meta.loop, 0);
    assert.deepEqual(readdirSync(dir), ['clip.webp']);
  });

  test('a directory of PNG frames decodes back bit-exactly', async () => {
    const dir = freshDir();
    const out = join(dir, 'frames/');
    const progress: number[] = [];
    const written = await writeVideo(frames, out, { fps: 7, onFrame: (i) => progress.push(i) });
    assert.equal(written.format, 'frames');
    assert.deepEqual(progress, [1, 2, 3, 4, 5]);
    assert.deepEqual(readdirSync(dir), ['frames']);
    const names = readdirSync(join(dir, 'frames')).sort();
    assert.deepEqual(names, ['frame_0000.png', 'frame_0001.png', 'frame_0002.png', 'frame_0003.png', 'frame_0004.png']);
    for (let t = 0; t < 5; t++) {
      const { data, info } = await sharp(join(dir, 'frames', names[t]))
        .raw()
        .toBuffer({ resolveWithObject: true });
      assert.equal(info.channels, 3);
      assert.ok(Buffer.from(frames.data[t]).equals(data), `frame ${t} differs`);
    }
  });

  test('an existing directory receives the frames and keeps its other files', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'notes.txt'), 'keep me');
    await writeVideo(colourBars(8, 8, 2), dir, { fps: 7 });
    assert.deepEqual(readdirSync(dir).sort(), ['frame_0000.png', 'frame_0001.png', 'notes.txt']);
  });

  test('odd sizes: mp4 pads by replicating the last row/column; webm keeps the size', async () => {
    const odd = colourBars(63, 47, 3);
    const padded = padToEven(odd);
    assert.equal(padded.width, 64);
    assert.equal(padded.height, 48);
    const px = (f: VideoFrames, x: number, y: number) => [
      ...f.data[1].subarray((y * f.width + x) * 3, (y * f.width + x) * 3 + 3),
    ];
    assert.deepEqual(px(padded, 63, 10), px(odd, 62, 10));
    assert.deepEqual(px(padded, 20, 47), px(odd, 20, 46));
    assert.deepEqual(px(padded, 63, 47), px(odd, 62, 46));
    assert.deepEqual(px(padded, 5, 5), px(odd, 5, 5));

    const dir = freshDir();
    const mp4 = await writeVideo(odd, join(dir, 'odd.mp4'), { fps: 7 });
    assert.equal(`${mp4.width}×${mp4.height}`, '64×48');
    const p = ffprobe(join(dir, 'odd.mp4'));
    assert.equal(`${p.width}×${p.height} ${p.pix_fmt} ${p.nb_read_frames}`, '64×48 yuv420p 3');
    await writeVideo(odd, join(dir, 'odd.webm'), { fps: 7 });
    const w = ffprobe(join(dir, 'odd.webm'));
    assert.equal(`${w.width}×${w.height}`, '63×47');
  });
});

describe('writeVideo: nothing is left behind on abort or failure', () => {
  const isAbort = (e: unknown) => e instanceof Error && e.name === 'AbortError';

  for (const name of ['clip.mp4', 'clip.gif', 'frames/']) {
    test(`aborting in the middle of ${name} removes the temporary output`, async () => {
      const dir = freshDir();
      const controller = new AbortController();
      const long = colourBars(64, 48, 60);
      const onFrame = (i: number) => {
        if (i === 3) controller.abort();
      };
      await assert.rejects(writeVideo(long, join(dir, name), { fps: 7, signal: controller.signal, onFrame }), isAbort);
      assert.deepEqual(readdirSync(dir), []);
    });
  }

  test('an already aborted signal writes nothing', async () => {
    const dir = freshDir();
    await assert.rejects(writeVideo(frames, join(dir, 'a.mp4'), { fps: 7, signal: AbortSignal.abort() }), isAbort);
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a failing ffmpeg (partial output, exit 1) leaves nothing and reports its last stderr line', async () => {
    const dir = freshDir();
    const bin = join(freshDir(), 'fake-ffmpeg');
    writeFileSync(
      bin,
      '#!/bin/sh\nfor last; do :; done\necho partial > "$last"\necho "encoder exploded" >&2\nexit 1\n',
    );
    chmodSync(bin, 0o755);
    await assert.rejects(
      writeVideo(colourBars(64, 48, 30), join(dir, 'clip.mp4'), { fps: 7, ffmpegPath: bin }),
      (e: unknown) =>
        e instanceof VideoOutputError && e.problem === 'ffmpeg-failed' && /encoder exploded/.test(e.message),
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a missing ffmpeg is a clear error naming the Debian package, before and during the write', async () => {
    const dir = freshDir();
    const missing = (e: unknown) =>
      e instanceof VideoOutputError &&
      e.problem === 'ffmpeg-missing' &&
      /Debian package "ffmpeg"/.test(e.message) &&
      !e.message.includes('\n');
    const ffmpegPath = join(dir, 'no-such-ffmpeg');
    await assert.rejects(checkVideoOutput(join(dir, 'a.mp4'), { ffmpegPath }), missing);
    await assert.rejects(writeVideo(frames, join(dir, 'a.mp4'), { fps: 7, ffmpegPath }), missing);
    assert.deepEqual(readdirSync(dir), []);
    // PNG frames need no ffmpeg
    await checkVideoOutput(join(dir, 'frames/'), { ffmpegPath });
  });

  test('bad frames and bad fps are refused before anything is written', async () => {
    const dir = freshDir();
    const bad = { width: 64, height: 48, data: [new Uint8Array(10)] };
    await assert.rejects(writeVideo(bad, join(dir, 'a.mp4'), { fps: 7 }), /frame 0 has 10 bytes/);
    await assert.rejects(writeVideo(frames, join(dir, 'a.mp4'), { fps: 0 }), /fps must be a positive number/);
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe('output paths', () => {
  test('the format follows the path: extension, trailing slash, existing directory; a new name needs an extension', () => {
    const dir = freshDir();
    assert.equal(resolveVideoOutput(join(dir, 'a.MP4')).format, 'mp4');
    assert.equal(resolveVideoOutput(join(dir, 'a.webm')).format, 'webm');
    assert.equal(resolveVideoOutput(join(dir, 'x.gif/')).format, 'frames');
    assert.throws(
      () => resolveVideoOutput(join(dir, 'out')),
      (e: unknown) =>
        e instanceof VideoOutputError && e.problem === 'bad-options' && /out has no extension/.test(e.message),
    );
    assert.equal(resolveVideoOutput(join(dir, 'out'), 'frames').format, 'frames');
    assert.equal(resolveVideoOutput(dir).format, 'frames');
    assert.equal(resolveVideoOutput(join(dir, 'a.mp4'), 'webm').format, 'webm');
    assert.throws(
      () => resolveVideoOutput(join(dir, 'a.avi')),
      /cannot write ".avi" output .*\.mp4, \.webm, \.gif, \.webp/,
    );
  });

  test('checkWritable refuses a missing or non-directory parent, with one-line messages', async () => {
    const dir = freshDir();
    const unwritable = (pattern: RegExp) => (e: unknown) =>
      e instanceof VideoOutputError &&
      e.problem === 'unwritable' &&
      pattern.test(e.message) &&
      !e.message.includes('\n');
    await assert.rejects(checkWritable(join(dir, 'missing', 'a.mp4')), unwritable(/missing does not exist/));
    writeFileSync(join(dir, 'file'), '');
    await assert.rejects(checkWritable(join(dir, 'file', 'a.mp4')), unwritable(/not a directory/));
    await assert.rejects(checkWritable(join(dir, 'file/')), unwritable(/exists and is not a directory/));
    mkdirSync(join(dir, 'sub.mp4'));
    assert.equal((await checkWritable(join(dir, 'sub.mp4'))).format, 'frames'); // an existing directory wins
    writeFileSync(join(dir, 'old.mp4'), 'x');
    await assert.rejects(checkWritable(join(dir, 'old.mp4'), { overwrite: false }), /already exists/);
    await checkWritable(join(dir, 'old.mp4'));
    assert.deepEqual(readdirSync(dir).sort(), ['file', 'old.mp4', 'sub.mp4']); // the probe file is gone
  });

  test('checkWritable refuses a read-only directory', {
    skip: process.getuid?.() === 0 && 'root can write anywhere',
  }, async () => {
    const dir = freshDir();
    chmodSync(dir, 0o555);
    try {
      await assert.rejects(checkWritable(join(dir, 'a.mp4')), /is not writable \(EACCES\)/);
    } finally {
      chmodSync(dir, 0o755);
    }
  });
});

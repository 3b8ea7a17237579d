/**
 * A folder of frames as an input of the quality metrics (how an orbit's views, `svd orbit --out-frames`, are scored
 * against ground-truth views): files in numeric name order, compared frame by frame with a video or another folder.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { frameFolderFiles } from '../../src/eval/frame-folder.ts';
import { videoQuality } from '../../src/eval/video-quality.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'svd-frames-'));
  const r = spawnSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=64x48:rate=4:duration=3',
      '-pix_fmt',
      'yuv444p',
      join(dir, 'v.mp4'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  mkdirSync(join(dir, 'views'));
  // frame_1.png … frame_12.png: name order would put frame_10 before frame_2.
  const x = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', join(dir, 'v.mp4'), '-start_number', '1', join(dir, 'views', 'frame_%d.png')],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(x.status, 0, x.stderr);
  writeFileSync(join(dir, 'views', 'notes.txt'), 'not a frame');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('frames in numeric name order, other files ignored; an empty folder is an error naming it', () => {
  const files = frameFolderFiles(join(dir, 'views')).map((f) => f.slice(f.lastIndexOf('/') + 1));
  assert.equal(files.length, 12);
  assert.deepEqual(files.slice(0, 3), ['frame_1.png', 'frame_2.png', 'frame_3.png']);
  assert.equal(files[11], 'frame_12.png');
  mkdirSync(join(dir, 'empty'));
  assert.throws(() => frameFolderFiles(join(dir, 'empty')), /empty: a folder of frames needs PNG, JPEG or WebP files/);
});

test('a folder against itself, against the video it came from, and with two frames swapped', async () => {
  const views = join(dir, 'views');
  const same = await videoQuality(views, views, ['psnr', 'ssim']);
  assert.equal(same.frames, 12);
  assert.equal(same.metrics.psnr!.mean, Number.POSITIVE_INFINITY);
  assert.ok(Math.abs(same.metrics.ssim!.mean - 1) < 1e-12);
  const video = await videoQuality(join(dir, 'v.mp4'), views, ['psnr']);
  assert.equal(video.frames, 12);
  assert.equal(video.metrics.psnr!.mean, Number.POSITIVE_INFINITY, 'the PNGs are the decoded frames');
  mkdirSync(join(dir, 'swapped'));
  for (let i = 1; i <= 12; i++) {
    const from = i === 1 ? 7 : i === 7 ? 1 : i;
    copyFileSync(join(views, `frame_${from}.png`), join(dir, 'swapped', `frame_${i}.png`));
  }
  const swapped = await videoQuality(views, join(dir, 'swapped'), ['psnr']);
  const finite = swapped.metrics.psnr!.perFrame.map((v, i) => (Number.isFinite(v) ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(finite, [0, 6]);
});

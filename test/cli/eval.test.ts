/**
 * `svd eval`: a video against itself (PSNR ∞, SSIM 1), against a noisier encode (finite, lower), against a still of
 * its first frame (one frame compared, noted), and usage errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
let dir: string;
const svd = (args: string[]) =>
  spawnSync(process.execPath, [BIN, 'eval', ...args], { encoding: 'utf8', timeout: 120_000 });
const ffmpeg = (args: string[]) => {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'svd-eval-'));
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=96x64:rate=8:duration=1',
    '-c:v',
    'libx264',
    '-crf',
    '10',
    '-pix_fmt',
    'yuv444p',
    join(dir, 'a.mp4'),
  ]);
  ffmpeg([
    '-i',
    join(dir, 'a.mp4'),
    '-vf',
    'noise=alls=30:allf=t',
    '-c:v',
    'libx264',
    '-crf',
    '10',
    '-pix_fmt',
    'yuv444p',
    join(dir, 'b.mp4'),
  ]);
  ffmpeg(['-i', join(dir, 'a.mp4'), '-frames:v', '1', join(dir, 'first.png')]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('identical, noisier and still-image comparisons', () => {
  const same = svd(['quality', join(dir, 'a.mp4'), join(dir, 'a.mp4'), '--json']);
  assert.equal(same.status, 0, same.stderr);
  const s = JSON.parse(same.stdout);
  assert.equal(s.frames, 8);
  assert.equal(s.metrics.psnr.mean, null, 'JSON writes ∞ as null');
  assert.ok(Math.abs(s.metrics.ssim.mean - 1) < 1e-12);
  const noisy = JSON.parse(svd(['quality', join(dir, 'a.mp4'), join(dir, 'b.mp4'), '--json']).stdout);
  assert.ok(noisy.metrics.psnr.mean > 10 && noisy.metrics.psnr.mean < 40, `${noisy.metrics.psnr.mean}`);
  assert.ok(noisy.metrics.ssim.mean < 0.95 && noisy.metrics.ssim.mean > 0.1, `${noisy.metrics.ssim.mean}`);
  const still = svd(['psnr', join(dir, 'a.mp4'), join(dir, 'first.png')]);
  assert.equal(still.status, 0, still.stderr);
  assert.match(still.stderr, /compared the first 1 frames/);
  assert.match(still.stdout, /\| psnr \| ∞ \|/, 'the PNG is the decoded first frame');
});

test('usage errors exit 2; a missing file exits 1', () => {
  assert.equal(svd(['fvd', 'a', 'b']).status, 2);
  assert.equal(svd(['lpips', 'a', 'b']).status, 2, 'lpips without weights');
  assert.equal(svd(['psnr', join(dir, 'a.mp4')]).status, 2);
  assert.equal(svd(['psnr', join(dir, 'a.mp4'), join(dir, 'missing.mp4')]).status, 1);
});

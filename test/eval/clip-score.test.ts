/**
 * CLIP score with the tiny open_clip fixture (test/fixtures/clip/tiny-openclip, vectors checked in
 * test/models/clip): a still video of an image scores ~100 against that image and less against another; the text
 * score equals 100·max(cos, 0) from the scorer's own embeddings; and through the CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { imageVideoClipScore, textVideoClipScore } from '../../src/eval/clip-score.ts';
import { ClipScorer, cosineSimilarity } from '../../src/models/clip/clip-scorer.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CK = join(ROOT, 'test/fixtures/clip/tiny-openclip');
const PHOTO = join(ROOT, 'test/fixtures/golden/pipeline-tiny/input.png');
let dir: string;
let scorer: ClipScorer;
const ffmpeg = (args: string[]) => {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svd-clipscore-'));
  ffmpeg([
    '-loop',
    '1',
    '-i',
    PHOTO,
    '-t',
    '1',
    '-r',
    '4',
    '-c:v',
    'libx264',
    '-crf',
    '0',
    '-pix_fmt',
    'yuv444p',
    join(dir, 'still.mp4'),
  ]);
  ffmpeg(['-i', PHOTO, '-vf', 'hflip,negate', join(dir, 'other.png')]);
  scorer = await ClipScorer.load(CK, { threads: 2 });
});
after(async () => {
  await scorer?.release();
  rmSync(dir, { recursive: true, force: true });
});

test('image–video: ~100 for the same image, lower for another; one value per frame', async () => {
  const same = await imageVideoClipScore(join(dir, 'still.mp4'), PHOTO, scorer);
  assert.equal(same.perFrame.length, 4);
  assert.ok(same.mean > 99, `${same.mean}`);
  const other = await imageVideoClipScore(join(dir, 'still.mp4'), join(dir, 'other.png'), scorer);
  assert.ok(other.mean < same.mean - 1, `${other.mean} vs ${same.mean}`);
});

test('text–video equals 100·max(cos, 0) of the scorer embeddings', async () => {
  const r = await textVideoClipScore(join(dir, 'still.mp4'), 'a photo of a cat', scorer);
  const t = await scorer.embedText('a photo of a cat');
  const [img] = await scorer.embedImages([
    await (async () => {
      const { decodeFrames } = await import('../../src/video/decode.ts');
      const s = scorer.frame.width;
      const f = await decodeFrames(join(dir, 'still.mp4'), {
        count: 1,
        width: s,
        height: s,
        crop: { mode: 'center' },
        resample: 'bicubic',
      });
      return { width: s, height: s, data: f.data[0] };
    })(),
  ]);
  const expected = 100 * Math.max(0, cosineSimilarity(img, t));
  assert.ok(Math.abs(r.perFrame[0] - expected) < 1e-3, `${r.perFrame[0]} vs ${expected}`);
  assert.ok(r.mean >= 0 && r.mean <= 100);
});

test('svd eval clip through the CLI; usage errors', () => {
  const bin = join(ROOT, 'bin/svd.mjs');
  const run = (a: string[]) =>
    spawnSync(process.execPath, [bin, 'eval', 'clip', ...a], { encoding: 'utf8', timeout: 120_000 });
  const r = run([join(dir, 'still.mp4'), '--image', PHOTO, '--clip-checkpoint', CK, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).mean > 99);
  assert.equal(run([join(dir, 'still.mp4'), '--clip-checkpoint', CK]).status, 2);
  assert.equal(run([join(dir, 'still.mp4'), '--text', 'x']).status, 2);
});

/** The sidecar JSON of a video: `<out>.json` next to a file, `<dir>/video.json` in a frames directory, atomic. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sidecarPath, writeSidecar } from '../../src/video/sidecar.ts';

const dir = mkdtempSync(join(tmpdir(), 'svd-sidecar-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const record = {
  model: 'svd_xt',
  seed: 23n,
  params: { fpsId: 6, motionBucketId: 127, condAug: 0.02, steps: 30 },
  checkpointSha256: 'ab'.repeat(32),
  timingsMs: { sample: 1234.5 },
  sigmas: new Float32Array([700, 0]),
};

test('a video file gets <out>.json with the whole record (bigints as strings)', async () => {
  const out = join(dir, 'clip.mp4');
  assert.equal(sidecarPath(out), `${out}.json`);
  const path = await writeSidecar(out, record);
  assert.equal(path, `${out}.json`);
  const back = JSON.parse(readFileSync(path, 'utf8'));
  assert.deepEqual(back, { ...record, seed: '23', sigmas: [700, 0] });
  assert.deepEqual(readdirSync(dir), ['clip.mp4.json']);
  // rewriting replaces the file and leaves no temporary file
  await writeSidecar(out, { seed: 1 });
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { seed: 1 });
  assert.deepEqual(readdirSync(dir), ['clip.mp4.json']);
});

test('a frames directory gets <dir>/video.json', async () => {
  const frames = join(dir, 'frames');
  mkdirSync(frames);
  assert.equal(sidecarPath(`${frames}/`), join(frames, 'video.json'));
  assert.equal(await writeSidecar(frames, record), join(frames, 'video.json'));
  assert.deepEqual(readdirSync(frames), ['video.json']);
});

test('a failed write leaves nothing behind', async () => {
  await assert.rejects(writeSidecar(join(dir, 'missing', 'clip.mp4'), record), /ENOENT/);
  assert.ok(!readdirSync(dir).some((n) => n.includes('partial')));
});

/**
 * Existing outputs: `overwrite: false` refuses an existing file and a frames folder holding an earlier run's frames
 * (not one holding only other files); replacing a frames folder leaves no stale frame of the earlier run; a plain
 * output file (tensors) is checked the same way.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { VideoOutputError } from '../../src/video/errors.ts';
import type { VideoFrames } from '../../src/video/frames.ts';
import { checkFileWritable, checkWritable, earlierRunFiles } from '../../src/video/output-path.ts';
import { writeVideo } from '../../src/video/writers.ts';

const root = mkdtempSync(join(tmpdir(), 'svd-overwrite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
};

/** `t` grey 4×4 frames. */
const grey = (t: number): VideoFrames => ({
  width: 4,
  height: 4,
  data: Array.from({ length: t }, (_, i) => new Uint8Array(4 * 4 * 3).fill(40 * i)),
});

const exists = (e: unknown) => e instanceof VideoOutputError && e.problem === 'exists';

test('a frames folder with an earlier run’s frames is refused without overwrite; other files do not count', async () => {
  const dir = freshDir();
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  await checkWritable(`${dir}/`, { overwrite: false });
  await writeVideo(grey(2), `${dir}/`, { fps: 7, overwrite: false });
  assert.deepEqual(await earlierRunFiles(dir), ['frame_0000.png', 'frame_0001.png']);
  await assert.rejects(checkWritable(`${dir}/`, { overwrite: false }), exists);
  await assert.rejects(writeVideo(grey(2), `${dir}/`, { fps: 7, overwrite: false }), exists);
  writeFileSync(join(dir, 'video.json'), '{}');
  const onlySidecar = freshDir();
  writeFileSync(join(onlySidecar, 'video.json'), '{}');
  await assert.rejects(checkWritable(`${onlySidecar}/`, { overwrite: false }), exists);
});

test('replacing 4 frames with 2 leaves no stale frame_0002.png or frame_0003.png; other files stay', async () => {
  const dir = freshDir();
  await writeVideo(grey(4), `${dir}/`, { fps: 7 });
  writeFileSync(join(dir, 'frame_notes.txt'), 'mine');
  await writeVideo(grey(2), `${dir}/`, { fps: 7 });
  assert.deepEqual(readdirSync(dir).sort(), ['frame_0000.png', 'frame_0001.png', 'frame_notes.txt']);
});

test('a video file is not replaced without overwrite', async () => {
  const dir = freshDir();
  writeFileSync(join(dir, 'a.gif'), 'earlier');
  await assert.rejects(writeVideo(grey(2), join(dir, 'a.gif'), { fps: 7, overwrite: false }), exists);
  assert.deepEqual(readdirSync(dir), ['a.gif']);
});

test('checkFileWritable: missing folder, a directory, an existing file without overwrite', async () => {
  const dir = freshDir();
  await checkFileWritable(join(dir, 'lat.safetensors'), { overwrite: false });
  await assert.rejects(
    checkFileWritable(join(dir, 'nope', 'lat.safetensors')),
    (e: unknown) => e instanceof VideoOutputError && e.problem === 'unwritable' && /does not exist/.test(e.message),
  );
  mkdirSync(join(dir, 'sub'));
  await assert.rejects(checkFileWritable(join(dir, 'sub')), /is a directory/);
  writeFileSync(join(dir, 'old.safetensors'), 'x');
  await assert.rejects(checkFileWritable(join(dir, 'old.safetensors'), { overwrite: false }), exists);
  await checkFileWritable(join(dir, 'old.safetensors'), { overwrite: true });
  assert.deepEqual(readdirSync(dir).sort(), ['old.safetensors', 'sub']); // the probe file is gone
});

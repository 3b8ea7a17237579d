/**
 * `svd generate` with several seeds and images: one output per video, named per video, each with its sidecar; a
 * video of the batch is byte-identical to the same video generated alone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const G = `${GOLDEN_DIR}pipeline-tiny/`;
const TINY = ['--checkpoint', `${G}checkpoint.safetensors`, '--config', `${G}config.json`, '--size', 'native'];
const FAST = ['--frames', '4', '--steps', '2', '--decode-chunk', '2', '--quiet', '--threads', '2'];
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'svd-batch-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function generate(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'generate', ...TINY, ...FAST, ...args], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

test('two seeds × two images: four numbered outputs with sidecars; each equals its video generated alone', () => {
  const out = join(dir, 'batch');
  const r = generate([
    '--image',
    `${G}input.png`,
    '--image',
    `${G}input.png`,
    '--seed',
    '3,4',
    '--json',
    '--out',
    `${out}/`,
  ]);
  const result = JSON.parse(r.stdout) as { videos: { index: number; seed: number; output: string }[] };
  assert.deepEqual(
    result.videos.map((v) => [v.index, v.seed]),
    [
      [0, 3],
      [1, 4],
      [2, 3],
      [3, 4],
    ],
  );
  assert.deepEqual(readdirSync(out).sort(), ['00', '01', '02', '03']);
  for (const [k, seed] of [
    ['00', 3],
    ['01', 4],
  ] as const) {
    const sidecar = JSON.parse(readFileSync(join(out, k, 'video.json'), 'utf8'));
    assert.equal(sidecar.params.seed, seed);
    assert.deepEqual(sidecar.video, { index: Number(k), of: 4 });
  }
  const single = join(dir, 'single');
  generate(['--image', `${G}input.png`, '--seed', '4', '--out', `${single}/`]);
  const frames = readdirSync(single).filter((f) => f.endsWith('.png'));
  assert.equal(frames.length, 4);
  for (const f of frames) {
    assert.ok(readFileSync(join(single, f)).equals(readFileSync(join(out, '01', f))), `${f}: batch = alone`);
    assert.ok(readFileSync(join(out, '01', f)).equals(readFileSync(join(out, '03', f))), `${f}: same image, same seed`);
  }
  assert.ok(!readFileSync(join(out, '00', frames[3])).equals(readFileSync(join(out, '01', frames[3]))), 'seeds differ');
});

test('--num-videos N numbers video files beside --out', () => {
  const out = join(dir, 'clip.gif');
  generate(['--image', `${G}input.png`, '--seed', '7', '--num-videos', '2', '--out', out]);
  assert.deepEqual(
    readdirSync(dir)
      .filter((f) => f.startsWith('clip'))
      .sort(),
    ['clip_00.gif', 'clip_00.gif.json', 'clip_01.gif', 'clip_01.gif.json'],
  );
  assert.equal(JSON.parse(readFileSync(join(dir, 'clip_01.gif.json'), 'utf8')).params.seed, 8);
});

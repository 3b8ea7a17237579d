/**
 * `svd generate` takes its sizes from the model: a `--config` model's default output size, frames, steps and fps are
 * its own (64×64, 4 frames, 4 steps, 7 fps for the tiny golden config — not the released models' 1024×576); the
 * "trained at" warning names the model's size; an input much smaller than the output warns; `--size native` rounds
 * the image's size down to the model's multiple with a warning, as the reference script does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const G = `${GOLDEN_DIR}pipeline-tiny/`;
const TINY = ['--checkpoint', `${G}checkpoint.safetensors`, '--config', `${G}config.json`, '--threads', '2', '--quiet'];
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svd-sizes-'));
  const grey = (width: number, height: number) =>
    sharp({ create: { width, height, channels: 3, background: '#808080' } }).png();
  await grey(60, 40).toFile(join(dir, '60x40.png'));
  await grey(1, 1).toFile(join(dir, '1x1.png'));
  await grey(8, 8).toFile(join(dir, '8x8.png'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function generate(args: string[]) {
  return spawnSync(process.execPath, [BIN, 'generate', ...TINY, ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** Runs to completion; returns the warnings printed and the sidecar written. */
function generated(name: string, args: string[]) {
  const out = join(dir, `${name}.mp4`);
  const r = generate([...args, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const sidecar = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
  return { warnings: r.stderr.split('\n').filter((l) => l.startsWith('warning:')), sidecar };
}

test("a --config model's defaults are its own: 64×64, 4 frames, 4 steps, 7 fps, no size warning", () => {
  const { warnings, sidecar } = generated('defaults', ['--image', `${G}input.png`]);
  assert.deepEqual([sidecar.width, sidecar.height], [64, 64]);
  assert.equal(sidecar.frames, 4);
  assert.equal(sidecar.params.steps, 4);
  assert.equal(sidecar.fps, 7);
  assert.deepEqual(warnings, []);
});

test("another size warns naming the model's own trained size; a much smaller input warns that it is upscaled", () => {
  const { warnings, sidecar } = generated('small', [
    ...['--image', join(dir, '1x1.png'), '--size', '128x64', '--frames', '2', '--steps', '1'],
  ]);
  assert.deepEqual([sidecar.width, sidecar.height], [128, 64]);
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings.join('\n'), /input image 1×1 is much smaller than the 128×64 output \(upscaled 128×\)/);
  assert.match(warnings.join('\n'), /frame size 128×64 \(W×H\) differs from the 64×64 the model was trained at/);
});

test('--size native rounds down to the multiple (16 here) with a warning; an image below it is refused', () => {
  const { warnings, sidecar } = generated('native', [
    ...['--image', join(dir, '60x40.png'), '--size', 'native', '--frames', '2', '--steps', '1'],
  ]);
  assert.deepEqual([sidecar.width, sidecar.height], [48, 32]);
  assert.deepEqual(sidecar.preprocessing.resized, { width: 48, height: 32 });
  assert.match(warnings[0] ?? '', /image size 60×40 is not a multiple of 16: resized to 48×32 \(rounded down/);
  const r = generate(['--image', join(dir, '8x8.png'), '--size', 'native', '--out', join(dir, 'none.mp4')]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr.trim(), /^svd generate: image size 8×8 \(W×H\) is smaller than the model's 16-pixel multiple/);
});

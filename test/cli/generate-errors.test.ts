/**
 * svd generate on bad input: one line naming the value and what was expected, a non-zero exit code, no stack trace,
 * no output file. (Ctrl-C: ./generate-interrupt.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const G = `${GOLDEN_DIR}pipeline-tiny/`;
let dir: string;

const TINY = [
  '--checkpoint',
  `${G}checkpoint.safetensors`,
  '--config',
  `${G}config.json`,
  '--frames',
  '4',
  '--steps',
  '2',
];

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, 'generate', ...args], { encoding: 'utf8', timeout: 120_000, cwd: dir });
}

function expectFailure(args: string[], code: number, pattern: RegExp) {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.mp4`);
  const r = run([...args, '--out', out, '--quiet']);
  assert.equal(r.status, code, `exit code for ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('warning:') && !l.startsWith('ignoring'));
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('out-')),
    [],
    'no output file',
  );
}

describe('svd generate: bad input', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'svd-bad-'));
    writeFileSync(join(dir, 'not-an-image.png'), 'hello');
    writeFileSync(join(dir, 'empty.png'), '');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .png()
      .toFile(join(dir, 'tiny.png'));
    writeFileSync(join(dir, 'not-safetensors.safetensors'), 'PK\x03\x04 zip?');
    copyFileSync(`${G}checkpoint.safetensors`, join(dir, 'truncated.safetensors'));
    truncateSync(join(dir, 'truncated.safetensors'), 4_000_000);
    mkdirSync(join(dir, 'readonly'));
    chmodSync(join(dir, 'readonly'), 0o500);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const img = `${G}input.png`;
  test('missing image', () => expectFailure(['--image', 'nope.png', ...TINY], 1, /nope\.png/));
  test('not an image', () => expectFailure(['--image', 'not-an-image.png', ...TINY], 1, /not-an-image\.png/));
  test('zero-size image file', () => expectFailure(['--image', 'empty.png', ...TINY], 1, /empty\.png/));
  test('size not fitting the model', () =>
    expectFailure(['--image', img, ...TINY, '--size', '100x60'], 2, /--size "100x60": .*multiples of 16.*96x48/));
  test('native size below the model’s multiple', () =>
    expectFailure(['--image', 'tiny.png', ...TINY, '--size', 'native'], 1, /8×8 .*smaller than the model's 16-pixel/));
  test('unknown preset', () =>
    expectFailure(
      ['--image', img, '--checkpoint', `${G}checkpoint.safetensors`, '--preset', 'svd-9000'],
      2,
      /--preset "svd-9000": expected one of svd, svd-xt/,
    ));
  test('missing checkpoint', () =>
    expectFailure(['--image', img, ...TINY.slice(2), '--checkpoint', 'nope.safetensors'], 1, /nope\.safetensors/));
  test('not a safetensors checkpoint', () =>
    expectFailure(
      ['--image', img, ...TINY.slice(2), '--checkpoint', 'not-safetensors.safetensors'],
      1,
      /not-safetensors/,
    ));
  test('truncated checkpoint', () =>
    expectFailure(['--image', img, ...TINY.slice(2), '--checkpoint', 'truncated.safetensors'], 1, /truncated/));
  test('checkpoint of another model', () =>
    expectFailure(
      ['--image', img, '--checkpoint', `${G}checkpoint.safetensors`, '--preset', 'svd'],
      1,
      /missing|wrong shape|unexpected/i,
    ));
  test('frames < 1', () =>
    expectFailure(['--image', img, ...TINY, '--frames', '0'], 2, /--frames "0": expected an integer from 1/));
  test('steps < 1', () => expectFailure(['--image', img, ...TINY, '--steps=-3'], 2, /--steps "-3"/));
  test('negative cfg', () =>
    expectFailure(['--image', img, ...TINY, '--max-cfg=-1'], 2, /--max-cfg "-1": expected a number ≥ 0/));
  test('unknown sampler', () =>
    expectFailure(['--image', img, ...TINY, '--sampler', 'ddim'], 2, /--sampler "ddim": expected one of/));
  test('--dtype is not offered (every provider computes in float32)', () =>
    expectFailure(['--image', img, ...TINY, '--dtype', 'float16'], 2, /--dtype is not offered.*float32/));
  test('negative numbers get the range message, not the parser’s', () =>
    expectFailure(['--image', img, ...TINY, '--frames', '-5'], 2, /--frames "-5": expected an integer from 1/));
  test('contradictions', () =>
    expectFailure(['--image', img, ...TINY, '--min-cfg', '3', '--max-cfg', '1'], 2, /--min-cfg "3": expected at most/));
  test('--noise with several videos', () =>
    expectFailure(
      ['--image', img, ...TINY, '--seed', '1,2', '--noise', `${G}noise.safetensors`],
      2,
      /--noise .*a single video/,
    ));
  test('unwritable output', () => {
    const r = run(['--image', img, ...TINY, '--out', join(dir, 'readonly', 'sub', 'x.mp4')]);
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /x\.mp4|readonly/);
  });
  test('motion bucket outside 0–255 only warns', () => {
    const out = join(dir, 'warned');
    const r = run([
      '--image',
      img,
      ...TINY,
      '--size',
      'native',
      '--motion-bucket',
      '300',
      '--out',
      `${out}/`,
      '--quiet',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: motion bucket 300 is outside the trained range 0–255/);
  });
});

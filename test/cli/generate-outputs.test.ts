/**
 * Outputs are never lost or mixed, through the CLI: without --out, videos are numbered in outputs/ after the highest
 * number there and never replace a file; an existing output, a frames folder holding an earlier run's frames or a
 * tensor file is refused before any compute unless --overwrite (exit 2, one line), as is a name without an
 * extension; replacing a 3-frame folder with 2 frames leaves no stale frame. svd orbit shares the rules.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
const G = `${GOLDEN_DIR}pipeline-tiny/`;
const TINY = ['--image', `${G}input.png`, '--checkpoint', `${G}checkpoint.safetensors`, '--config', `${G}config.json`];
const FAST = ['--frames', '2', '--steps', '1', '--size', 'native', '--threads', '1'];
const U = `${GOLDEN_DIR}pipeline-sv3d-u-tiny/`;
const ORBIT = ['--image', `${U}input.png`, '--checkpoint', `${U}checkpoint.safetensors`, '--config', `${U}config.json`];
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'svd-outputs-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stderr: string;
}

/** Runs `svd ARGS` in `cwd` without blocking (refusals run in parallel). */
function svd(cwd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('without --out: numbered in outputs/ after the highest number, never replacing a file', async () => {
  const cwd = mkdtempSync(join(dir, 'numbered-'));
  mkdirSync(join(cwd, 'outputs'));
  writeFileSync(join(cwd, 'outputs', '000000.mp4'), 'earlier');
  writeFileSync(join(cwd, 'outputs', '000002.gif'), 'earlier');
  const r = await svd(cwd, ['generate', ...TINY, ...FAST, '--seed', '1,2', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(join(cwd, 'outputs')).sort(), [
    '000000.mp4',
    '000002.gif',
    '000003.mp4',
    '000003.mp4.json',
    '000004.mp4',
    '000004.mp4.json',
  ]);
  assert.equal(readFileSync(join(cwd, 'outputs', '000000.mp4'), 'utf8'), 'earlier');
  assert.equal(JSON.parse(readFileSync(join(cwd, 'outputs', '000004.mp4.json'), 'utf8')).params.seed, 2);
});

test('existing outputs and names without an extension are refused before any compute, in one line', async () => {
  const cwd = mkdtempSync(join(dir, 'refused-'));
  writeFileSync(join(cwd, 'old.gif'), 'earlier');
  writeFileSync(join(cwd, 'lat.safetensors'), 'earlier');
  mkdirSync(join(cwd, 'frames'));
  writeFileSync(join(cwd, 'frames', 'frame_0000.png'), 'earlier');
  // More cases (sidecars, shared paths, tensor files) in test/pipeline/output-plan.test.ts.
  const cases: [string[], RegExp][] = [
    [
      ['--out', 'old.gif'],
      /^svd generate: --out "old\.gif": expected a new path: it exists \(--overwrite replaces it\)$/,
    ],
    [['--out', 'frames'], /^svd generate: --out "frames": expected a new path: it holds an earlier run’s frames/],
    [
      ['--out', 'clip'],
      /^svd generate: --out "clip": expected a video file \(\.mp4, \.webm, \.gif, \.webp\) or a folder/,
    ],
    [['--out', 'a.gif', '--save-latents', 'lat.safetensors'], /--save-latents "lat\.safetensors": expected a new/],
  ];
  const runs = await Promise.all(cases.map(([args]) => svd(cwd, ['generate', ...TINY, ...FAST, ...args])));
  runs.forEach((r, i) => {
    const [args, pattern] = cases[i];
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line for ${args.join(' ')}, no progress (nothing computed): ${r.stderr}`);
    assert.match(lines[0], pattern);
  });
  assert.deepEqual(readdirSync(cwd).sort(), ['frames', 'lat.safetensors', 'old.gif']);
  assert.deepEqual(readdirSync(join(cwd, 'frames')), ['frame_0000.png']);
  assert.equal(readFileSync(join(cwd, 'old.gif'), 'utf8'), 'earlier');
});

test('--overwrite: a frames folder keeps no stale frame of an earlier run, nor loses its other files', async () => {
  const cwd = mkdtempSync(join(dir, 'overwrite-'));
  mkdirSync(join(cwd, 'f'));
  for (const name of ['frame_0000.png', 'frame_0001.png', 'frame_0002.png', 'video.json', 'notes.txt']) {
    writeFileSync(join(cwd, 'f', name), 'earlier');
  }
  writeFileSync(join(cwd, 'lat.safetensors'), 'earlier');
  const r = await svd(cwd, [
    'generate',
    ...TINY,
    ...FAST,
    '--out',
    'f/',
    '--save-latents',
    'lat.safetensors',
    '--overwrite',
    '--quiet',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(join(cwd, 'f')).sort(), ['frame_0000.png', 'frame_0001.png', 'notes.txt', 'video.json']);
  assert.equal(JSON.parse(readFileSync(join(cwd, 'f', 'video.json'), 'utf8')).frames, 2);
  assert.notEqual(readFileSync(join(cwd, 'f', 'frame_0001.png'), 'utf8'), 'earlier');
  assert.equal(readFileSync(join(cwd, 'f', 'notes.txt'), 'utf8'), 'earlier');
  assert.notEqual(readFileSync(join(cwd, 'lat.safetensors'), 'utf8'), 'earlier');
});

test('svd orbit: the same rules (an existing output, a name without an extension)', async () => {
  const cwd = mkdtempSync(join(dir, 'orbit-'));
  writeFileSync(join(cwd, 'old.mp4'), 'earlier');
  const [exists, noExt] = await Promise.all([
    svd(cwd, ['orbit', ...ORBIT, '--out', 'old.mp4']),
    svd(cwd, ['orbit', ...ORBIT, '--out', 'turn']),
  ]);
  assert.equal(exists.code, 2, exists.stderr);
  assert.match(exists.stderr, /^svd orbit: --out "old\.mp4": expected a new path: it exists/);
  assert.equal(noExt.code, 2, noExt.stderr);
  assert.match(noExt.stderr, /^svd orbit: --out "turn": expected a video file/);
  assert.deepEqual(readdirSync(cwd), ['old.mp4']);
});

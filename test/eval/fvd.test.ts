/**
 * FVD end to end on tiny sets (2 + 2 videos, 10 frames, I3D with formula-made weights written to a safetensors file
 * at test time): the plumbing (decode, I3D, statistics, distance) and the CLI's usage errors. I3D itself and the
 * Fréchet distance are checked against their references in i3d.test.ts and metrics.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fvd, listVideoFiles } from '../../src/eval/fvd.ts';
import { i3dGraph } from '../../src/eval/i3d.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { writeSafetensors } from '../../src/weights/index.ts';

const BIN = fileURLToPath(new URL('../../bin/svd.mjs', import.meta.url));
let dir: string;
let weights: string;
const ffmpeg = (args: string[]) => {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svd-fvd-'));
  for (const [set, src] of [
    ['a', ['testsrc2', 'testsrc']],
    ['b', ['mandelbrot', 'life']],
  ] as const) {
    mkdirSync(join(dir, set));
    for (const s of src)
      ffmpeg([
        '-f',
        'lavfi',
        '-i',
        `${s}=size=96x96:rate=8`,
        '-frames:v',
        '10',
        '-pix_fmt',
        'yuv420p',
        join(dir, set, `${s}.mp4`),
      ]);
  }
  const graph = i3dGraph(1, 10, 224, 224, true);
  const tensors = new Map<string, HostTensor>();
  graph.inputs.forEach((input, k) => {
    if (input.kind !== 'weight') return;
    const shape = graph.values[input.value].shape;
    const n = shape.reduce((a, d) => a * d, 1);
    const data = new Float32Array(n);
    const fanIn = n / shape[0];
    for (let i = 0; i < n; i++) {
      const s = Math.sin(0.37 * i + 0.11 * k);
      data[i] = input.name.endsWith('conv3d.weight')
        ? (2 * s) / Math.sqrt(fanIn) // std √2/√fan_in (He): activations keep their scale through the 20 layers
        : input.name.endsWith('bn.weight') || input.name.endsWith('running_var')
          ? 1 + 0.1 * Math.abs(s)
          : 0.1 * s;
    }
    tensors.set(input.name, new HostTensor('float32', shape, data));
  });
  weights = join(dir, 'i3d.safetensors');
  await writeSafetensors(weights, tensors);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('two sets of videos: a finite, non-negative distance over their I3D logits; too few frames is refused', {
  timeout: 600_000,
}, async () => {
  const a = await listVideoFiles(join(dir, 'a'));
  const b = await listVideoFiles(join(dir, 'b'));
  assert.equal(a.length, 2);
  // (random-weight I3D logits barely tell videos apart, so only the plumbing is asserted here; the network and the
  // distance are checked against their references in i3d.test.ts and metrics.test.ts)
  const ab = await fvd(a, b, { weights, frames: 10, threads: 2 });
  assert.ok(Number.isFinite(ab.fvd) && ab.fvd >= -1e-9, `${ab.fvd}`);
  assert.deepEqual([ab.real, ab.fake, ab.frames], [2, 2, 10]);
  await assert.rejects(fvd(a, b, { weights, frames: 12 }), /has 10 frames/);
});

test('svd eval fvd usage errors', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'eval', 'fvd', ...args], { encoding: 'utf8' });
  assert.equal(run(['--real', dir]).status, 2);
  assert.equal(run(['--real', dir, '--fake', dir]).status, 2, 'no weights');
  assert.equal(run(['--real', dir, '--fake', dir, '--i3d-weights', weights, '--frames', '4']).status, 2);
});

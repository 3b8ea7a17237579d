/**
 * LPIPS (AlexNet, v0.1) against the `lpips` package run under PyTorch 1.13 on the same formula-made weights and inputs
 * (scripts/make-lpips-vectors.py → test/fixtures/eval/lpips-vectors.json), the max-pool composite, and the loader's key
 * mapping (torchvision `features.<i>` → `net.slice<k>.<i>`).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LPIPS_ALEX_CHANNELS, loadLpipsWeights, lpipsGraph, maxPool3x3s2 } from '../../src/eval/lpips.ts';
import { GraphBuilder } from '../../src/graph/builder.ts';
import * as op from '../../src/graph/ops/index.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';

const FIX = fileURLToPath(new URL('../fixtures/eval/', import.meta.url));
const V = JSON.parse(readFileSync(`${FIX}lpips-vectors.json`, 'utf8')) as {
  size: number;
  pairs: { noise: number; distance: number }[];
};
let engine: Engine;
before(async () => {
  engine = await Engine.create({ threads: 2 });
});
after(async () => engine?.dispose());

function formula(shape: number[], layer: number, bound: number, square = false): HostTensor {
  const n = shape.reduce((a, d) => a * d, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = bound * Math.sin(0.7 * i + 1.3 * (layer + 1));
    data[i] = square ? Math.fround(v) ** 2 : v;
  }
  return new HostTensor('float32', shape, data);
}

test('the distance equals the lpips package on three image pairs', async () => {
  const convs: [string, number[]][] = [
    ['net.slice1.0', [64, 3, 11, 11]],
    ['net.slice2.3', [192, 64, 5, 5]],
    ['net.slice3.6', [384, 192, 3, 3]],
    ['net.slice4.8', [256, 384, 3, 3]],
    ['net.slice5.10', [256, 256, 3, 3]],
  ];
  const weights: Record<string, HostTensor> = {};
  convs.forEach(([name, shape], layer) => {
    const bound = 1 / Math.sqrt(shape[1] * shape[2] * shape[3]);
    weights[`${name}.weight`] = formula(shape, layer, bound);
    weights[`${name}.bias`] = formula([shape[0]], layer + 10, bound);
  });
  LPIPS_ALEX_CHANNELS.forEach((c, k) => {
    weights[`lin${k}.model.1.weight`] = formula([1, c, 1, 1], k + 20, 0.1, true);
  });
  await engine.setWeights(weights);
  const s = V.size;
  const base = new Float32Array(3 * s * s);
  for (let y = 0; y < s; y++)
    for (let x = 0; x < s; x++) {
      base[y * s + x] = Math.sin(x / 6) * Math.cos(y / 4);
      base[s * s + y * s + x] = Math.cos((x - y) / 8);
      base[2 * s * s + y * s + x] = ((x * 3 + y) % 23) / 11.5 - 1;
    }
  const graph = lpipsGraph(1, s, s);
  for (const pair of V.pairs) {
    const other = new Float32Array(base.length);
    for (let i = 0; i < base.length; i++) {
      const h = (Math.sin(12.9898 * i) * 43758.5453) % 1;
      const u = h < 0 ? h + 1 : h; // numpy's mod is non-negative
      other[i] = Math.min(1, Math.max(-1, base[i] + pair.noise * (2 * u - 1)));
    }
    const out = await engine.run(graph, {
      in0: new HostTensor('float32', [1, 3, s, s], base),
      in1: new HostTensor('float32', [1, 3, s, s], other),
    });
    const d = (out.distance.data as Float32Array)[0];
    assert.ok(Math.abs(d - pair.distance) <= 1e-5 * Math.abs(pair.distance) + 1e-8, `${d} vs ${pair.distance}`);
  }
});

test('max-pool 3×3 / 2 equals a direct computation', async () => {
  const b = new GraphBuilder('pool');
  const x = b.input('x', [1, 1, 7, 6]);
  b.output('y', maxPool3x3s2(op.mul(x, 1)));
  const data = Float32Array.from({ length: 42 }, (_, i) => Math.sin(i * 1.7));
  const y = (await engine.run(b.build(), { x: new HostTensor('float32', [1, 1, 7, 6], data) })).y;
  assert.deepEqual(y.shape, [1, 1, 3, 2]);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 2; j++) {
      let m = Number.NEGATIVE_INFINITY;
      for (let a = 0; a < 3; a++) for (let c = 0; c < 3; c++) m = Math.max(m, data[(2 * i + a) * 6 + 2 * j + c]);
      assert.equal((y.data as Float32Array)[i * 2 + j], m);
    }
});

test('weights: torchvision AlexNet keys map onto the LPIPS slices; incomplete sets are refused', async () => {
  const w = await loadLpipsWeights([`${FIX}lpips-trunk-keys.pth`, `${FIX}lpips-lin-keys.pth`]);
  assert.equal(w.get('net.slice1.0.bias')!.data[0], 2);
  assert.equal(w.get('lin3.model.1.weight')!.data[0], 3);
  assert.ok(!w.has('classifier.1.weight'));
  await assert.rejects(loadLpipsWeights([`${FIX}lpips-lin-keys.pth`]), /missing net\.slice1\.0\.weight/);
});

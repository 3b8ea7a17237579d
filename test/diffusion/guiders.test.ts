/**
 * CFG guiders: per-frame scales against golden/schedules.json (bit for bit, ≤ 1e-6), the guidance formula on the
 * [uncond; cond] batch, and `guidedDenoiser` (one call on 2N rows or two calls on N rows give the same result).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CfgDenoiser,
  conditionalDenoiser,
  guidedDenoiser,
  linearGuiderScales,
  linearPredictionGuider,
  perFrameGuider,
  triangleGuiderScales,
  trianglePredictionGuider,
  vanillaCfg,
} from '../../src/diffusion/guiders.ts';
import { hexes, relErr, schedulesJson } from './helpers.ts';

describe('guider scales', () => {
  for (const key of ['frames_14_1.0_to_2.5', 'frames_25_1.5_to_3.0']) {
    test(`linear ${key} matches the reference bit for bit`, () => {
      const g = schedulesJson.linear_guider[key];
      const scales = linearGuiderScales(g.min_scale, g.max_scale, g.num_frames);
      assert.ok(relErr(scales, g.values) <= 1e-6);
      assert.deepEqual(hexes(scales), g.float32_bits_hex);
    });
  }

  test('triangle (21 frames, 1.0 → 2.5, period 1) matches the reference bit for bit', () => {
    const g = schedulesJson.triangle_guider;
    const scales = triangleGuiderScales(g.params.min_scale, g.params.max_scale, g.params.num_frames);
    assert.ok(relErr(scales, g.values) <= 1e-6);
    assert.deepEqual(hexes(scales), g.float32_bits_hex);
  });

  test('triangle with several periods and each fusing mode', () => {
    const tri = (v: number, p: number) => 2 * Math.abs(v / p - Math.floor(v / p + 0.5));
    const t = 9;
    const v = Array.from({ length: t }, (_, i) => i / (t - 1));
    const expect = (fuse: (a: number, b: number) => number) => v.map((x) => fuse(tri(x, 1), tri(x, 0.5)) * 2 + 1);
    assert.ok(relErr(triangleGuiderScales(1, 3, t, [1, 0.5], 'max'), expect(Math.max)) <= 1e-6);
    assert.ok(
      relErr(
        triangleGuiderScales(1, 3, t, [1, 0.5], 'mean'),
        expect((a, b) => (a + b) / 2),
      ) <= 1e-6,
    );
    assert.ok(
      relErr(
        triangleGuiderScales(1, 3, t, [1, 0.5], 'multiply'),
        expect((a, b) => a * b),
      ) <= 1e-6,
    );
  });
});

/** A CFG batch of 2N rows of `size` elements: uncond rows first. */
function cfgBatch(rows: number, size: number): { batch: Float32Array; sigma: Float32Array } {
  const batch = Float32Array.from({ length: 2 * rows * size }, (_, i) => Math.cos(1.7 * i) * 3);
  return { batch, sigma: new Float32Array(2 * rows).fill(5) };
}

describe('guiders', () => {
  test('vanillaCfg: x_u + s·(x_c − x_u)', () => {
    const { batch, sigma } = cfgBatch(3, 5);
    const out = vanillaCfg(7.5)(batch, sigma);
    assert.equal(out.length, 15);
    assert.ok(
      relErr(
        out,
        Array.from(out, (_, i) => batch[i] + 7.5 * (batch[15 + i] - batch[i])),
      ) <= 1e-6,
    );
    // float32 order of the reference: round(x_u + round(s·round(x_c − x_u))).
    const f = Math.fround;
    assert.deepEqual(
      Array.from(out),
      Array.from(out, (_, i) => f(batch[i] + f(7.5 * f(batch[15 + i] - batch[i])))),
    );
  });

  test('linearPredictionGuider: frame t of every video gets scale t (2 videos × 4 frames)', () => {
    const frames = 4;
    const size = 3;
    const { batch, sigma } = cfgBatch(2 * frames, size);
    const out = linearPredictionGuider(1, 2.5, frames)(batch, sigma);
    const half = 2 * frames * size;
    const expected = Array.from({ length: half }, (_, i) => {
      const s = 1 + (1.5 * (Math.floor(i / size) % frames)) / (frames - 1);
      return batch[i] + s * (batch[half + i] - batch[i]);
    });
    assert.ok(relErr(out, expected) <= 1e-6);
    assert.throws(() => linearPredictionGuider(1, 2.5, 3)(batch, sigma), /not a whole number of 3-frame videos/);
    assert.throws(() => vanillaCfg(2)(batch, sigma.subarray(1)), /even number of rows/);
  });

  test('scale 1 returns the conditional half; trianglePredictionGuider is a per-frame guider', () => {
    const { batch, sigma } = cfgBatch(3, 2);
    // Not bit for bit: x_u + 1·(x_c − x_u) rounds the difference first, in the reference too.
    assert.ok(relErr(vanillaCfg(1)(batch, sigma), batch.subarray(6)) <= 1e-7);
    const tri = trianglePredictionGuider(1, 2.5, 3);
    const same = perFrameGuider(triangleGuiderScales(1, 2.5, 3));
    assert.deepEqual(Array.from(tri(batch, sigma)), Array.from(same(batch, sigma)));
  });
});

describe('guidedDenoiser', () => {
  // A row-wise fake network: uncond rows shrink x, cond rows shift it; depends on σ and on the row's position.
  const calls: { rows: number; firstRow: number }[] = [];
  const rows = 4;
  const size = 6;
  const batchDenoiser: CfgDenoiser = async (x, sigma, firstRow) => {
    calls.push({ rows: sigma.length, firstRow });
    return x.map((v, i) => {
      const row = firstRow + Math.floor(i / size);
      const s = sigma[Math.floor(i / size)];
      return row < rows ? v / (1 + s * s) : v / (1 + s * s) + 0.25 * (row - rows + 1);
    });
  };
  const x = Float32Array.from({ length: rows * size }, (_, i) => Math.sin(i) * 4);
  const sigma = new Float32Array(rows).fill(1.5);

  test('one call on [x; x] with [σ; σ], unconditional rows first', async () => {
    calls.length = 0;
    const d = await guidedDenoiser(batchDenoiser, linearPredictionGuider(1, 2.5, rows))(x, sigma);
    assert.deepEqual(calls, [{ rows: 2 * rows, firstRow: 0 }]);
    const expected = Array.from(x, (v, i) => {
      const r = Math.floor(i / size);
      const u = v / (1 + 2.25);
      return u + (1 + 0.5 * r) * (0.25 * (r + 1));
    });
    assert.ok(relErr(d, expected) <= 1e-6);
  });

  test('split: two calls on the halves give exactly the same result', async () => {
    const guider = linearPredictionGuider(1, 2.5, rows);
    const once = await guidedDenoiser(batchDenoiser, guider)(x, sigma);
    calls.length = 0;
    const twice = await guidedDenoiser(batchDenoiser, guider, { split: true })(x, sigma);
    assert.deepEqual(calls, [
      { rows, firstRow: 0 },
      { rows, firstRow: rows },
    ]);
    assert.deepEqual(Array.from(twice), Array.from(once));
  });

  test('conditionalDenoiser evaluates only the conditional rows', async () => {
    calls.length = 0;
    const d = await conditionalDenoiser(batchDenoiser)(x, sigma);
    assert.deepEqual(calls, [{ rows, firstRow: rows }]);
    assert.ok(
      relErr(
        d,
        Array.from(x, (v, i) => v / 3.25 + 0.25 * (Math.floor(i / size) + 1)),
      ) <= 1e-6,
    );
  });

  test('a batch denoiser returning the wrong size is an error', async () => {
    const bad: CfgDenoiser = async (b) => b.subarray(2);
    await assert.rejects(guidedDenoiser(bad, vanillaCfg(2))(x, sigma), /returned/);
    await assert.rejects(guidedDenoiser(bad, vanillaCfg(2), { split: true })(x, sigma), /returned/);
  });
});

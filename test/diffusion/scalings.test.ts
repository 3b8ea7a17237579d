/**
 * Denoiser scalings, loss weightings and EDM σ sampling against golden/schedules.json (≤ 1e-6; in fact bit for bit)
 * and against their float64 formulas; the v-denoiser wrapper `makeVDenoiser` with a fake network.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeVDenoiser } from '../../src/diffusion/denoiser.ts';
import { edmWeighting, epsWeighting, unitWeighting, vWeighting } from '../../src/diffusion/loss-weighting.ts';
import { edmScaling, vScalingEdmCNoise } from '../../src/diffusion/scalings.ts';
import { edmSigmaSampling } from '../../src/diffusion/sigma-sampling.ts';
import { hexes, relErr, schedulesJson } from './helpers.ts';

const golden = schedulesJson.v_scaling_edm_c_noise;
const sigmas: number[] = golden.sigma.values; // 700, 10, 1, 0.002 (float32)

describe('vScalingEdmCNoise', () => {
  const c = vScalingEdmCNoise(sigmas);
  for (const [mine, key] of [
    [c.cSkip, 'c_skip'],
    [c.cOut, 'c_out'],
    [c.cIn, 'c_in'],
    [c.cNoise, 'c_noise'],
  ] as const) {
    test(`${key} matches the reference (≤ 1e-6, and bit for bit)`, () => {
      assert.ok(relErr(mine, golden[key].values) <= 1e-6);
      assert.deepEqual(hexes(mine), golden[key].float32_bits_hex);
    });
  }

  test('agrees with the float64 formulas', () => {
    const s = [700, 10, 1, 0.5, 0.002];
    const v = vScalingEdmCNoise(s);
    assert.ok(
      relErr(
        v.cSkip,
        s.map((x) => 1 / (x * x + 1)),
      ) <= 1e-6,
    );
    assert.ok(
      relErr(
        v.cOut,
        s.map((x) => -x / Math.sqrt(x * x + 1)),
      ) <= 1e-6,
    );
    assert.ok(
      relErr(
        v.cIn,
        s.map((x) => 1 / Math.sqrt(x * x + 1)),
      ) <= 1e-6,
    );
    assert.ok(
      relErr(
        v.cNoise,
        s.map((x) => 0.25 * Math.log(x)),
      ) <= 1e-6,
    );
  });
});

test('edmScaling agrees with the EDM formulas (σ_d = 0.5 and 1.3)', () => {
  const s = [80, 10, 1, 0.5, 0.002];
  for (const sd of [0.5, 1.3]) {
    const e = sd === 0.5 ? edmScaling(s) : edmScaling(s, sd);
    const v = s.map((x) => x * x + sd * sd);
    assert.ok(
      relErr(
        e.cSkip,
        v.map((q) => (sd * sd) / q),
      ) <= 1e-6,
    );
    assert.ok(
      relErr(
        e.cOut,
        s.map((x, i) => (x * sd) / Math.sqrt(v[i])),
      ) <= 1e-6,
    );
    assert.ok(
      relErr(
        e.cIn,
        v.map((q) => 1 / Math.sqrt(q)),
      ) <= 1e-6,
    );
    assert.ok(
      relErr(
        e.cNoise,
        s.map((x) => 0.25 * Math.log(x)),
      ) <= 1e-6,
    );
  }
  // σ_d = 1 is the v-scaling up to the sign of c_out.
  const one = edmScaling(s, 1);
  const v = vScalingEdmCNoise(s);
  assert.deepEqual(Array.from(one.cSkip), Array.from(v.cSkip));
  assert.deepEqual(
    Array.from(one.cOut),
    Array.from(v.cOut, (x) => -x),
  );
});

describe('loss weightings', () => {
  test('vWeighting matches the reference bit for bit', () => {
    const w = vWeighting(sigmas);
    assert.ok(relErr(w, golden.v_weighting.values) <= 1e-6);
    assert.deepEqual(hexes(w), golden.v_weighting.float32_bits_hex);
  });

  test('EDM, eps and unit weightings', () => {
    const s = [80, 3, 1, 0.1];
    assert.ok(
      relErr(
        edmWeighting(s),
        s.map((x) => (x * x + 0.25) / (x * 0.5) ** 2),
      ) <= 1e-6,
    );
    assert.ok(
      relErr(
        edmWeighting(s, 2),
        s.map((x) => (x * x + 4) / (x * 2) ** 2),
      ) <= 1e-6,
    );
    assert.ok(
      relErr(
        epsWeighting(s),
        s.map((x) => x ** -2),
      ) <= 1e-6,
    );
    assert.deepEqual(Array.from(unitWeighting(s)), [1, 1, 1, 1]);
  });
});

test('edmSigmaSampling: σ = exp(p_mean + p_std·z)', () => {
  const z = [-2, -0.5, 0, 0.7, 3];
  assert.ok(
    relErr(
      edmSigmaSampling(z),
      z.map((v) => Math.exp(-1.2 + 1.2 * v)),
    ) <= 1e-6,
  );
  assert.ok(
    relErr(
      edmSigmaSampling(z, 0.5, 2),
      z.map((v) => Math.exp(0.5 + 2 * v)),
    ) <= 1e-6,
  );
});

describe('makeVDenoiser', () => {
  test('D = F(c_in·x, c_noise)·c_out + x·c_skip per sample', async () => {
    const sigma = new Float32Array([700, 2, 0.05]); // three samples of 4 elements
    const x = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1) * (i < 4 ? 700 : 2));
    const seen: { xScaled: Float32Array; cNoise: Float32Array; tag: string }[] = [];
    // A fake network: F(z, c) = 0.5·z − c (per sample), recording its inputs.
    const denoiser = makeVDenoiser(async (xScaled: Float32Array, cNoise: Float32Array, tag: string) => {
      seen.push({ xScaled, cNoise, tag });
      return xScaled.map((z, i) => 0.5 * z - cNoise[Math.floor(i / 4)]);
    });
    const d = await denoiser(x, sigma, 'extra argument');
    assert.equal(seen.length, 1);
    assert.equal(seen[0].tag, 'extra argument');
    const s = Array.from(sigma);
    const cIn = s.map((v) => 1 / Math.sqrt(v * v + 1));
    const expectScaled = Array.from(x, (v, i) => v * cIn[Math.floor(i / 4)]);
    assert.ok(relErr(seen[0].xScaled, expectScaled) <= 1e-6);
    assert.ok(
      relErr(
        seen[0].cNoise,
        s.map((v) => 0.25 * Math.log(v)),
      ) <= 1e-6,
    );
    const expected = Array.from(x, (v, i) => {
      const q = s[Math.floor(i / 4)];
      const f = 0.5 * v * (1 / Math.sqrt(q * q + 1)) - 0.25 * Math.log(q);
      return f * (-q / Math.sqrt(q * q + 1)) + v / (q * q + 1);
    });
    assert.ok(relErr(d, expected) <= 1e-6);
    // Same float32 operations as sgm: round(round(F·c_out) + round(x·c_skip)).
    const c = vScalingEdmCNoise(sigma);
    const raw = seen[0].xScaled.map((z, i) => 0.5 * z - seen[0].cNoise[Math.floor(i / 4)]);
    const torchOrder = Float32Array.from(x, (v, i) => {
      const r = Math.floor(i / 4);
      return Math.fround(raw[i] * c.cOut[r]) + Math.fround(v * c.cSkip[r]);
    });
    assert.deepEqual(Array.from(d), Array.from(torchOrder));
  });

  test('rejects a batch that is not whole rows, and a network output of the wrong size', async () => {
    const denoiser = makeVDenoiser(async (z) => z);
    await assert.rejects(denoiser(new Float32Array(5), new Float32Array([1, 1])), RangeError);
    const bad = makeVDenoiser(async (z) => z.subarray(1));
    await assert.rejects(bad(new Float32Array(4), new Float32Array([1])), /returned 3 elements/);
  });
});

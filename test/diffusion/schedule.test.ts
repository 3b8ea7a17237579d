/**
 * EDM schedule and torch.linspace emulation against golden/schedules.json (bit for bit), the initial-noise factor,
 * and the exact float32 fused multiply-add.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fmaF32 } from '../../src/diffusion/float32.ts';
import { torchLinspaceF32 } from '../../src/diffusion/linspace.ts';
import { edmSigmas, initNoiseMultiplier, scaleInitialNoise } from '../../src/diffusion/schedule.ts';
import { hexes, schedulesJson } from './helpers.ts';

describe('edmSigmas', () => {
  for (const n of [4, 25, 30]) {
    test(`${n} steps equal the reference bit for bit`, () => {
      const golden = schedulesJson.edm_sigmas[`steps_${n}`];
      const sigmas = edmSigmas(n); // sigmaMin 0.002, sigmaMax 700, rho 7
      assert.equal(sigmas.length, n + 1);
      assert.deepEqual(hexes(sigmas), golden.float32_bits_hex);
      assert.equal(sigmas[n], 0);
      assert.equal(initNoiseMultiplier(sigmas[0]), golden.sampler_init_noise_multiplier_sqrt_1_plus_sigma0_sq);
    });
  }

  test('the first and last levels are the float32 values of the spec', () => {
    const s = edmSigmas(25);
    assert.equal(s[0], 700.0001220703125);
    assert.equal(s[24], 0.0020000035874545574);
    assert.equal(initNoiseMultiplier(700.0001220703125), 700.0008544921875);
  });

  test('options and validation', () => {
    const s = edmSigmas(10, { sigmaMin: 0.002, sigmaMax: 80, rho: 7 });
    assert.ok(Math.abs(s[0] - 80) < 1e-4 && Math.abs(s[9] - 0.002) < 1e-8);
    for (let i = 0; i < 10; i++) assert.ok(s[i] > s[i + 1]);
    assert.deepEqual(Array.from(edmSigmas(1)), [Math.fround(700.0001220703125), 0]);
    assert.throws(() => edmSigmas(0), RangeError);
    assert.throws(() => edmSigmas(2.5), RangeError);
    assert.throws(() => edmSigmas(4, { sigmaMin: 1, sigmaMax: 0.5 }), RangeError);
  });

  test('scaleInitialNoise multiplies in float32', () => {
    const noise = new Float32Array([1, -0.5, 2.25]);
    const x = scaleInitialNoise(noise, 700.0001220703125);
    assert.deepEqual(Array.from(x), [
      700.0008544921875,
      Math.fround(-0.5 * 700.0008544921875),
      Math.fround(2.25 * 700.0008544921875),
    ]);
    assert.deepEqual(Array.from(noise), [1, -0.5, 2.25]); // not modified
  });
});

describe('torchLinspaceF32', () => {
  test('small cases and exact ends', () => {
    assert.deepEqual(Array.from(torchLinspaceF32(0, 1, 0)), []);
    assert.deepEqual(Array.from(torchLinspaceF32(3, 5, 1)), [3]);
    assert.deepEqual(Array.from(torchLinspaceF32(0, 1, 2)), [0, 1]);
    assert.deepEqual(Array.from(torchLinspaceF32(0, 1, 5)), [0, 0.25, 0.5, 0.75, 1]);
    for (const n of [3, 7, 16, 17, 25, 33, 100]) {
      const v = torchLinspaceF32(-1.3, 2.7, n);
      assert.equal(v[0], Math.fround(-1.3));
      assert.equal(v[n - 1], Math.fround(2.7));
      for (let i = 0; i < n; i++) assert.ok(Math.abs(v[i] - (-1.3 + (4 * i) / (n - 1))) < 1e-6);
    }
    assert.throws(() => torchLinspaceF32(0, 1, -1), RangeError);
  });

  test('the kernel details matter: a plain float32 ramp misses 3 of the 25-step golden sigmas', () => {
    // `start + step·i` (or `end − step·(n−1−i)`) with each operation rounded, no vector lanes, no fused multiply-add.
    const n = 25;
    const step = Math.fround(1 / (n - 1));
    const plain = Float32Array.from({ length: n }, (_, i) =>
      i < 12 ? Math.fround(step * i) : Math.fround(1 - Math.fround(step * (n - 1 - i))),
    );
    const span = Math.fround(0.002 ** (1 / 7) - 700 ** (1 / 7));
    const offset = Math.fround(700 ** (1 / 7));
    const sigmas = Array.from(plain, (r) => Math.fround(Math.fround(offset + Math.fround(r * span)) ** 7));
    const golden: string[] = schedulesJson.edm_sigmas.steps_25.float32_bits_hex;
    const wrong = hexes(sigmas).flatMap((h, i) => (h === golden[i] ? [] : [i]));
    assert.deepEqual(wrong, [13, 14, 19]);
    const emulated = torchLinspaceF32(0, 1, n);
    assert.deepEqual(
      [13, 14, 19].map((i) => emulated[i] !== plain[i]),
      [true, true, true],
    );
  });
});

describe('fmaF32', () => {
  test('rounds a·b + c once', () => {
    assert.equal(fmaF32(2, 3, 1), 7);
    const eps = 2 ** -24;
    // 1 + 2^-24 is a float32 midpoint: double rounding would give 1 (ties to even); any extra term decides.
    assert.equal(fmaF32(eps, 1, 1), 1);
    assert.equal(fmaF32(eps, 1 + 2 ** -23, 1), 1 + 2 ** -23);
    assert.equal(fmaF32(2 ** -30, 2 ** -30, 1 + eps), 1 + 2 ** -23); // p tiny, s = midpoint, err > 0 → up
    assert.equal(fmaF32(-(2 ** -30), 2 ** -30, 1 + eps), 1); // err < 0 → down
    assert.equal(fmaF32(-3, 5, 15), 0);
  });
});

/**
 * PSNR, SSIM and the Fréchet distance against independent implementations (test/fixtures/eval/vectors.json, made by
 * scripts/make-eval-vectors.py with scikit-image 0.19.3 and scipy's sqrtm-based FID formula).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FeatureStats, frechetDistance, frechetDistanceOf, sqrtSymmetric } from '../../src/eval/frechet.ts';
import { planesFromInterleaved, psnr, ssim } from '../../src/eval/psnr-ssim.ts';

const V = JSON.parse(readFileSync(new URL('../fixtures/eval/vectors.json', import.meta.url), 'utf8')) as {
  images: { height: number; width: number; a: number[]; b: number[]; psnr: number; ssim: number }[];
  frechet: { dim: number; x: number[]; y: number[]; distance: number }[];
};

test('PSNR and SSIM equal scikit-image on three image pairs', () => {
  for (const v of V.images) {
    const a = planesFromInterleaved(Uint8Array.from(v.a), v.width, v.height);
    const b = planesFromInterleaved(Uint8Array.from(v.b), v.width, v.height);
    assert.ok(Math.abs(psnr(a, b) - v.psnr) < 1e-4, `psnr ${psnr(a, b)} vs ${v.psnr}`);
    assert.ok(Math.abs(ssim(a, b) - v.ssim) < 1e-6, `ssim ${ssim(a, b)} vs ${v.ssim}`);
    assert.equal(psnr(a, a), Number.POSITIVE_INFINITY);
    assert.ok(Math.abs(ssim(a, a) - 1) < 1e-12);
  }
  const small = planesFromInterleaved(new Uint8Array(10 * 10 * 3), 10, 10);
  assert.throws(() => ssim(small, small), RangeError);
});

test('Fréchet distance equals the sqrtm formula; streaming statistics; a PSD square root', () => {
  for (const v of V.frechet) {
    const d = v.dim;
    const a = new FeatureStats(d);
    const b = new FeatureStats(d);
    for (let i = 0; i < v.x.length; i += d) a.add(v.x.slice(i, i + d));
    for (let i = 0; i < v.y.length; i += d) b.add(v.y.slice(i, i + d));
    const got = frechetDistanceOf(a, b);
    assert.ok(Math.abs(got - v.distance) < 1e-8 * Math.max(1, v.distance), `${got} vs ${v.distance}`);
    assert.ok(Math.abs(frechetDistanceOf(a, a)) < 1e-8, 'a distribution is at distance 0 from itself');
  }
  // sqrt of diag(4, 9) and of a rotated PSD matrix squares back
  const s = sqrtSymmetric(Float64Array.from([4, 0, 0, 9]), 2);
  assert.deepEqual(
    Array.from(s).map((x) => Math.round(x * 1e12) / 1e12),
    [2, 0, 0, 3],
  );
  const m = Float64Array.from([2, 1, 0, 1, 2, 1, 0, 1, 2]);
  const r = sqrtSymmetric(m, 3);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let x = 0;
      for (let k = 0; k < 3; k++) x += r[i * 3 + k] * r[k * 3 + j];
      assert.ok(Math.abs(x - m[i * 3 + j]) < 1e-10);
    }
  assert.throws(() =>
    frechetDistance(new Float64Array(2), new Float64Array(4), new Float64Array(3), new Float64Array(9)),
  );
});

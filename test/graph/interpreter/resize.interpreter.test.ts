import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cubicCoefficients, f64, originalCoordinate, resize, tile } from '../../../src/graph/interpreter/index.ts';
import { assertClose, iota, randomTensor, rng } from './helpers.ts';

const x22 = f64([1, 1, 2, 2], [1, 2, 3, 4]);

test('bilinear 2×2 → 4×4, align_corners (= torch bilinear align_corners=True)', () => {
  // Coordinates 0, 1/3, 2/3, 1 on both axes: out[i][j] = 1 + j/3 + 2i/3.
  const y = resize(x22, [1, 1, 4, 4], { mode: 'linear', coordinateTransformationMode: 'align_corners' });
  const expected: number[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expected.push(1 + j / 3 + (2 * i) / 3);
  assertClose(y, { shape: [1, 1, 4, 4], data: expected }, 1e-15);
});

test('bilinear 2×2 → 4×4, half_pixel (= torch bilinear align_corners=False)', () => {
  // Coordinates −0.25, 0.25, 0.75, 1.25 clamped to 0, 0.25, 0.75, 1.
  const y = resize(x22, [1, 1, 4, 4], { mode: 'linear', coordinateTransformationMode: 'half_pixel' });
  assertClose(y, {
    shape: [1, 1, 4, 4],
    data: [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4],
  });
  const yp = resize(x22, [1, 1, 4, 4], { mode: 'linear', coordinateTransformationMode: 'pytorch_half_pixel' });
  assertClose(yp, y);
});

test('nearest 2× upsample repeats each pixel (torch nearest = asymmetric + floor; also the ONNX default)', () => {
  const x = iota([1, 2, 2, 3]);
  const repeated = f64([1, 2, 4, 6]);
  for (let c = 0; c < 2; c++)
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 6; j++) repeated.data[(c * 4 + i) * 6 + j] = x.data[(c * 2 + (i >> 1)) * 3 + (j >> 1)];
  const torchNearest = { mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' } as const;
  assertClose(resize(x, [1, 2, 4, 6], torchNearest), repeated, 0, 0);
  assertClose(resize(x, [1, 2, 4, 6]), repeated, 0, 0);
  // Downsampling 4 → 2 with floor picks indices 0 and 2, as torch does.
  assertClose(resize(iota([1, 1, 1, 4]), [1, 1, 1, 2], torchNearest), { shape: [1, 1, 1, 2], data: [0, 2] }, 0, 0);
});

test('nearest rounding modes at exact halves', () => {
  // 2 → 4 with align_corners: coordinates 0, 1/3, 2/3, 1; 3 → 5: 0, 0.5, 1, 1.5, 2.
  const x = f64([1, 1, 1, 3], [10, 20, 30]);
  const at = (nearestMode: 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil') =>
    Array.from(resize(x, [1, 1, 1, 5], { coordinateTransformationMode: 'align_corners', nearestMode }).data);
  assert.deepEqual(at('round_prefer_floor'), [10, 10, 20, 20, 30]);
  assert.deepEqual(at('round_prefer_ceil'), [10, 20, 20, 30, 30]);
  assert.deepEqual(at('floor'), [10, 10, 20, 20, 30]);
  assert.deepEqual(at('ceil'), [10, 20, 20, 30, 30]);
});

test('cubic kernel: identity at integer coordinates, known weights at 0.5, partition of unity', () => {
  assert.deepEqual(cubicCoefficients(0), [0, 1, 0, 0]);
  assert.deepEqual(cubicCoefficients(0.5), [-0.09375, 0.59375, 0.59375, -0.09375]);
  for (const r of [0.1, 0.25, 0.7]) {
    for (const A of [-0.75, -0.5]) {
      const c = cubicCoefficients(r, A);
      assert.ok(Math.abs(c[0] + c[1] + c[2] + c[3] - 1) < 1e-15);
    }
  }
});

test('cubic at scale 1 is the identity, for every coordinate mode', () => {
  const x = randomTensor([1, 2, 3, 4], rng(5));
  for (const coordinateTransformationMode of [
    'half_pixel',
    'pytorch_half_pixel',
    'align_corners',
    'asymmetric',
  ] as const) {
    assertClose(resize(x, [1, 2, 3, 4], { mode: 'cubic', coordinateTransformationMode }), x, 0, 0);
  }
});

test('bicubic align_corners (A = −0.75, border clamped) by hand, and exclude_outside', () => {
  // 3 → 5 along the last axis: coordinates 0, 0.5, 1, 1.5, 2. At 0.5 the taps are −1→0, 0, 1, 2: values 1, 1, 2, 4.
  const x = f64([1, 1, 1, 3], [1, 2, 4]);
  const opts = { mode: 'cubic', coordinateTransformationMode: 'align_corners' } as const;
  assertClose(resize(x, [1, 1, 1, 5], opts), { shape: [1, 1, 1, 5], data: [1, 1.3125, 2, 3.09375, 4] }, 1e-15);
  // exclude_outside drops the tap at −1 and renormalises: (0.59375·1 + 0.59375·2 − 0.09375·4) / 1.09375 = 9/7.
  const ex = resize(x, [1, 1, 1, 5], { ...opts, excludeOutside: true });
  assert.ok(Math.abs(ex.data[1] - 9 / 7) < 1e-15);
  // A 2-D bicubic resize is the separable product: rows and columns treated alike.
  const x2 = f64([1, 1, 3, 3], [1, 2, 4, 1, 2, 4, 1, 2, 4]);
  const y2 = resize(x2, [1, 1, 5, 5], opts);
  assertClose(y2, tile(f64([1, 1, 1, 5], [1, 1.3125, 2, 3.09375, 4]), [1, 1, 5, 1]), 1e-15);
});

test('cubic with A = −0.5 (Keys) reproduces quadratics away from the border; A = −0.75 does not', () => {
  const x = f64([1, 1, 1, 8], [0, 1, 4, 9, 16, 25, 36, 49]);
  const opts = { mode: 'cubic', coordinateTransformationMode: 'half_pixel' } as const;
  const y = resize(x, [1, 1, 1, 13], { ...opts, cubicCoeffA: -0.5 });
  const y75 = resize(x, [1, 1, 1, 13], opts);
  let differs = false;
  for (let j = 0; j < 13; j++) {
    const c = originalCoordinate(j, 8, 13, 'half_pixel');
    if (c >= 1 && c <= 6) {
      assert.ok(Math.abs(y.data[j] - c * c) < 1e-13, `j=${j}`);
      differs ||= Math.abs(y75.data[j] - c * c) > 1e-3;
    }
  }
  assert.ok(differs);
});

test('trilinear resize of the last three dims equals three separate 1-D resizes', () => {
  const x = randomTensor([1, 1, 2, 3, 4], rng(9));
  const opts = { mode: 'linear', coordinateTransformationMode: 'half_pixel' } as const;
  const y = resize(x, [1, 1, 4, 5, 7], opts);
  const step = resize(resize(resize(x, [1, 1, 4, 3, 4], opts), [1, 1, 4, 5, 4], opts), [1, 1, 4, 5, 7], opts);
  assertClose(y, step, 0, 0);
  // Corner values are preserved by align_corners.
  const ya = resize(x, [1, 1, 3, 5, 7], { mode: 'linear', coordinateTransformationMode: 'align_corners' });
  assert.equal(ya.data[0], x.data[0]);
  assert.ok(Math.abs(ya.data[ya.data.length - 1] - x.data[x.data.length - 1]) < 1e-15);
});

test('coordinate transforms follow the ONNX formulas', () => {
  assert.equal(originalCoordinate(1, 4, 8, 'half_pixel'), 0.25);
  assert.equal(originalCoordinate(1, 4, 8, 'asymmetric'), 0.5);
  assert.equal(originalCoordinate(2, 3, 5, 'align_corners'), 1);
  assert.equal(originalCoordinate(0, 4, 1, 'pytorch_half_pixel'), 0);
  assert.equal(originalCoordinate(0, 4, 1, 'half_pixel'), 1.5);
  assert.equal(originalCoordinate(3, 4, 8, 'half_pixel_symmetric'), originalCoordinate(3, 4, 8, 'half_pixel'));
});

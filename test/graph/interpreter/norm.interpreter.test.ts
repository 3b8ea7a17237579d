import { test } from 'node:test';
import { f64, groupNorm, layerNorm } from '../../../src/graph/interpreter/index.ts';
import { assertClose } from './helpers.ts';

test('layerNorm over the last axis with mean-300 inputs stays exact', () => {
  const x = f64([2, 4], [299, 300, 301, 302, 300.5, 299.5, 300.5, 299.5]);
  // Row 0: mean 300.5, centred ±0.5, ±1.5, variance 1.25. Row 1: mean 300, centred ±0.5, variance 0.25.
  const eps = 1e-5;
  const r0 = [-1.5, -0.5, 0.5, 1.5].map((c) => c / Math.sqrt(1.25 + eps));
  const r1 = [0.5, -0.5, 0.5, -0.5].map((c) => c / Math.sqrt(0.25 + eps));
  assertClose(layerNorm(x), { shape: [2, 4], data: [...r0, ...r1] }, 1e-14);
  const scale = f64([4], [1, 2, 3, 4]);
  const bias = f64([4], [0, 0, 0, 1]);
  const y = layerNorm(x, scale, bias, { epsilon: eps });
  assertClose(
    y,
    { shape: [2, 4], data: [...r0, ...r1].map((v, i) => v * (1 + (i % 4)) + (i % 4 === 3 ? 1 : 0)) },
    1e-14,
  );
});

test('layerNorm over trailing dims from axis 1', () => {
  const x = f64([1, 2, 2], [300, 302, 304, 306]); // mean 303, centred −3, −1, 1, 3, variance 5
  const s = Math.sqrt(5);
  assertClose(layerNorm(x, f64([2, 2], [1, 1, 1, 2]), undefined, { axis: 1, epsilon: 0 }), {
    shape: [1, 2, 2],
    data: [-3 / s, -1 / s, 1 / s, 6 / s],
  });
});

test('groupNorm (PyTorch semantics) with mean-300 inputs', () => {
  // N = 1, C = 4, spatial 2, 2 groups: group 0 = channels 0-1, group 1 = channels 2-3.
  const x = f64([1, 4, 2], [299, 301, 300, 300, 1000, 1002, 998, 1000]);
  // Group 0: mean 300, centred −1, 1, 0, 0 → variance 0.5. Group 1: mean 1000, centred 0, 2, −2, 0 → variance 2.
  const eps = 1e-5;
  const g0 = [-1, 1, 0, 0].map((c) => c / Math.sqrt(0.5 + eps));
  const g1 = [0, 2, -2, 0].map((c) => c / Math.sqrt(2 + eps));
  assertClose(groupNorm(x, 2), { shape: [1, 4, 2], data: [...g0, ...g1] }, 1e-14);
  const gamma = f64([4], [1, 2, 3, 4]);
  const beta = f64([4], [10, 20, 30, 40]);
  const expected = [...g0, ...g1].map((v, i) => v * gamma.data[i >> 1] + beta.data[i >> 1]);
  assertClose(groupNorm(x, 2, gamma, beta, eps), { shape: [1, 4, 2], data: expected }, 1e-13);
  // One group per channel = instance norm; numGroups 1 = layer norm over C × spatial.
  assertClose(groupNorm(f64([1, 1, 4], [300, 302, 304, 306]), 1, undefined, undefined, 0), {
    shape: [1, 1, 4],
    data: [-3, -1, 1, 3].map((c) => c / Math.sqrt(5)),
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f64, gemm, matmul } from '../../../src/graph/interpreter/index.ts';
import { assertClose, randomTensor, rng } from './helpers.ts';

test('matmul 2-D by hand', () => {
  const a = f64([2, 3], [1, 2, 3, 4, 5, 6]);
  const b = f64([3, 2], [7, 8, 9, 10, 11, 12]);
  // [1·7+2·9+3·11, 1·8+2·10+3·12; 4·7+5·9+6·11, 4·8+5·10+6·12]
  assertClose(matmul(a, b), { shape: [2, 2], data: [58, 64, 139, 154] });
  assert.throws(() => matmul(a, a));
});

test('matmul 1-D promotion removes the promoted dims', () => {
  const v = f64([3], [1, 2, 3]);
  assertClose(matmul(v, v), { shape: [], data: [14] });
  assertClose(matmul(v, f64([3, 2], [1, 0, 0, 1, 1, 1])), { shape: [2], data: [4, 5] });
  assertClose(matmul(f64([2, 3], [1, 0, 0, 1, 1, 1]), v), { shape: [2], data: [1, 6] });
  assertClose(matmul(f64([4, 2, 3]), v), { shape: [4, 2], data: new Array(8).fill(0) });
});

test('matmul broadcasts batch dims like numpy', () => {
  const r = rng(1);
  const a = randomTensor([2, 1, 2, 3], r);
  const b = randomTensor([3, 3, 4], r);
  const y = matmul(a, b);
  assert.deepEqual(y.shape, [2, 3, 2, 4]);
  for (let p = 0; p < 2; p++) {
    for (let q = 0; q < 3; q++) {
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 4; j++) {
          let s = 0;
          for (let k = 0; k < 3; k++) s += a.data[p * 6 + i * 3 + k] * b.data[q * 12 + k * 4 + j];
          assert.ok(Math.abs(y.data[((p * 3 + q) * 2 + i) * 4 + j] - s) < 1e-14);
        }
      }
    }
  }
});

test('gemm with transposes, alpha, beta and broadcast C', () => {
  const aT = f64([3, 2], [1, 4, 2, 5, 3, 6]); // Aᵀ of [[1,2,3],[4,5,6]]
  const bT = f64([2, 3], [7, 9, 11, 8, 10, 12]); // Bᵀ of [[7,8],[9,10],[11,12]]
  const c = f64([2], [1, -1]);
  const y = gemm(aT, bT, c, { transA: true, transB: true, alpha: 2, beta: 3 });
  assertClose(y, { shape: [2, 2], data: [2 * 58 + 3, 2 * 64 - 3, 2 * 139 + 3, 2 * 154 - 3] });
  assertClose(gemm(f64([1, 1], [2]), f64([1, 1], [3])), { shape: [1, 1], data: [6] });
  assertClose(gemm(f64([1, 1], [2]), f64([1, 1], [3]), f64([], [10]), { beta: 0.5 }), { shape: [1, 1], data: [11] });
});

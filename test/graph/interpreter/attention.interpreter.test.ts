import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attention, f64 } from '../../../src/graph/interpreter/index.ts';
import { assertClose, randomTensor, rng } from './helpers.ts';

/** Independent loop over heads: slice columns, scores, softmax, weighted sum. */
function naive(
  q: number[][][],
  k: number[][][],
  v: number[][][],
  H: number,
  scale: number,
  mask?: (b: number, h: number, i: number, j: number) => number,
): number[][][] {
  const D = q[0][0].length / H;
  const Dv = v[0][0].length / H;
  return q.map((qb, b) =>
    qb.map((qi, i) => {
      const row: number[] = [];
      for (let h = 0; h < H; h++) {
        const scores = k[b].map((kj, j) => {
          let s = 0;
          for (let d = 0; d < D; d++) s += qi[h * D + d] * kj[h * D + d];
          return s * scale + (mask ? mask(b, h, i, j) : 0);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((p, c) => p + c, 0);
        for (let d = 0; d < Dv; d++) row.push(v[b].reduce((p, vj, j) => p + (e[j] / z) * vj[h * Dv + d], 0));
      }
      return row;
    }),
  );
}

function nested(t: { shape: number[]; data: Float64Array }): number[][][] {
  const [B, S, C] = t.shape;
  return Array.from({ length: B }, (_, b) =>
    Array.from({ length: S }, (_, s) => Array.from(t.data.subarray((b * S + s) * C, (b * S + s + 1) * C))),
  );
}

test('attention with H = 2 matches a hand-rolled loop (default scale and explicit scale)', () => {
  const r = rng(11);
  const q = randomTensor([2, 3, 8], r);
  const k = randomTensor([2, 5, 8], r);
  const v = randomTensor([2, 5, 6], r);
  const y = attention(q, k, v, { numHeads: 2 });
  assert.deepEqual(y.shape, [2, 3, 6]);
  const ref = naive(nested(q), nested(k), nested(v), 2, 1 / Math.sqrt(4));
  assertClose(y, { shape: [2, 3, 6], data: ref.flat(2) }, 1e-14);
  const y2 = attention(q, k, v, { numHeads: 2, scale: 0.3 });
  assertClose(y2, { shape: [2, 3, 6], data: naive(nested(q), nested(k), nested(v), 2, 0.3).flat(2) }, 1e-14);
});

test('attention with a broadcast additive mask', () => {
  const r = rng(12);
  const q = randomTensor([1, 2, 4], r);
  const k = randomTensor([1, 3, 4], r);
  const v = randomTensor([1, 3, 4], r);
  // Mask [Sq, Sk] broadcast over B and H: query 0 sees only key 2, query 1 sees all (with a bias).
  const mask = f64([2, 3], [-Infinity, -Infinity, 0, 0.5, 0, -0.5]);
  const y = attention(q, k, v, { numHeads: 2, mask });
  const ref = naive(nested(q), nested(k), nested(v), 2, 1 / Math.sqrt(2), (_b, _h, i, j) => mask.data[i * 3 + j]);
  assertClose(y, { shape: [1, 2, 4], data: ref.flat(2) }, 1e-14);
  // Query 0 attends only to key 2, so its output is v[key 2].
  assertClose({ shape: [4], data: y.data.subarray(0, 4) }, { shape: [4], data: v.data.subarray(8, 12) }, 1e-15);
});

test('attention with one key returns v', () => {
  const q = f64([1, 1, 2], [3, -7]);
  const k = f64([1, 1, 2], [1, 2]);
  const v = f64([1, 1, 2], [5, 6]);
  assertClose(attention(q, k, v, { numHeads: 1 }), { shape: [1, 1, 2], data: [5, 6] });
});

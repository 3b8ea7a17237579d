import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f64, logSoftmax, reduce, softmax, variance } from '../../../src/graph/interpreter/index.ts';
import { assertClose, iota, randomTensor, rng } from './helpers.ts';

test('reduce kinds over axes, keepdims, negative axes, empty = all', () => {
  const x = iota([2, 3], 1); // [[1,2,3],[4,5,6]]
  assertClose(reduce(x, [1], false, 'sum'), { shape: [2], data: [6, 15] });
  assertClose(reduce(x, [0], true, 'sum'), { shape: [1, 3], data: [5, 7, 9] });
  assertClose(reduce(x, [-1], true, 'mean'), { shape: [2, 1], data: [2, 5] });
  assertClose(reduce(x, [], false, 'sum'), { shape: [], data: [21] });
  assertClose(reduce(x, [], true, 'prod'), { shape: [1, 1], data: [720] });
  assertClose(reduce(x, [0], false, 'max'), { shape: [3], data: [4, 5, 6] });
  assertClose(reduce(x, [1], false, 'min'), { shape: [2], data: [1, 4] });
  // Σ_{i,k} (12i + 4j + k) = 32j + 60
  assertClose(reduce(iota([2, 3, 4]), [0, 2], false, 'sum'), { shape: [3], data: [60, 92, 124] });
  assert.ok(Number.isNaN(reduce(f64([2], [1, Number.NaN]), [], false, 'max').data[0]));
});

test('variance: two-pass, biased and unbiased', () => {
  const x = f64([2, 4], [300, 301, 302, 303, 1, 1, 1, 5]);
  assertClose(variance(x, [1], false), { shape: [2], data: [1.25, 3] });
  assertClose(variance(x, [1], true, 1), { shape: [2, 1], data: [5 / 3, 4] });
  assertClose(variance(x, [], false), { shape: [], data: [variance(f64([8], x.data), [0], false).data[0]] });
});

test('softmax: known values, rows sum to 1, no overflow for huge logits', () => {
  assertClose(
    softmax(f64([3], [1, 2, 3])),
    { shape: [3], data: [0.09003057317038046, 0.24472847105479767, 0.6652409557748219] },
    1e-16,
  );
  assertClose(softmax(f64([2], [1000, 1000])), { shape: [2], data: [0.5, 0.5] });
  const x = randomTensor([3, 4, 5], rng(3));
  for (const axis of [0, 1, -1]) {
    const s = softmax(x, axis);
    const sums = reduce(s, [axis], false, 'sum');
    for (const v of sums.data) assert.ok(Math.abs(v - 1) < 1e-15);
    assertClose(logSoftmax(x, axis), { shape: s.shape, data: s.data.map(Math.log) }, 1e-14);
  }
});

test('logSoftmax is stable for large logits', () => {
  assertClose(logSoftmax(f64([2], [1000, 0])), { shape: [2], data: [0, -1000] });
});

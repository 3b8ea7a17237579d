import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  concat,
  f64,
  flatten,
  gather,
  pad,
  reshape,
  slice,
  split,
  squeeze,
  tile,
  transpose,
  unsqueeze,
} from '../../../src/graph/interpreter/index.ts';
import { assertClose, iota } from './helpers.ts';

test('reshape: 0 copies a dim, −1 is inferred, allowzero keeps 0 literal', () => {
  const x = iota([2, 3, 4]);
  assert.deepEqual(reshape(x, [0, -1]).shape, [2, 12]);
  assert.deepEqual(reshape(x, [-1, 0, 2]).shape, [4, 3, 2]);
  assert.deepEqual(Array.from(reshape(x, [24]).data), Array.from(x.data));
  assert.deepEqual(reshape(f64([0, 3]), [3, 0], true).shape, [3, 0]);
  assert.throws(() => reshape(x, [5, -1]));
  assert.throws(() => reshape(x, [-1, -1]));
});

test('transpose with a permutation and by default reversed', () => {
  const x = iota([2, 3]);
  assertClose(transpose(x), { shape: [3, 2], data: [0, 3, 1, 4, 2, 5] });
  const y = transpose(iota([2, 3, 4]), [1, 2, 0]);
  assert.deepEqual(y.shape, [3, 4, 2]);
  // y[i, j, k] = x[k, i, j] = 12k + 4i + j
  assert.equal(y.data[(2 * 4 + 1) * 2 + 1], 12 + 8 + 1);
});

test('slice: negative indices, clamping and negative steps (ONNX Slice)', () => {
  const x = iota([10]);
  assertClose(slice(x, [-1], [-Infinity], [0], [-1]), { shape: [10], data: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0] });
  assertClose(slice(x, [8], [1], [0], [-3]), { shape: [3], data: [8, 5, 2] });
  assertClose(slice(x, [-3], [100]), { shape: [3], data: [7, 8, 9] });
  assertClose(slice(x, [100], [-100], [0], [-2]), { shape: [5], data: [9, 7, 5, 3, 1] });
  assertClose(slice(x, [2], [-1], [0], [3]), { shape: [3], data: [2, 5, 8] });
  assertClose(slice(x, [5], [2]), { shape: [0], data: [] });
  assertClose(slice(x, [0], [Number.MAX_SAFE_INTEGER], [-1], [4]), { shape: [3], data: [0, 4, 8] });
  // 2-D: last axis reversed, first axis from 1.
  assertClose(slice(iota([3, 3]), [-1, 1], [-4, 3], [1, 0], [-1, 1]), { shape: [2, 3], data: [5, 4, 3, 8, 7, 6] });
});

test('concat and split are inverse', () => {
  const a = iota([2, 1, 2]);
  const b = iota([2, 2, 2], 10);
  const c = concat([a, b], -2);
  assertClose(c, { shape: [2, 3, 2], data: [0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17] });
  const [a2, b2] = split(c, 1, [1, 2]);
  assertClose(a2, a);
  assertClose(b2, b);
  assert.throws(() => split(c, 1, [1, 1]));
  assert.throws(() => concat([a, iota([3, 1, 2])], 1));
});

test('pad constant / reflect / edge / wrap and negative pads (ONNX Pad)', () => {
  const x = f64([3], [1, 2, 3]);
  assertClose(pad(x, [2, 2], 'reflect'), { shape: [7], data: [3, 2, 1, 2, 3, 2, 1] });
  assertClose(pad(x, [2, 1], 'edge'), { shape: [6], data: [1, 1, 1, 2, 3, 3] });
  assertClose(pad(x, [1, 2], 'constant', 9), { shape: [6], data: [9, 1, 2, 3, 9, 9] });
  assertClose(pad(x, [2, 2], 'wrap'), { shape: [7], data: [2, 3, 1, 2, 3, 1, 2] });
  assertClose(pad(x, [-1, 1]), { shape: [3], data: [2, 3, 0] });
  // Negative pads crop first, then the other side pads the cropped tensor (ONNX Runtime's order).
  assertClose(pad(f64([4], [1, 2, 3, 4]), [-1, 2], 'wrap'), { shape: [5], data: [2, 3, 4, 2, 3] });
  assertClose(pad(f64([4], [1, 2, 3, 4]), [2, -1], 'reflect'), { shape: [5], data: [3, 2, 1, 2, 3] });
  // 2-D reflect: rows [[1,2],[3,4]] padded by one on every side.
  assertClose(pad(f64([2, 2], [1, 2, 3, 4]), [1, 1, 1, 1], 'reflect'), {
    shape: [4, 4],
    data: [4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1],
  });
});

test('gather: negative indices wrap, indices shape inserted at axis (ONNX Gather)', () => {
  const x = iota([3, 4]);
  assertClose(gather(x, { shape: [2], data: [-1, 0] }, 1), { shape: [3, 2], data: [3, 0, 7, 4, 11, 8] });
  assertClose(gather(x, { shape: [2, 2], data: [2, -3, 0, -1] }, 0), {
    shape: [2, 2, 4],
    data: [8, 9, 10, 11, 0, 1, 2, 3, 0, 1, 2, 3, 8, 9, 10, 11],
  });
  assertClose(gather(x, { shape: [], data: [1] }, 0), { shape: [4], data: [4, 5, 6, 7] });
  assert.throws(() => gather(x, { shape: [1], data: [3] }, 0));
  assert.throws(() => gather(x, { shape: [1], data: [-4] }, 0));
});

test('tile repeats the whole tensor along each axis', () => {
  assertClose(tile(f64([2, 2], [1, 2, 3, 4]), [2, 3]), {
    shape: [4, 6],
    data: [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4],
  });
});

test('squeeze, unsqueeze, flatten', () => {
  const x = iota([2, 3]);
  assert.deepEqual(unsqueeze(x, [0, -1]).shape, [1, 2, 3, 1]);
  assert.deepEqual(squeeze(f64([1, 2, 1, 3]), [2]).shape, [1, 2, 3]);
  assert.deepEqual(squeeze(f64([1, 2, 1, 3])).shape, [2, 3]);
  assert.throws(() => squeeze(x, [0]));
  assert.deepEqual(flatten(iota([2, 3, 4]), 2).shape, [6, 4]);
  assert.deepEqual(flatten(iota([2, 3, 4]), 0).shape, [1, 24]);
});

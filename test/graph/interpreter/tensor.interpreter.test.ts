import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  f64,
  nextIndex,
  normAxis,
  numel,
  ravelIndex,
  strides,
  unravelIndex,
} from '../../../src/graph/interpreter/index.ts';

test('f64 builds zero-filled or copied tensors and checks the element count', () => {
  assert.deepEqual(Array.from(f64([2, 2]).data), [0, 0, 0, 0]);
  const src = [1, 2, 3];
  const t = f64([3], src);
  src[0] = 9;
  assert.equal(t.data[0], 1);
  assert.throws(() => f64([2, 2], [1, 2, 3]));
  assert.throws(() => f64([-1]));
  assert.equal(f64([]).data.length, 1);
});

test('numel, strides, ravel/unravel round trip', () => {
  const shape = [2, 3, 4];
  assert.equal(numel(shape), 24);
  assert.equal(numel([]), 1);
  assert.deepEqual(strides(shape), [12, 4, 1]);
  for (let i = 0; i < 24; i++) assert.equal(ravelIndex(unravelIndex(i, shape), shape), i);
  assert.deepEqual(unravelIndex(23, shape), [1, 2, 3]);
  const idx = [0, 0, 0];
  let count = 1;
  while (nextIndex(idx, shape)) count++;
  assert.equal(count, 24);
  assert.equal(normAxis(-1, 3), 2);
  assert.throws(() => normAxis(3, 3));
});

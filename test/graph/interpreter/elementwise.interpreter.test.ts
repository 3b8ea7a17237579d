import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  add,
  binary,
  broadcastShapes,
  erf,
  erfc,
  expand,
  f64,
  gelu,
  sigmoid,
  silu,
  unary,
  where,
} from '../../../src/graph/interpreter/index.ts';
import { assertClose, assertNear, iota } from './helpers.ts';

test('broadcastShapes follows numpy rules and rejects incompatible shapes', () => {
  assert.deepEqual(broadcastShapes([2, 1, 3], [4, 1]), [2, 4, 3]);
  assert.deepEqual(broadcastShapes([], [3]), [3]);
  assert.deepEqual(broadcastShapes([5, 1], [1], [1, 6]), [5, 6]);
  assert.deepEqual(broadcastShapes([0, 1], [1, 3]), [0, 3]);
  assert.throws(() => broadcastShapes([2, 3], [4, 3]));
  assert.throws(() => broadcastShapes([3], [2]));
});

test('unary maps every element', () => {
  assertClose(
    unary(f64([3], [1, -2, 3]), (v) => v * v),
    { shape: [3], data: [1, 4, 9] },
  );
});

test('binary broadcasts both ways', () => {
  const a = f64([2, 1], [10, 20]);
  const b = f64([3], [1, 2, 3]);
  assertClose(
    binary(a, b, (x, y) => x - y),
    { shape: [2, 3], data: [9, 8, 7, 19, 18, 17] },
  );
  assertClose(add(f64([], [1]), iota([2, 2])), { shape: [2, 2], data: [1, 2, 3, 4] });
  assert.throws(() => add(f64([2]), f64([3])));
});

test('where broadcasts condition and both branches; nonzero is true', () => {
  const cond = f64([2, 1], [1, 0]);
  const a = f64([3], [1, 2, 3]);
  const b = f64([], [-1]);
  assertClose(where(cond, a, b), { shape: [2, 3], data: [1, 2, 3, -1, -1, -1] });
  assertClose(where(f64([3], [0, 0.5, Number.NaN]), a, b), { shape: [3], data: [-1, 2, 3] });
});

test('expand is bidirectional (ONNX Expand)', () => {
  const x = f64([3, 1], [1, 2, 3]);
  assertClose(expand(x, [2, 1, 2]), { shape: [2, 3, 2], data: [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3] });
  // A 1 in the target shape keeps x's dimension.
  assertClose(expand(x, [1, 1]), { shape: [3, 1], data: [1, 2, 3] });
  assert.throws(() => expand(x, [2, 2]));
});

test('erf matches reference values to 1e-15', () => {
  const cases: [number, number][] = [
    [0, 0],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [-2, -0.9953222650189527],
    [3, 0.9999779095030014],
    [1e-10, 1.1283791670955126e-10],
  ];
  for (const [x, e] of cases) assertNear(erf(x), e, 1e-15, 1e-15);
  assert.equal(erf(Number.POSITIVE_INFINITY), 1);
  assert.equal(erf(Number.NEGATIVE_INFINITY), -1);
  assert.ok(Number.isNaN(erf(Number.NaN)));
  for (let x = 0; x < 6; x += 0.37) assert.equal(erf(-x), -erf(x));
  // erfc keeps relative accuracy in the tail, where 1 − erf would be all cancellation.
  assertNear(erfc(5), 1.537459794428035e-12, 0, 1e-14);
  assertNear(erfc(-1), 1 + 0.8427007929497149, 1e-15);
});

test('gelu exact and tanh forms (ONNX Gelu-20)', () => {
  const x = f64([4], [1, -0.5, 2.5, -3]);
  assertClose(
    gelu(x),
    { shape: [4], data: [0.8413447460685429, -0.15426876936299344, 2.4844758366855597, -0.0040496940948902835] },
    1e-15,
  );
  assertClose(
    gelu(x, 'tanh'),
    { shape: [4], data: [0.8411919906082767, -0.15428599017485609, 2.484915733910001, -0.0036373920817730195] },
    1e-15,
  );
});

test('sigmoid and silu, stable for large |x|', () => {
  const x = f64([5], [0, 2, -800, 800, -2]);
  assertClose(sigmoid(x), { shape: [5], data: [0.5, 0.8807970779778824, 0, 1, 1 - 0.8807970779778824] }, 1e-15);
  assertClose(
    silu(x),
    { shape: [5], data: [0, 2 * 0.8807970779778824, -0, 800, -2 * (1 - 0.8807970779778824)] },
    1e-15,
  );
});

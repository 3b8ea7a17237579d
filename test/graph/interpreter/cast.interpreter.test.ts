import { test } from 'node:test';
import { cast, castBool, castFloat32, castInt, f64 } from '../../../src/graph/interpreter/index.ts';
import { assertClose } from './helpers.ts';

test('cast to float32 rounds to nearest float32', () => {
  assertClose(
    castFloat32(f64([3], [0.1, 1e40, 1 + 2 ** -30])),
    { shape: [3], data: [0.10000000149011612, Infinity, 1] },
    0,
    0,
  );
});

test('cast to int truncates toward zero', () => {
  assertClose(castInt(f64([5], [-1.7, 1.7, 2.5, -0.2, 3])), { shape: [5], data: [-1, 1, 2, 0, 3] }, 0, 0);
  assertClose(cast(f64([2], [-2.9, 2.9]), 'int64'), { shape: [2], data: [-2, 2] }, 0, 0);
});

test('cast to bool: nonzero (and NaN) is true', () => {
  assertClose(castBool(f64([4], [0, -0, 2, Number.NaN])), { shape: [4], data: [0, 0, 1, 1] }, 0, 0);
});

test('cast to float16 / bfloat16 rounds to the half value', () => {
  assertClose(cast(f64([2], [1 / 3, 70000]), 'float16'), { shape: [2], data: [0.333251953125, Infinity] }, 0, 0);
  assertClose(cast(f64([1], [1 / 3]), 'bfloat16'), { shape: [1], data: [0.333984375] }, 0, 0);
});

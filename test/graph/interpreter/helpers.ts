import assert from 'node:assert/strict';
import type { F64Tensor } from '../../../src/graph/interpreter/index.ts';

/** Asserts same shape and |a − b| <= atol + rtol·|b| elementwise (NaN matches NaN). */
export function assertClose(
  actual: F64Tensor,
  expected: { shape: readonly number[]; data: ArrayLike<number> },
  atol = 1e-12,
  rtol = 1e-12,
): void {
  assert.deepEqual(actual.shape, [...expected.shape], 'shape');
  assert.equal(actual.data.length, expected.data.length, 'length');
  for (let i = 0; i < actual.data.length; i++) {
    const a = actual.data[i];
    const e = expected.data[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    assert.ok(Math.abs(a - e) <= atol + rtol * Math.abs(e), `element ${i}: got ${a}, expected ${e}`);
  }
}

export function assertNear(actual: number, expected: number, atol = 1e-12, rtol = 0): void {
  assert.ok(Math.abs(actual - expected) <= atol + rtol * Math.abs(expected), `got ${actual}, expected ${expected}`);
}

/** Small deterministic PRNG (mulberry32) so tests are reproducible. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Tensor with uniform values in [−1, 1). */
export function randomTensor(shape: readonly number[], rand: () => number): F64Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = 2 * rand() - 1;
  return { shape: [...shape], data };
}

/** 0, 1, 2, … reshaped. */
export function iota(shape: readonly number[], start = 0): F64Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = start + i;
  return { shape: [...shape], data };
}

export function dot(a: F64Tensor, b: F64Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}

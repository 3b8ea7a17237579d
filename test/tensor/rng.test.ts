import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fnv1a64, philox4x32_10, Rng } from '../../src/tensor/rng.ts';

const hex = (words: ArrayLike<number>) => Array.from(words, (w) => w.toString(16).padStart(8, '0')).join(' ');

test('Philox4x32-10 matches the Random123 known-answer vectors (tests/kat_vectors)', () => {
  const kat: [number[], number[], number[]][] = [
    [
      [0, 0, 0, 0],
      [0, 0],
      [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
    ],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ];
  for (const [ctr, key, want] of kat) assert.equal(hex(philox4x32_10(ctr, key)), hex(want));
});

/** An independent BigInt Philox4x32-10, written from the Random123 round and key schedule. */
function philoxReference(ctr: number[], key: number[]): number[] {
  const mask = 0xffffffffn;
  let [x0, x1, x2, x3] = ctr.map(BigInt);
  let [k0, k1] = key.map(BigInt);
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + 0x9e3779b9n) & mask;
      k1 = (k1 + 0xbb67ae85n) & mask;
    }
    const p0 = 0xd2511f53n * x0;
    const p1 = 0xcd9e8d57n * x2;
    [x0, x1, x2, x3] = [(p1 >> 32n) ^ x1 ^ k0, p1 & mask, (p0 >> 32n) ^ x3 ^ k1, p0 & mask];
  }
  return [x0, x1, x2, x3].map(Number);
}

test('Philox4x32-10 agrees with a BigInt reference on pseudo-random inputs', () => {
  let s = 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  for (let i = 0; i < 500; i++) {
    const ctr = [next(), next(), next(), next()];
    const key = [next(), next()];
    assert.equal(hex(philox4x32_10(ctr, key)), hex(philoxReference(ctr, key)));
  }
});

test('FNV-1a 64 of the stream name', () => {
  const h = (s: string) => {
    const [lo, hi] = fnv1a64(s);
    return (BigInt(hi) << 32n) | BigInt(lo);
  };
  assert.equal(h(''), 0xcbf29ce484222325n);
  assert.equal(h('a'), 0xaf63dc4c8601ec8cn);
  assert.equal(h('foobar'), 0x85944171f73967e8n);
  assert.equal(h('é'), 0x0ac21707b7181e01n); // UTF-8 bytes c3 a9
});

test('draws follow the documented construction exactly', () => {
  const seed = 0x123456789abcdef0n;
  const rng = new Rng(seed);
  const key = [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  const [s0, s1] = fnv1a64('latents');
  // Include indices whose block index needs the high counter word (block ≥ 2^32).
  for (const offset of [0, 5, 4 * 2 ** 32 - 3, 2 ** 50 + 2]) {
    const n = 12;
    const words = rng.uint32('latents', n, offset);
    const uniforms = rng.uniform('latents', n, offset);
    const normals = rng.normal('latents', n, offset);
    for (let k = 0; k < n; k++) {
      const index = offset + k;
      const word = (i: number) => {
        const b = Math.floor(i / 4);
        return philoxReference([b % 2 ** 32, Math.floor(b / 2 ** 32), s0, s1], key)[i % 4];
      };
      const u = (i: number) => (word(i) >>> 8) * 2 ** -24 + 2 ** -25;
      assert.equal(words[k], word(index));
      const expectedU = word(index) >>> 8 === 0xffffff ? 1 - 2 ** -24 : Math.fround(u(index));
      assert.equal(uniforms[k], expectedU);
      const p = Math.floor(index / 2);
      const r = Math.sqrt(-2 * Math.log(u(2 * p)));
      const z = index % 2 === 0 ? r * Math.cos(2 * Math.PI * u(2 * p + 1)) : r * Math.sin(2 * Math.PI * u(2 * p + 1));
      assert.equal(normals[k], Math.fround(z));
    }
  }
});

test('a draw at offset k equals the tail of a longer draw (every alignment)', () => {
  const rng = new Rng(7);
  const kinds = ['uint32', 'uniform', 'normal'] as const;
  for (const kind of kinds) {
    const long = rng[kind]('s', 40);
    for (let offset = 0; offset < 9; offset++) {
      for (let count = 0; count < 14; count++) {
        assert.deepEqual([...rng[kind]('s', count, offset)], [...long.subarray(offset, offset + count)]);
      }
    }
  }
});

test('results do not depend on call order', () => {
  const a = new Rng(99);
  const a1 = a.normal('x', 10);
  const a2 = a.uniform('y', 10);
  const a3 = a.normal('x', 10, 10);
  const b = new Rng(99);
  const b3 = b.normal('x', 10, 10);
  const b2 = b.uniform('y', 10);
  const b1 = b.normal('x', 10);
  assert.deepEqual(a1, b1);
  assert.deepEqual(a2, b2);
  assert.deepEqual(a3, b3);
  assert.deepEqual(a.normal('x', 10), a1); // repeating a call repeats the draw
});

test('different streams and seeds give different draws', () => {
  const rng = new Rng(1);
  assert.notDeepEqual(rng.uint32('a', 8), rng.uint32('b', 8));
  assert.notDeepEqual(rng.uint32('a', 8), new Rng(2).uint32('a', 8));
  assert.notDeepEqual(rng.uint32('a', 8), new Rng(2 ** 32 + 1).uint32('a', 8)); // the high key word matters
  assert.deepEqual(new Rng(5).uint32('a', 8), new Rng(5n).uint32('a', 8));
  assert.deepEqual(new Rng(2 ** 40 + 3).uint32('a', 8), new Rng(2n ** 40n + 3n).uint32('a', 8));
});

test('seed, count and offset are validated', () => {
  for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, -1n, 2n ** 64n]) assert.throws(() => new Rng(bad), RangeError);
  assert.doesNotThrow(() => new Rng(2n ** 64n - 1n));
  const rng = new Rng(0);
  assert.throws(() => rng.uniform('s', -1), RangeError);
  assert.throws(() => rng.uniform('s', 2, 0.5), RangeError);
  assert.throws(() => rng.uniform('s', 2, Number.MAX_SAFE_INTEGER), RangeError);
  assert.equal(rng.normal('s', 0).length, 0);
});

test('rand and randn build float32 tensors in row-major order', () => {
  const rng = new Rng(3);
  const t = rng.randn('noise', [2, 3, 4], 8);
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.shape, [2, 3, 4]);
  assert.deepEqual(t.data, rng.normal('noise', 24, 8));
  const u = rng.rand('noise', [5]);
  assert.deepEqual(u.data, rng.uniform('noise', 5));
  assert.equal(rng.randn('noise', []).size, 1);
});

interface VectorCase {
  seed: number;
  uniform: number[];
  normal: number[];
}

test('committed vectors in test/fixtures/rng-vectors.json are reproduced exactly', () => {
  const path = new URL('../fixtures/rng-vectors.json', import.meta.url);
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { stream: string; cases: VectorCase[] };
  assert.equal(doc.cases.length, 2);
  for (const c of doc.cases) {
    const rng = new Rng(c.seed);
    assert.deepEqual([...rng.uniform(doc.stream, 16)], c.uniform, `uniform, seed ${c.seed}`);
    assert.deepEqual([...rng.normal(doc.stream, 16)], c.normal, `normal, seed ${c.seed}`);
  }
});

test('statistics: normals have mean 0 and variance 1, uniforms lie in (0, 1)', () => {
  const rng = new Rng(2024);
  const z = rng.normal('stats', 100_000);
  let sum = 0;
  let sumSq = 0;
  for (const v of z) {
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / z.length;
  const variance = sumSq / z.length - mean * mean;
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.02, `variance ${variance}`);

  const u = rng.uniform('stats', 100_000);
  let uSum = 0;
  for (const v of u) {
    assert.ok(v > 0 && v < 1, `uniform ${v}`);
    uSum += v;
  }
  assert.ok(Math.abs(uSum / u.length - 0.5) < 0.01, `uniform mean ${uSum / u.length}`);
});

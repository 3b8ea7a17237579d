import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bfloat16ArrayToFloat32,
  bfloat16ToFloat32,
  float16ArrayToFloat32,
  float16ToFloat32,
  float32ArrayToBfloat16,
  float32ArrayToFloat16,
  float32ToBfloat16,
  float32ToFloat16,
  fromFloat32,
  toFloat32,
} from '../../src/tensor/half.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function fromBits(bits: number): number {
  u32[0] = bits;
  return f32[0];
}

const isF16NaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isBf16NaN = (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;

/** Deterministic xorshift32 for test inputs. */
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

test('float16: exact known patterns', () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [2 ** -14, 0x0400], // smallest normal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -24, 0x0001], // smallest subnormal
    [-(2 ** -24), 0x8001],
    [Number.POSITIVE_INFINITY, 0x7c00],
    [Number.NEGATIVE_INFINITY, 0xfc00],
    [0, 0x0000],
  ];
  for (const [x, h] of cases) {
    assert.equal(float32ToFloat16(x), h, `${x} → 0x${h.toString(16)}`);
    assert.equal(float16ToFloat32(h), x, `0x${h.toString(16)} → ${x}`);
  }
  assert.equal(float32ToFloat16(-0), 0x8000);
  assert.ok(Object.is(float16ToFloat32(0x8000), -0));
});

test('float16: overflow and rounding to nearest, ties to even', () => {
  assert.equal(float32ToFloat16(65519), 0x7bff); // below the tie
  assert.equal(float32ToFloat16(65520), 0x7c00); // tie between 65504 (odd) and 65536 → Infinity
  assert.equal(float32ToFloat16(-65520), 0xfc00);
  assert.equal(float32ToFloat16(1e10), 0x7c00);
  assert.equal(float32ToFloat16(3.4e38), 0x7c00);
  // Normal range: 1 + 2^-11 is halfway between 0x3C00 (even) and 0x3C01.
  assert.equal(float32ToFloat16(1 + 2 ** -11), 0x3c00);
  assert.equal(float32ToFloat16(1 + 3 * 2 ** -11), 0x3c02); // halfway between 0x3C01 and 0x3C02 (even)
  assert.equal(float32ToFloat16(1 + 2 ** -11 + 2 ** -20), 0x3c01); // just above the tie
  assert.equal(float32ToFloat16(1 + 2 ** -11 - 2 ** -20), 0x3c00); // just below
  assert.equal(float32ToFloat16(1 - 2 ** -11), 0x3bff); // exact (the spacing below 1 is 2^-11)
  assert.equal(float32ToFloat16(1 - 2 ** -12), 0x3c00); // tie between 0x3BFF (odd) and 1.0
  assert.equal(float32ToFloat16(1 - 3 * 2 ** -12), 0x3bfe); // tie between 0x3BFE (even) and 0x3BFF
  // Subnormal range, units of 2^-24.
  assert.equal(float32ToFloat16(2 ** -25), 0x0000); // tie between 0 (even) and 1 unit
  assert.equal(float32ToFloat16(-(2 ** -25)), 0x8000);
  assert.equal(float32ToFloat16(1.5 * 2 ** -25), 0x0001);
  assert.equal(float32ToFloat16(3 * 2 ** -25), 0x0002); // 1.5 units: tie → 2
  assert.equal(float32ToFloat16(5 * 2 ** -25), 0x0002); // 2.5 units: tie → 2
  assert.equal(float32ToFloat16(2 ** -26), 0x0000);
  assert.equal(float32ToFloat16(1023.5 * 2 ** -24), 0x0400); // tie → 1024 units: the smallest normal
  assert.equal(float32ToFloat16(fromBits(0x00000001)), 0x0000); // float32 subnormal
  assert.equal(float32ToFloat16(-fromBits(0x00000001)), 0x8000);
});

test('float16: NaN stays NaN, quiet', () => {
  for (const bits of [0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0x7fffffff]) {
    const h = float32ArrayToFloat16(new Float32Array(new Uint32Array([bits]).buffer))[0];
    assert.ok(isF16NaN(h), `0x${bits.toString(16)} → 0x${h.toString(16)}`);
    assert.ok((h & 0x200) !== 0, 'quiet bit');
    assert.equal(h & 0x8000, (bits >>> 16) & 0x8000, 'sign kept');
  }
  assert.ok(isF16NaN(float32ToFloat16(Number.NaN)));
  for (const h of [0x7e00, 0x7c01, 0xfdff, 0x7fff]) {
    assert.ok(Number.isNaN(float16ToFloat32(h)));
    const bits = new Uint32Array(float16ArrayToFloat32(new Uint16Array([h])).buffer)[0];
    assert.ok((bits & 0x400000) !== 0, 'quiet bit in float32');
  }
});

test('float16: all 65536 patterns round-trip through float32 (NaN payloads aside)', () => {
  const all = new Uint16Array(65536);
  for (let h = 0; h < 65536; h++) all[h] = h;
  const wide = float16ArrayToFloat32(all);
  const back = float32ArrayToFloat16(wide);
  for (let h = 0; h < 65536; h++) {
    assert.equal(wide[h], float16ToFloat32(h));
    if (isF16NaN(h)) {
      assert.ok(Number.isNaN(wide[h]));
      assert.ok(isF16NaN(back[h]));
      assert.ok(isF16NaN(float32ToFloat16(float16ToFloat32(h))));
    } else {
      assert.equal(back[h], h, `0x${h.toString(16)}`);
      assert.equal(float32ToFloat16(float16ToFloat32(h)), h);
    }
  }
});

test('float16: random float32 inputs match a nearest-even reference', () => {
  // Reference: binary search among the finite positive float16 values, compare with the exact midpoint.
  const values = new Float64Array(0x7c00);
  for (let h = 0; h < 0x7c00; h++) values[h] = float16ToFloat32(h);
  const reference = (x: number): number => {
    const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
    const a = Math.abs(x);
    if (a >= 65520) return sign | 0x7c00;
    let lo = 0;
    let hi = 0x7bff;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (values[mid] <= a) lo = mid;
      else hi = mid - 1;
    }
    if (lo === 0x7bff || a === values[lo]) return sign | lo;
    const midpoint = (values[lo] + values[lo + 1]) / 2;
    if (a < midpoint) return sign | lo;
    if (a > midpoint) return sign | (lo + 1);
    return sign | (lo % 2 === 0 ? lo : lo + 1);
  };
  const next = xorshift(12345);
  const src = new Float32Array(200_000);
  const bits = new Uint32Array(src.buffer);
  for (let i = 0; i < bits.length; i++) {
    const r = next();
    // Half of the inputs near the float16 range (exponents 100..150), half anywhere.
    bits[i] = i % 2 === 0 ? (r & 0x807fffff) | ((100 + (r % 51)) << 23) : r;
    if (Number.isNaN(src[i])) bits[i] = 0x3f800000;
  }
  const out = float32ArrayToFloat16(src);
  for (let i = 0; i < src.length; i++) {
    assert.equal(out[i], reference(src[i]), `0x${bits[i].toString(16)}`);
    assert.equal(float32ToFloat16(src[i]), out[i]);
  }
});

test('bfloat16: exact known patterns and ties to even', () => {
  assert.equal(float32ToBfloat16(1), 0x3f80);
  assert.equal(bfloat16ToFloat32(0x3f80), 1);
  assert.equal(float32ToBfloat16(-2), 0xc000);
  assert.equal(float32ToBfloat16(1 + 2 ** -8), 0x3f80); // halfway between 0x3F80 (even) and 0x3F81
  assert.equal(float32ToBfloat16(1 + 3 * 2 ** -8), 0x3f82); // halfway between 0x3F81 and 0x3F82 (even)
  assert.equal(float32ToBfloat16(1 + 2 ** -8 + 2 ** -20), 0x3f81);
  assert.equal(float32ToBfloat16(1 + 2 ** -8 - 2 ** -20), 0x3f80);
  assert.equal(float32ToBfloat16(fromBits(0x7f7f0000)), 0x7f7f); // largest finite bfloat16
  assert.equal(float32ToBfloat16(fromBits(0x7f7f7fff)), 0x7f7f);
  assert.equal(float32ToBfloat16(fromBits(0x7f7f8000)), 0x7f80); // tie, 0x7F7F is odd → Infinity
  assert.equal(float32ToBfloat16(fromBits(0x7f7fffff)), 0x7f80); // float32 max overflows
  assert.equal(float32ToBfloat16(fromBits(0xff7fffff)), 0xff80);
  assert.equal(float32ToBfloat16(Number.POSITIVE_INFINITY), 0x7f80);
  assert.equal(float32ToBfloat16(Number.NEGATIVE_INFINITY), 0xff80);
  assert.equal(float32ToBfloat16(fromBits(0x00010000)), 0x0001); // subnormal, exact
  assert.equal(bfloat16ToFloat32(0x0001), fromBits(0x00010000));
  assert.equal(float32ToBfloat16(fromBits(0x00008000)), 0x0000); // tie between 0 (even) and 0x0001
  assert.equal(float32ToBfloat16(fromBits(0x00008001)), 0x0001);
  assert.equal(float32ToBfloat16(fromBits(0x00000001)), 0x0000);
  assert.equal(float32ToBfloat16(fromBits(0x00018000)), 0x0002); // tie between 0x0001 (odd) and 0x0002
  assert.equal(float32ToBfloat16(0), 0x0000);
  assert.equal(float32ToBfloat16(-0), 0x8000);
  assert.ok(Object.is(bfloat16ToFloat32(0x8000), -0));
  assert.equal(bfloat16ToFloat32(0x7f80), Number.POSITIVE_INFINITY);
});

test('bfloat16: NaN stays NaN, quiet', () => {
  for (const bits of [0x7fc00000, 0xffc00000, 0x7f800001, 0x7f810000, 0x7fffffff]) {
    const h = float32ArrayToBfloat16(new Float32Array(new Uint32Array([bits]).buffer))[0];
    assert.ok(isBf16NaN(h), `0x${bits.toString(16)} → 0x${h.toString(16)}`);
    assert.ok((h & 0x40) !== 0, 'quiet bit');
    assert.equal(h & 0x8000, (bits >>> 16) & 0x8000, 'sign kept');
  }
  assert.ok(isBf16NaN(float32ToBfloat16(Number.NaN)));
  assert.ok(Number.isNaN(bfloat16ToFloat32(0x7f81)));
});

test('bfloat16: all 65536 patterns round-trip through float32 (NaN payloads aside)', () => {
  const all = new Uint16Array(65536);
  for (let h = 0; h < 65536; h++) all[h] = h;
  const wide = bfloat16ArrayToFloat32(all);
  const back = float32ArrayToBfloat16(wide);
  for (let h = 0; h < 65536; h++) {
    if (isBf16NaN(h)) {
      assert.ok(Number.isNaN(wide[h]));
      assert.ok(isBf16NaN(back[h]));
    } else {
      assert.equal(wide[h], fromBits(h << 16));
      assert.equal(back[h], h, `0x${h.toString(16)}`);
      assert.equal(float32ToBfloat16(bfloat16ToFloat32(h)), h);
    }
  }
});

test('bfloat16: random float32 inputs match a nearest-even reference', () => {
  const next = xorshift(777);
  const src = new Float32Array(200_000);
  const bits = new Uint32Array(src.buffer);
  for (let i = 0; i < bits.length; i++) {
    bits[i] = next();
    if (Number.isNaN(src[i])) bits[i] = 0x40490fdb;
  }
  const out = float32ArrayToBfloat16(src);
  for (let i = 0; i < src.length; i++) {
    const b = bits[i];
    const sign = (b >>> 16) & 0x8000;
    const lo = (b >>> 16) & 0x7fff; // truncated magnitude
    const a = Math.abs(src[i]);
    const vLo = fromBits(lo << 16);
    const vHi = lo + 1 === 0x7f80 ? 2 ** 128 : fromBits((lo + 1) << 16);
    const midpoint = (vLo + vHi) / 2;
    let want: number;
    if (a === vLo || lo === 0x7f80) want = lo;
    else if (a < midpoint) want = lo;
    else if (a > midpoint) want = lo + 1;
    else want = lo % 2 === 0 ? lo : lo + 1;
    assert.equal(out[i], sign | want, `0x${b.toString(16)}`);
  }
});

test('array conversions check the destination length and fill a given destination', () => {
  assert.throws(() => float32ArrayToFloat16(new Float32Array(3), new Uint16Array(2)), RangeError);
  assert.throws(() => float16ArrayToFloat32(new Uint16Array(3), new Float32Array(4)), RangeError);
  const dst = new Float32Array(2);
  assert.equal(bfloat16ArrayToFloat32(new Uint16Array([0x3f80, 0xc000]), dst), dst);
  assert.deepEqual([...dst], [1, -2]);
  // A view at a non-zero offset of a larger buffer.
  const big = new Float32Array([9, 1, 0.5, 9]);
  assert.deepEqual([...float32ArrayToFloat16(big.subarray(1, 3))], [0x3c00, 0x3800]);
});

test('toFloat32 and fromFloat32 on tensors', () => {
  const h = new HostTensor('float16', [2, 2], new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00]));
  const w = toFloat32(h);
  assert.equal(w.dtype, 'float32');
  assert.deepEqual(w.shape, [2, 2]);
  assert.deepEqual([...w.data], [1, -2, 2 ** -24, Number.POSITIVE_INFINITY]);
  assert.deepEqual([...fromFloat32(w, 'float16').data], [...h.data]);

  const b = fromFloat32(HostTensor.float32([3], [1, 1 + 2 ** -8, -0.5]), 'bfloat16');
  assert.equal(b.dtype, 'bfloat16');
  assert.deepEqual([...b.data], [0x3f80, 0x3f80, 0xbf00]);
  assert.deepEqual([...toFloat32(b).data], [1, 1, -0.5]);

  const f = HostTensor.float32([1], [3]);
  assert.equal(toFloat32(f), f);

  const shared = HostTensor.zeros('bfloat16', [4], true);
  assert.ok(toFloat32(shared).data.buffer instanceof SharedArrayBuffer);

  assert.throws(() => toFloat32(HostTensor.zeros('int32', [2])), TypeError);
  assert.throws(() => toFloat32(HostTensor.zeros('bool', [2])), TypeError);
  assert.throws(() => fromFloat32(HostTensor.zeros('float16', [2]), 'bfloat16'), TypeError);
  assert.throws(() => fromFloat32(f, 'int32' as 'float16'), TypeError);
});

import { allocTypedArray } from './dtype.ts';
import { HostTensor } from './host-tensor.ts';

/**
 * float16 (IEEE 754 binary16) and bfloat16 conversions to and from float32.
 *
 * Half-precision values are raw 16-bit patterns (a number 0..0xFFFF, or a Uint16Array element). Narrowing from
 * float32 rounds to nearest, ties to even; overflow gives ±Infinity, fp16 subnormals are produced and read exactly,
 * ±0 keeps its sign, and NaN stays NaN with the quiet bit set (payload bits that fit are kept). Widening is exact.
 *
 * The scalar functions take a JS number; it is first rounded to float32 (as storing it in a Float32Array would), so
 * `float32ToFloat16(x)` equals converting `Math.fround(x)`. The array functions read and write the float32 bits
 * through a Uint32Array view of the same buffer, so NaN bit patterns are never canonicalised by the engine.
 */

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Bits of Math.fround(x). */
function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0];
}

function f32FromBits(bits: number): number {
  scratchU32[0] = bits;
  return scratchF32[0];
}

/** float32 bit pattern → float16 bit pattern, round to nearest even. */
function f32BitsToF16Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13); // ±Inf, quiet NaN
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // fp16 subnormal (or zero): value = m · 2^(e - 25) with the implicit bit restored, shifted down to units of 2^-24.
    if (e < -10) return sign; // below 2^-25: rounds to ±0 (exactly 2^-25 is a tie to even, also 0; handled below)
    const m = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h++; // may carry into the smallest normal, 0x0400
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry may reach the exponent: 0x7c00 is Infinity
  return sign | h;
}

/** float16 bit pattern → float32 bit pattern (exact; NaN made quiet). */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant === 0 ? 0 : 0x400000 | (mant << 13))) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal: normalise. mant · 2^-24 with the leading 1 at bit k (0..9) is 2^(k-24) · 1.f.
  const k = 31 - Math.clz32(mant);
  return (sign | ((k + 103) << 23) | ((mant << (23 - k)) & 0x7fffff)) >>> 0;
}

/** float32 bit pattern → bfloat16 bit pattern, round to nearest even. */
function f32BitsToBf16Bits(b: number): number {
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return (b >>> 16) | 0x40; // quiet NaN
  // Adding 0x7fff plus the lowest kept bit rounds to nearest even; no overflow past 2^32 for non-NaN inputs.
  return ((b >>> 0) + 0x7fff + ((b >>> 16) & 1)) >>> 16;
}

/** bfloat16 bit pattern → float32 bit pattern (exact; NaN made quiet). */
function bf16BitsToF32Bits(h: number): number {
  const b = (h << 16) >>> 0;
  return (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0 ? (b | 0x400000) >>> 0 : b;
}

/** The float16 bit pattern nearest to `x` (first rounded to float32). */
export function float32ToFloat16(x: number): number {
  return f32BitsToF16Bits(f32Bits(x));
}

/** The value of a float16 bit pattern. */
export function float16ToFloat32(h: number): number {
  return f32FromBits(f16BitsToF32Bits(h & 0xffff));
}

/** The bfloat16 bit pattern nearest to `x` (first rounded to float32). */
export function float32ToBfloat16(x: number): number {
  return f32BitsToBf16Bits(f32Bits(x));
}

/** The value of a bfloat16 bit pattern. */
export function bfloat16ToFloat32(h: number): number {
  return f32FromBits(bf16BitsToF32Bits(h & 0xffff));
}

function u32View(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function checkLength(src: { length: number }, dst: { length: number }): void {
  if (dst.length !== src.length) throw new RangeError(`destination has ${dst.length} elements, source ${src.length}`);
}

/** float16 patterns → float32 values, into `dst` (allocated when omitted). */
export function float16ArrayToFloat32(
  src: Uint16Array,
  dst: Float32Array = new Float32Array(src.length),
): Float32Array {
  checkLength(src, dst);
  const out = u32View(dst);
  for (let i = 0; i < src.length; i++) out[i] = f16BitsToF32Bits(src[i]);
  return dst;
}

/** float32 values → float16 patterns (round to nearest even), into `dst` (allocated when omitted). */
export function float32ArrayToFloat16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  checkLength(src, dst);
  const bits = u32View(src);
  for (let i = 0; i < bits.length; i++) dst[i] = f32BitsToF16Bits(bits[i]);
  return dst;
}

/** bfloat16 patterns → float32 values, into `dst` (allocated when omitted). */
export function bfloat16ArrayToFloat32(
  src: Uint16Array,
  dst: Float32Array = new Float32Array(src.length),
): Float32Array {
  checkLength(src, dst);
  const out = u32View(dst);
  for (let i = 0; i < src.length; i++) out[i] = bf16BitsToF32Bits(src[i]);
  return dst;
}

/** float32 values → bfloat16 patterns (round to nearest even), into `dst` (allocated when omitted). */
export function float32ArrayToBfloat16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  checkLength(src, dst);
  const bits = u32View(src);
  for (let i = 0; i < bits.length; i++) dst[i] = f32BitsToBf16Bits(bits[i]);
  return dst;
}

function isShared(data: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer;
}

/**
 * A float32 tensor with the values of `t`. float16 and bfloat16 are widened exactly into a new tensor (in a
 * SharedArrayBuffer when `t`'s data is); a float32 tensor is returned as is (no copy). Other dtypes: TypeError.
 */
export function toFloat32(t: HostTensor): HostTensor<'float32'> {
  switch (t.dtype) {
    case 'float32':
      return t as HostTensor<'float32'>;
    case 'float16':
    case 'bfloat16': {
      const src = t.data as Uint16Array;
      const dst = allocTypedArray('float32', src.length, isShared(src));
      if (t.dtype === 'float16') float16ArrayToFloat32(src, dst);
      else bfloat16ArrayToFloat32(src, dst);
      return new HostTensor('float32', t.shape, dst);
    }
    default:
      throw new TypeError(`toFloat32: ${t.dtype} is not a floating-point dtype`);
  }
}

/**
 * A new float16 or bfloat16 tensor from a float32 tensor, rounding to nearest even (in a SharedArrayBuffer when
 * `t`'s data is). TypeError when `t` is not float32.
 */
export function fromFloat32<D extends 'float16' | 'bfloat16'>(t: HostTensor, dtype: D): HostTensor<D> {
  if (t.dtype !== 'float32') throw new TypeError(`fromFloat32: expected a float32 tensor, got ${t.dtype}`);
  const src = t.data as Float32Array;
  const dst = allocTypedArray(dtype, src.length, isShared(src));
  if (dtype === 'float16') float32ArrayToFloat16(src, dst as Uint16Array);
  else if (dtype === 'bfloat16') float32ArrayToBfloat16(src, dst as Uint16Array);
  else throw new TypeError(`fromFloat32: target must be float16 or bfloat16, got ${String(dtype)}`);
  return new HostTensor(dtype, t.shape, dst);
}

import { HostTensor } from './host-tensor.ts';
import { numel, type Shape } from './shape.ts';

/**
 * Counter-based random numbers: Philox4x32-10 (J. K. Salmon, M. A. Moraes, R. O. Dror, D. E. Shaw, "Parallel random
 * numbers: as easy as 1, 2, 3", SC '11, doi:10.1145/2063384.2063405), bit-exact with the Random123 reference
 * implementation (`philox4x32_R` with R = 10; checked against its `kat_vectors`).
 *
 * Construction of draw `index` of stream `stream` under seed `seed`:
 * - key = (seed mod 2^32, floor(seed / 2^32)), the seed being a non-negative integer below 2^64.
 * - block = floor(index / 4); counter = (block mod 2^32, floor(block / 2^32), h mod 2^32, floor(h / 2^32)) where h
 *   is the 64-bit FNV-1a hash of the UTF-8 bytes of `stream`.
 * - uint32: word `index mod 4` of Philox4x32-10(counter, key).
 * - uniform: u = (word >>> 8) · 2^-24 + 2^-25, in (0, 1), computed in float64. The float32 result is Math.fround(u),
 *   except that the one value that would round up to 1 (word >>> 8 = 2^24 − 1) is stored as 1 − 2^-24.
 * - normal: Box–Muller on uniform pairs. For normal index i, p = floor(i / 2), u1 = uniform(2p), u2 = uniform(2p + 1)
 *   (float64), r = sqrt(−2 ln u1), z = r · cos(2π u2) for even i, r · sin(2π u2) for odd i; stored as float32.
 *   Normal i thus uses block floor(i / 4) of the same stream, like uint32 and uniform index i.
 *
 * Every draw is a pure function of (seed, stream, index): calls may be made in any order, and `offset` selects
 * where in the stream a call starts, so a draw at offset k equals element k of a longer draw from offset 0.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
// The multipliers in 16-bit halves, for an exact 32×32→64 product from four 16×16 partial products (each < 2^32).
const M0H = M0 >>> 16;
const M0L = M0 & 0xffff;
const M1H = M1 >>> 16;
const M1L = M1 & 0xffff;
const TWO_32 = 0x100000000;
const MAX_INDEX = Number.MAX_SAFE_INTEGER; // draw indices are below 2^53

const block = new Uint32Array(4); // output of the last philoxBlock call

/**
 * One Philox4x32-10 block: the 4 output words for counter (c0..c3) and key (k0, k1), all uint32, written to `block`.
 * As in Random123: round, then 9 times (bump key, round). A round with hi·lo = mulhilo(M0, x0), HI·LO = mulhilo(M1, x2)
 * maps (x0, x1, x2, x3) to (HI ^ x1 ^ k0, LO, hi ^ x3 ^ k1, lo); the key bump adds W0, W1 modulo 2^32.
 * Words are kept as int32 (same bits) so that V8 stays in integer arithmetic; no Math.imul, no BigInt.
 */
function philoxBlock(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): void {
  let x0 = c0 | 0;
  let x1 = c1 | 0;
  let x2 = c2 | 0;
  let x3 = c3 | 0;
  k0 |= 0;
  k1 |= 0;
  for (let r = 0; r < 10; r++) {
    // mulhilo(M0, x0): x0 = xh·2^16 + xl; the middle column collects the carries into the high word.
    let xl = x0 & 0xffff;
    let xh = x0 >>> 16;
    let ll = xl * M0L;
    let lh = xl * M0H;
    let hl = xh * M0L;
    let mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
    const hi0 = (xh * M0H + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
    const lo0 = (mid << 16) | (ll & 0xffff);
    // mulhilo(M1, x2)
    xl = x2 & 0xffff;
    xh = x2 >>> 16;
    ll = xl * M1L;
    lh = xl * M1H;
    hl = xh * M1L;
    mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
    const hi1 = (xh * M1H + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
    const lo1 = (mid << 16) | (ll & 0xffff);
    x0 = hi1 ^ x1 ^ k0;
    x1 = lo1;
    x2 = hi0 ^ x3 ^ k1;
    x3 = lo0;
    // Bump the key for the next round (the bump after the 10th round is unused).
    k0 = (k0 + W0) | 0;
    k1 = (k1 + W1) | 0;
  }
  block[0] = x0;
  block[1] = x1;
  block[2] = x2;
  block[3] = x3;
}

/** Philox4x32-10 of a counter (4 uint32) and key (2 uint32), as in Random123's `philox4x32(ctr, key)`. */
export function philox4x32_10(ctr: ArrayLike<number>, key: ArrayLike<number>): Uint32Array {
  philoxBlock(ctr[0] >>> 0, ctr[1] >>> 0, ctr[2] >>> 0, ctr[3] >>> 0, key[0] >>> 0, key[1] >>> 0);
  return block.slice();
}

/** 64-bit FNV-1a of the UTF-8 bytes of `s`, as [low 32 bits, high 32 bits]. */
export function fnv1a64(s: string): [number, number] {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(s)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return [Number(h & 0xffffffffn), Number(h >> 32n)];
}

const UNIFORM_SCALE = 2 ** -24;
const UNIFORM_BIAS = 2 ** -25;
const BELOW_ONE_F32 = 1 - 2 ** -24; // largest float32 below 1
const TWO_PI = 2 * Math.PI;

/** The uniform in (0, 1) of one word, in float64. */
function uniformOf(word: number): number {
  return (word >>> 8) * UNIFORM_SCALE + UNIFORM_BIAS;
}

/** The float32 uniform of one word: Math.fround of the float64 value, kept below 1. */
function uniformF32(word: number): number {
  const k = word >>> 8;
  return k === 0xffffff ? BELOW_ONE_F32 : k * UNIFORM_SCALE + UNIFORM_BIAS;
}

type Kind = 'uint32' | 'uniform' | 'normal';

/** Key, stream hash (as int32 bit patterns, so that calls pass small integers, not boxed doubles) and kind. */
interface Source {
  k0: number;
  k1: number;
  s0: number;
  s1: number;
  kind: Kind;
}

const values = new Float64Array(4); // the 4 draws of one block, for partial blocks

/** Computes block `b` and stores its 4 draws of `src.kind` in `values`. */
function blockValues(src: Source, b: number): void {
  philoxBlock(b | 0, (b / TWO_32) | 0, src.s0, src.s1, src.k0, src.k1);
  if (src.kind === 'uint32') {
    for (let j = 0; j < 4; j++) values[j] = block[j];
  } else if (src.kind === 'uniform') {
    for (let j = 0; j < 4; j++) values[j] = Math.fround(uniformF32(block[j]));
  } else {
    const r0 = Math.sqrt(-2 * Math.log(uniformOf(block[0])));
    const t0 = TWO_PI * uniformOf(block[1]);
    const r1 = Math.sqrt(-2 * Math.log(uniformOf(block[2])));
    const t1 = TWO_PI * uniformOf(block[3]);
    values[0] = r0 * Math.cos(t0);
    values[1] = r0 * Math.sin(t0);
    values[2] = r1 * Math.cos(t1);
    values[3] = r1 * Math.sin(t1);
  }
}

// Whole blocks b0 .. b0 + n − 1 into out[i .. i + 4n − 1]; one monomorphic loop per kind for speed.

function blocksUint32(src: Source, out: Uint32Array, i: number, b0: number, n: number): void {
  const { k0, k1, s0, s1 } = src;
  for (let b = b0; b < b0 + n; b++, i += 4) {
    philoxBlock(b | 0, (b / TWO_32) | 0, s0, s1, k0, k1);
    out[i] = block[0];
    out[i + 1] = block[1];
    out[i + 2] = block[2];
    out[i + 3] = block[3];
  }
}

function blocksUniform(src: Source, out: Float32Array, i: number, b0: number, n: number): void {
  const { k0, k1, s0, s1 } = src;
  for (let b = b0; b < b0 + n; b++, i += 4) {
    philoxBlock(b | 0, (b / TWO_32) | 0, s0, s1, k0, k1);
    out[i] = uniformF32(block[0]);
    out[i + 1] = uniformF32(block[1]);
    out[i + 2] = uniformF32(block[2]);
    out[i + 3] = uniformF32(block[3]);
  }
}

function blocksNormal(src: Source, out: Float32Array, i: number, b0: number, n: number): void {
  const { k0, k1, s0, s1 } = src;
  for (let b = b0; b < b0 + n; b++, i += 4) {
    philoxBlock(b | 0, (b / TWO_32) | 0, s0, s1, k0, k1);
    const r0 = Math.sqrt(-2 * Math.log(uniformOf(block[0])));
    const t0 = TWO_PI * uniformOf(block[1]);
    const r1 = Math.sqrt(-2 * Math.log(uniformOf(block[2])));
    const t1 = TWO_PI * uniformOf(block[3]);
    out[i] = r0 * Math.cos(t0);
    out[i + 1] = r0 * Math.sin(t0);
    out[i + 2] = r1 * Math.cos(t1);
    out[i + 3] = r1 * Math.sin(t1);
  }
}

/** Fills `out` with the draws at indices offset .. offset + out.length − 1. */
function fill(src: Source, out: Float32Array | Uint32Array, offset: number): void {
  const count = out.length;
  let i = 0;
  // Leading partial block.
  if (offset % 4 !== 0 && count > 0) {
    blockValues(src, Math.floor(offset / 4));
    for (let j = offset % 4; j < 4 && i < count; j++) out[i++] = values[j];
  }
  // Whole blocks.
  const n = Math.floor((count - i) / 4);
  const b0 = (offset + i) / 4;
  if (src.kind === 'uint32') blocksUint32(src, out as Uint32Array, i, b0, n);
  else if (src.kind === 'uniform') blocksUniform(src, out as Float32Array, i, b0, n);
  else blocksNormal(src, out as Float32Array, i, b0, n);
  i += 4 * n;
  // Trailing partial block.
  if (i < count) {
    blockValues(src, (offset + i) / 4);
    for (let j = 0; i < count; j++) out[i++] = values[j];
  }
}

/** A Philox4x32-10 generator keyed by a seed; see the module comment for the exact construction. */
export class Rng {
  /** The seed, as given (a non-negative integer below 2^53, or a bigint below 2^64). */
  readonly seed: number | bigint;
  private readonly k0: number;
  private readonly k1: number;

  constructor(seed: number | bigint) {
    if (typeof seed === 'bigint') {
      if (seed < 0n || seed >= 1n << 64n) throw new RangeError(`seed must be in [0, 2^64), got ${seed}`);
      this.k0 = Number(seed & 0xffffffffn);
      this.k1 = Number(seed >> 32n);
    } else {
      if (!Number.isSafeInteger(seed) || seed < 0) {
        throw new RangeError(`seed must be a non-negative integer below 2^53, got ${seed}`);
      }
      this.k0 = seed % TWO_32;
      this.k1 = Math.floor(seed / TWO_32);
    }
    this.seed = seed;
  }

  /** `count` raw uint32 words of `stream`, starting at index `offset`. */
  uint32(stream: string, count: number, offset = 0): Uint32Array {
    const out = new Uint32Array(checkRange(count, offset));
    fill(this.source(stream, 'uint32'), out, offset);
    return out;
  }

  /** `count` uniforms in (0, 1) of `stream`, starting at index `offset`. */
  uniform(stream: string, count: number, offset = 0): Float32Array {
    const out = new Float32Array(checkRange(count, offset));
    fill(this.source(stream, 'uniform'), out, offset);
    return out;
  }

  /** `count` standard normals of `stream` (Box–Muller), starting at index `offset`. */
  normal(stream: string, count: number, offset = 0): Float32Array {
    const out = new Float32Array(checkRange(count, offset));
    fill(this.source(stream, 'normal'), out, offset);
    return out;
  }

  /** A float32 tensor of uniforms in (0, 1), in row-major order from index `offset` of `stream`. */
  rand(stream: string, shape: Shape, offset = 0): HostTensor<'float32'> {
    return new HostTensor('float32', shape, this.uniform(stream, numel(shape), offset));
  }

  /** A float32 tensor of standard normals, in row-major order from index `offset` of `stream`. */
  randn(stream: string, shape: Shape, offset = 0): HostTensor<'float32'> {
    return new HostTensor('float32', shape, this.normal(stream, numel(shape), offset));
  }

  private source(stream: string, kind: Kind): Source {
    const [s0, s1] = fnv1a64(stream);
    return { k0: this.k0 | 0, k1: this.k1 | 0, s0: s0 | 0, s1: s1 | 0, kind };
  }
}

function checkRange(count: number, offset: number): number {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer: ${count}`);
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`offset must be a non-negative integer: ${offset}`);
  }
  if (offset + count > MAX_INDEX) throw new RangeError(`draw indices must stay below 2^53: ${offset} + ${count}`);
  return count;
}

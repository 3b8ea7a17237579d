/**
 * Element types the project handles, and the typed array that stores each.
 *
 * float16 and bfloat16 are stored as their raw 16-bit patterns in a Uint16Array (Node 20 has no Float16Array);
 * `src/tensor/half.ts` converts them to and from float32. bool is stored one byte per element (0 or 1), as ONNX does.
 */
export type DType = 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'uint8' | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float16', 'bfloat16', 'int64', 'int32', 'uint8', 'bool'];

/** The typed array that holds the elements of each dtype. */
export interface TypedArrayOf {
  float32: Float32Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

export type AnyTypedArray = TypedArrayOf[DType];

/** Bytes per element. */
export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

export function isFloatDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16';
}

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

/** Allocates a zero-filled typed array of `length` elements for `dtype`, optionally over a given buffer. */
export function allocTypedArray<D extends DType>(dtype: D, length: number, shared = false): TypedArrayOf[D] {
  const bytes = length * BYTES_PER_ELEMENT[dtype];
  const buffer = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  return viewTypedArray(dtype, buffer, 0, length);
}

/** A typed-array view of `length` elements of `dtype` at `byteOffset` in `buffer` (no copy). */
export function viewTypedArray<D extends DType>(
  dtype: D,
  buffer: ArrayBufferLike,
  byteOffset: number,
  length: number,
): TypedArrayOf[D] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, length) as TypedArrayOf[D];
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer, byteOffset, length) as TypedArrayOf[D];
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, length) as TypedArrayOf[D];
    case 'int32':
      return new Int32Array(buffer, byteOffset, length) as TypedArrayOf[D];
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, length) as TypedArrayOf[D];
    default:
      throw new TypeError(`unknown dtype ${String(dtype)}`);
  }
}

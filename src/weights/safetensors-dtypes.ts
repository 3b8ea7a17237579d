import type { DType } from '../tensor/dtype.ts';

/** Safetensors dtype names this project reads and writes, and the project dtype each maps to. */
export const SAFETENSORS_TO_DTYPE: Readonly<Record<string, DType>> = Object.freeze({
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  U8: 'uint8',
  BOOL: 'bool',
});

/** The safetensors name of each project dtype. */
export const DTYPE_TO_SAFETENSORS: Readonly<Record<DType, string>> = Object.freeze({
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
});

/** Dtypes the safetensors format defines but this project does not support (for a clearer error message). */
const UNSUPPORTED = new Set([
  'F64',
  'I8',
  'I16',
  'U16',
  'U32',
  'U64',
  'F8_E4M3',
  'F8_E5M2',
  'F8_E8M0',
  'F6_E2M3',
  'F6_E3M2',
  'F4',
  'C64',
]);

/** The project dtype for a safetensors dtype name, or undefined if it is unknown or unsupported. */
export function dtypeFromSafetensors(name: string): DType | undefined {
  return Object.hasOwn(SAFETENSORS_TO_DTYPE, name) ? SAFETENSORS_TO_DTYPE[name] : undefined;
}

/** Why a dtype name was rejected, for messages: "unsupported dtype "F64"" or "unknown dtype "XYZ"". */
export function describeBadDType(name: string): string {
  return `${UNSUPPORTED.has(name) ? 'unsupported' : 'unknown'} dtype ${JSON.stringify(name)}`;
}

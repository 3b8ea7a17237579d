/**
 * ONNX Cast from a float tensor to each element type the project handles (src/tensor/dtype.ts), with the result kept
 * in a float64 tensor: the values are exactly those the target type holds.
 */
import type { DType } from '../../tensor/dtype.ts';
import { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from '../../tensor/half.ts';
import { unary } from './elementwise.ts';
import type { F64Tensor } from './tensor.ts';

/** Cast to float32 and back: round to nearest-even float32 (Math.fround); overflow gives ±∞. */
export function castFloat32(x: F64Tensor): F64Tensor {
  return unary(x, Math.fround);
}

/**
 * Cast to an integer type: truncation toward zero (C's float→int conversion, which ONNX Runtime uses). Values that do
 * not fit the target type, and NaN, are undefined behaviour in ONNX; here NaN stays NaN and ±∞ stays ±∞.
 */
export function castInt(x: F64Tensor): F64Tensor {
  return unary(x, (v) => (Number.isFinite(v) ? Math.trunc(v) + 0 : v));
}

/** Cast to bool: 1 for any nonzero value (NaN included, as C++ bool conversion), 0 for ±0. */
export function castBool(x: F64Tensor): F64Tensor {
  return unary(x, (v) => (v !== 0 ? 1 : 0));
}

/**
 * ONNX Cast to `to`, as from a float32 source: float32 rounds (Math.fround); float16 / bfloat16 round to nearest-even
 * from the float32 value (the float32 → half conversion ONNX Runtime performs); integer types truncate toward zero;
 * bool is nonzero.
 */
export function cast(x: F64Tensor, to: DType): F64Tensor {
  switch (to) {
    case 'float32':
      return castFloat32(x);
    case 'float16':
      return unary(x, (v) => float16ToFloat32(float32ToFloat16(v)));
    case 'bfloat16':
      return unary(x, (v) => bfloat16ToFloat32(float32ToBfloat16(v)));
    case 'int64':
    case 'int32':
    case 'uint8':
      return castInt(x);
    case 'bool':
      return castBool(x);
  }
}

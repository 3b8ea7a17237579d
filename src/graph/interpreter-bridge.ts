/** Conversions between host tensors and the interpreter's float64 tensors. */
import type { DType } from '../tensor/dtype.ts';
import { toFloat32 } from '../tensor/half.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import type { F64Tensor } from './interpreter/tensor.ts';

export function isF64Tensor(v: unknown): v is F64Tensor {
  return typeof v === 'object' && v !== null && (v as F64Tensor).data instanceof Float64Array;
}

/** Any host tensor (or an F64Tensor, returned as is) as float64. */
export function toFloat64(t: HostTensor | F64Tensor): F64Tensor {
  if (isF64Tensor(t)) return t;
  const shape = [...t.shape];
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') return { shape, data: Float64Array.from(toFloat32(t).data) };
  if (t.dtype === 'int64') {
    const src = t.data as BigInt64Array;
    const data = new Float64Array(src.length);
    for (let i = 0; i < src.length; i++) data[i] = Number(src[i]);
    return { shape, data };
  }
  return { shape, data: Float64Array.from(t.data as ArrayLike<number>) };
}

/** An F64 tensor rounded to a host tensor of `dtype` (float32 by default). */
export function fromFloat64(t: F64Tensor, dtype: DType = 'float32'): HostTensor {
  switch (dtype) {
    case 'float32':
      return new HostTensor('float32', t.shape, Float32Array.from(t.data));
    case 'int64':
      return HostTensor.int64(
        t.shape,
        Array.from(t.data, (v) => Math.trunc(v)),
      );
    case 'int32':
      return new HostTensor('int32', t.shape, Int32Array.from(t.data));
    case 'uint8':
    case 'bool':
      return new HostTensor(dtype, t.shape, Uint8Array.from(t.data));
    default:
      throw new TypeError(`fromFloat64: ${dtype} not supported`);
  }
}

/**
 * Reads a golden `.safetensors` file whole, every dtype included (`F64`, which the project's reader refuses: the
 * multi-view sets hold `batch.polars_rad` / `batch.azimuths_rad` in float64), as float64 tensors for the comparisons.
 */
import { readFileSync } from 'node:fs';
import type { F64Tensor } from '../../src/graph/interpreter/tensor.ts';

const READ: Record<string, (v: DataView, offset: number) => number> = {
  F64: (v, o) => v.getFloat64(o, true),
  F32: (v, o) => v.getFloat32(o, true),
  I64: (v, o) => Number(v.getBigInt64(o, true)),
  U8: (v, o) => v.getUint8(o),
};
const SIZE: Record<string, number> = { F64: 8, F32: 4, I64: 8, U8: 1 };

export function readSafetensorsF64(path: string): Map<string, F64Tensor & { dtype: string }> {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, F64Tensor & { dtype: string }>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const read = READ[e.dtype];
    if (!read) throw new Error(`${path}: ${name} has dtype ${e.dtype}`);
    const start = 8 + headerLength + e.data_offsets[0];
    const n = (e.data_offsets[1] - e.data_offsets[0]) / SIZE[e.dtype];
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = read(view, start + i * SIZE[e.dtype]);
    out.set(name, { dtype: e.dtype, shape: e.shape, data });
  }
  return out;
}

/**
 * Plain data model of an ONNX model and its protobuf encoding (onnx.proto, IR version 11 / opset 23).
 * Field numbers follow onnx/onnx.proto. onnx.proto is proto2, so repeated scalars are written unpacked.
 */
import type { DType } from '../../tensor/dtype.ts';
import type { Shape } from '../../tensor/shape.ts';
import { ProtoWriter } from './protobuf-writer.ts';

/** TensorProto.DataType codes. */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  bfloat16: 16,
};

export type AttrValue =
  | { kind: 'int'; value: number | bigint }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: readonly (number | bigint)[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'tensor'; value: OnnxTensor };

export interface OnnxTensor {
  name: string;
  dtype: DType;
  dims: Shape;
  /** Little-endian raw bytes. */
  raw: Uint8Array;
}

export interface OnnxNode {
  opType: string;
  domain?: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attrs?: Readonly<Record<string, AttrValue>>;
}

export interface OnnxValueInfo {
  name: string;
  dtype: DType;
  shape: Shape;
  /** Symbolic dimensions: where an entry is a string, that dimension is written as `dim_param` (any size). */
  dimParams?: readonly (string | undefined)[];
}

export interface OnnxModel {
  graphName: string;
  nodes: readonly OnnxNode[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  initializers: readonly OnnxTensor[];
  /** domain → opset version; '' is ai.onnx. */
  opsets: Readonly<Record<string, number>>;
  irVersion?: number;
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

function encodeTensor(t: OnnxTensor): Uint8Array {
  const w = new ProtoWriter();
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, ONNX_DTYPE[t.dtype]);
  w.string(8, t.name);
  w.bytes(9, t.raw);
  return w.finish();
}

function encodeAttr(name: string, a: AttrValue): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.varint(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'tensor':
      w.message(5, encodeTensor(a.value));
      break;
    case 'floats':
      for (const v of a.value) w.float(7, v);
      break;
    case 'ints':
      for (const v of a.value) w.varint(8, v);
      break;
  }
  w.varint(20, ATTR_TYPE[a.kind]);
  return w.finish();
}

function encodeNode(n: OnnxNode): Uint8Array {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, encodeAttr(k, v));
  if (n.domain) w.string(7, n.domain);
  return w.finish();
}

function encodeValueInfo(v: OnnxValueInfo): Uint8Array {
  const shape = new ProtoWriter();
  v.shape.forEach((d, i) => {
    const param = v.dimParams?.[i];
    shape.message(
      1,
      param === undefined ? new ProtoWriter().varint(1, d).finish() : new ProtoWriter().string(2, param).finish(),
    );
  });
  const tensorType = new ProtoWriter().varint(1, ONNX_DTYPE[v.dtype]).message(2, shape.finish()).finish();
  const type = new ProtoWriter().message(1, tensorType).finish();
  return new ProtoWriter().string(1, v.name).message(2, type).finish();
}

/** Serialises a model to ONNX protobuf bytes. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const g = new ProtoWriter();
  for (const n of m.nodes) g.message(1, encodeNode(n));
  g.string(2, m.graphName);
  for (const t of m.initializers) g.message(5, encodeTensor(t));
  for (const v of m.inputs) g.message(11, encodeValueInfo(v));
  for (const v of m.outputs) g.message(12, encodeValueInfo(v));
  const w = new ProtoWriter();
  w.varint(1, m.irVersion ?? 11);
  w.string(2, 'svd-ts');
  w.message(7, g.finish());
  for (const [domain, version] of Object.entries(m.opsets)) {
    const op = new ProtoWriter();
    if (domain) op.string(1, domain);
    op.varint(2, version);
    w.message(8, op.finish());
  }
  return w.finish();
}

/** Attribute constructors. */
export const attr = {
  int: (value: number | bigint): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
  ints: (value: readonly (number | bigint)[]): AttrValue => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): AttrValue => ({ kind: 'floats', value }),
  tensor: (value: OnnxTensor): AttrValue => ({ kind: 'tensor', value }),
};

/** An int64 1-D tensor (for Reshape shapes, Slice starts, etc.). */
export function int64Tensor(name: string, values: readonly number[]): OnnxTensor {
  const data = new BigInt64Array(values.map((v) => BigInt(v)));
  return { name, dtype: 'int64', dims: [values.length], raw: new Uint8Array(data.buffer) };
}

export function float32Tensor(name: string, dims: Shape, values: ArrayLike<number>): OnnxTensor {
  const data = Float32Array.from(values);
  return { name, dtype: 'float32', dims, raw: new Uint8Array(data.buffer) };
}

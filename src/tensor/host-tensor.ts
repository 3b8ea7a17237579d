import { allocTypedArray, type DType, type TypedArrayOf } from './dtype.ts';
import { formatShape, isValidShape, numel, type Shape } from './shape.ts';

/**
 * A tensor in host memory: a dtype, readonly dims and a typed array holding the elements in row-major order.
 * The data may live in a SharedArrayBuffer, which the engine worker reads without a copy.
 */
export class HostTensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: Shape;
  readonly data: TypedArrayOf[D];

  constructor(dtype: D, shape: Shape, data: TypedArrayOf[D]) {
    if (!isValidShape(shape)) throw new TypeError(`invalid shape ${JSON.stringify(shape)}`);
    const n = numel(shape);
    if (data.length !== n) {
      throw new RangeError(`${dtype} tensor of shape ${formatShape(shape)} needs ${n} elements, got ${data.length}`);
    }
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  get size(): number {
    return this.data.length;
  }

  /** A zero-filled tensor; `shared` puts it in a SharedArrayBuffer. */
  static zeros<D extends DType>(dtype: D, shape: Shape, shared = false): HostTensor<D> {
    return new HostTensor(dtype, shape, allocTypedArray(dtype, numel(shape), shared));
  }

  /** A float32 tensor from numbers (copied). */
  static float32(shape: Shape, values: ArrayLike<number>): HostTensor<'float32'> {
    return new HostTensor('float32', shape, Float32Array.from(values));
  }

  /** An int64 tensor from numbers or bigints (copied). */
  static int64(shape: Shape, values: ArrayLike<number | bigint>): HostTensor<'int64'> {
    const data = new BigInt64Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]);
    return new HostTensor('int64', shape, data);
  }

  /** Same data, another shape with the same element count (no copy). */
  reshape(shape: Shape): HostTensor<D> {
    return new HostTensor(this.dtype, shape, this.data);
  }

  toString(): string {
    return `HostTensor(${this.dtype}, ${formatShape(this.shape)})`;
  }
}

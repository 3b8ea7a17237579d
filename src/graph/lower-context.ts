/**
 * What an op's lowering sees: a way to emit ONNX nodes, make fresh value names and small constant initializers.
 */
import type { DType } from '../tensor/dtype.ts';
import type { Shape } from '../tensor/shape.ts';
import {
  type AttrValue,
  attr,
  float32Tensor,
  int64Tensor,
  type OnnxNode,
  type OnnxTensor,
} from './onnx/model-proto.ts';

export class LoweringContext {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private counter = 0;
  private readonly constCache = new Map<string, string>();

  /** Shape and dtype of an ONNX value already defined (graph inputs and lowered outputs). */
  constructor(readonly infoOf: (name: string) => { shape: Shape; dtype: DType }) {}

  fresh(hint = 't'): string {
    return `_${hint}${this.counter++}`;
  }

  /** Emits one ONNX node. Returns its first output name. */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[] | number = 1,
    attrs: Record<string, AttrValue> = {},
    domain = '',
  ): string {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType)) : outputs;
    this.nodes.push({ opType, domain, inputs, outputs: outs, attrs });
    return outs[0];
  }

  /**
   * Names the nodes emitted since index `from` `<scope>/<OpType>_<index>` (unique within the model; ORT's profiler
   * reports these names, so time can be summed per model block).
   */
  nameNodesFrom(from: number, scope: string): void {
    for (let i = from; i < this.nodes.length; i++) {
      const n = this.nodes[i];
      if (!n.name) this.nodes[i] = { ...n, name: `${scope}/${n.opType}_${i}` };
    }
  }

  /** A 1-D int64 constant (deduplicated). */
  int64s(values: readonly number[]): string {
    const key = `i64:${values.join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.fresh('c');
      this.initializers.push(int64Tensor(name, values));
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A float32 constant of the given dims (deduplicated for scalars). */
  float32(values: ArrayLike<number>, dims: Shape = []): string {
    const key = dims.length === 0 ? `f32:${values[0]}` : '';
    if (key) {
      const hit = this.constCache.get(key);
      if (hit) return hit;
    }
    const name = this.fresh('c');
    this.initializers.push(float32Tensor(name, dims, values));
    if (key) this.constCache.set(key, name);
    return name;
  }

  initializer(t: OnnxTensor): void {
    this.initializers.push(t);
  }
}

export { attr };

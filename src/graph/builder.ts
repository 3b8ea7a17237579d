/**
 * Tracing: model code calls ops on symbolic tensors; each call infers its output shape and dtype at once (so a shape
 * error is thrown at the call that caused it) and appends a node to the graph under construction.
 */
import type { DType } from '../tensor/dtype.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import { formatShape, isValidShape, numel, type Shape } from '../tensor/shape.ts';
import { GraphError, ShapeError } from './errors.ts';
import type { Attrs, Graph, GraphInput, GraphOutput, InputKind, Node, ValueInfo } from './ir.ts';
import { getOp } from './op-registry.ts';

/** A symbolic tensor: a value of the graph being built, with a static shape and dtype. */
export class SymTensor implements ValueInfo {
  constructor(
    readonly builder: GraphBuilder,
    readonly id: number,
    readonly shape: Shape,
    readonly dtype: DType,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return numel(this.shape);
  }

  toString(): string {
    return `SymTensor(%${this.id}, ${this.dtype}, ${formatShape(this.shape)})`;
  }
}

export class GraphBuilder {
  private readonly values: ValueInfo[] = [];
  private readonly nodes: Node[] = [];
  private readonly inputs: GraphInput[] = [];
  private readonly inputByName = new Map<string, SymTensor>();
  private readonly outputs: GraphOutput[] = [];
  private readonly constants = new Map<number, HostTensor>();
  private readonly scopes: string[] = [];

  constructor(readonly name = 'graph') {}

  private newValue(info: ValueInfo): SymTensor {
    const id = this.values.length;
    this.values.push({ shape: Object.freeze([...info.shape]), dtype: info.dtype });
    return new SymTensor(this, id, this.values[id].shape, info.dtype);
  }

  private addInput(name: string, shape: Shape, dtype: DType, kind: InputKind): SymTensor {
    if (!isValidShape(shape)) throw new GraphError(`${kind} "${name}": invalid shape ${JSON.stringify(shape)}`);
    const existing = this.inputByName.get(name);
    if (existing) {
      const kindOf = this.inputs.find((i) => i.name === name)?.kind;
      if (kindOf !== kind || existing.dtype !== dtype || formatShape(existing.shape) !== formatShape(shape)) {
        throw new GraphError(
          `${kind} "${name}" declared twice: ${existing.dtype} ${formatShape(existing.shape)} vs ${dtype} ${formatShape(shape)}`,
        );
      }
      return existing;
    }
    const t = this.newValue({ shape, dtype });
    this.inputs.push({ name, value: t.id, kind });
    this.inputByName.set(name, t);
    return t;
  }

  /** A run-time input fed by the caller. */
  input(name: string, shape: Shape, dtype: DType = 'float32'): SymTensor {
    return this.addInput(name, shape, dtype, 'input');
  }

  /** A weight, fed from the engine's weight store by name (DESIGN.md decision 1). Same name → same value. */
  weight(name: string, shape: Shape, dtype: DType = 'float32'): SymTensor {
    return this.addInput(name, shape, dtype, 'weight');
  }

  /** A constant baked into the graph (keep these small; weights belong in the weight store). */
  constant(value: HostTensor | number, dtype: DType = 'float32'): SymTensor {
    const t = typeof value === 'number' ? scalarTensor(value, dtype) : value;
    const sym = this.newValue({ shape: t.shape, dtype: t.dtype });
    this.constants.set(sym.id, t);
    return sym;
  }

  /**
   * Traces `fn` inside a named scope: its nodes carry the scope (nested scopes joined by '/'), which transformations
   * can select, e.g. activation recomputation of chosen blocks in `valueAndGrad(…, { recompute })`.
   */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** The current scope path ('' outside any scope). */
  get currentScope(): string {
    return this.scopes.join('/');
  }

  /** Appends a node of a registered primitive op; returns its outputs. `scope` overrides the current scope. */
  emit(op: string, inputs: readonly (SymTensor | undefined)[], attrs: Attrs = {}, scope?: string): SymTensor[] {
    for (const x of inputs) {
      if (x && x.builder !== this) throw new GraphError(`${op}: input ${x} belongs to another graph`);
    }
    const def = getOp(op);
    const infos = def.infer(inputs, attrs);
    for (const info of infos) {
      if (!isValidShape(info.shape)) throw new ShapeError(op, `invalid output shape ${JSON.stringify(info.shape)}`);
    }
    const outs = infos.map((info) => this.newValue(info));
    const nodeScope = scope ?? this.currentScope;
    this.nodes.push({
      op,
      inputs: inputs.map((x) => (x ? x.id : -1)),
      outputs: outs.map((o) => o.id),
      attrs: Object.freeze({ ...attrs }),
      ...(nodeScope ? { scope: nodeScope } : {}),
    });
    return outs;
  }

  /** Marks a value as a named graph output. */
  output(name: string, value: SymTensor): void {
    if (value.builder !== this) throw new GraphError(`output "${name}" belongs to another graph`);
    if (this.outputs.some((o) => o.name === name)) throw new GraphError(`output "${name}" declared twice`);
    if (this.inputByName.has(name)) {
      throw new GraphError(`output "${name}" has the name of an input; ONNX names must be unique (e.g. "new_${name}")`);
    }
    this.outputs.push({ name, value: value.id });
  }

  build(): Graph {
    if (this.outputs.length === 0) throw new GraphError(`graph "${this.name}" has no outputs`);
    return Object.freeze({
      name: this.name,
      values: [...this.values],
      nodes: [...this.nodes],
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      constants: new Map(this.constants),
    });
  }
}

function scalarTensor(value: number, dtype: DType): HostTensor {
  switch (dtype) {
    case 'float32':
      return HostTensor.float32([], [value]);
    case 'int64':
      return HostTensor.int64([], [value]);
    case 'int32':
      return new HostTensor('int32', [], Int32Array.of(value));
    case 'uint8':
    case 'bool':
      return new HostTensor(dtype, [], Uint8Array.of(value));
    default:
      throw new GraphError(`constant: scalar of dtype ${dtype} is not supported; pass a HostTensor`);
  }
}

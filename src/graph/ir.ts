/**
 * The graph IR: a list of nodes in topological order over values with static shapes and dtypes.
 *
 * A graph is built by tracing model code (`builder.ts`), lowered to ONNX (`lower.ts`), interpreted in float64
 * (`interpret.ts`), and — in the autodiff work — transformed into gradient graphs. Nodes name a primitive op from
 * the registry (`op-registry.ts`); composite layers (group norm, variance, ...) are expressed with primitives.
 */
import type { DType } from '../tensor/dtype.ts';
import type { HostTensor } from '../tensor/host-tensor.ts';
import type { Shape } from '../tensor/shape.ts';

export interface ValueInfo {
  readonly shape: Shape;
  readonly dtype: DType;
}

/** Attribute values of a primitive op: numbers, strings, number lists, booleans. */
export type AttrValue = number | string | boolean | readonly number[] | null;
export type Attrs = Readonly<Record<string, AttrValue>>;

export interface Node {
  readonly op: string;
  /** Value ids; -1 marks an absent optional input. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly attrs: Attrs;
  /** The builder scope the node was traced in (`GraphBuilder.scope`), e.g. `input_blocks.1/time_stack`. */
  readonly scope?: string;
}

/** Where a graph input's value comes from at run time. */
export type InputKind = 'input' | 'weight';

export interface GraphInput {
  readonly name: string;
  readonly value: number;
  readonly kind: InputKind;
}

export interface GraphOutput {
  readonly name: string;
  readonly value: number;
}

/** A finished, immutable graph. */
export interface Graph {
  readonly name: string;
  readonly values: readonly ValueInfo[];
  readonly nodes: readonly Node[];
  readonly inputs: readonly GraphInput[];
  readonly outputs: readonly GraphOutput[];
  /** Constant values (small tensors baked into the graph), by value id. */
  readonly constants: ReadonlyMap<number, HostTensor>;
}

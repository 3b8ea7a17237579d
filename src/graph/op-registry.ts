/**
 * The registry of primitive ops. Each op knows how to infer its outputs' shapes and dtypes (throwing a ShapeError
 * that names the op and the shapes), how to lower itself to ONNX nodes, and how to compute itself in float64 in the
 * reference interpreter. The autodiff work adds a VJP rule per op.
 */
import type { F64Tensor } from './interpreter/tensor.ts';
import type { Attrs, ValueInfo } from './ir.ts';
import type { LoweringContext } from './lower-context.ts';

export interface OpDef {
  readonly name: string;
  /** Output infos from input infos (absent optional inputs are undefined). */
  infer(inputs: readonly (ValueInfo | undefined)[], attrs: Attrs): ValueInfo[];
  /** Emits ONNX nodes computing `outputs` (ONNX value names) from `inputs` (names, '' for absent). */
  lower(ctx: LoweringContext, inputs: readonly string[], outputs: readonly string[], attrs: Attrs): void;
  /** float64 reference semantics. */
  interpret(inputs: readonly (F64Tensor | undefined)[], attrs: Attrs, infos: readonly ValueInfo[]): F64Tensor[];
}

const registry = new Map<string, OpDef>();

export function registerOp(def: OpDef): OpDef {
  if (registry.has(def.name)) throw new Error(`op ${def.name} registered twice`);
  registry.set(def.name, def);
  return def;
}

export function getOp(name: string): OpDef {
  const def = registry.get(name);
  if (!def) throw new Error(`unknown op ${name}`);
  return def;
}

export function registeredOps(): string[] {
  return [...registry.keys()].sort();
}

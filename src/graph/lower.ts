/**
 * Lowering: graph IR → ONNX model (ai.onnx opset 23 + com.microsoft opset 1). Graph inputs (run-time inputs and
 * weights, DESIGN.md decision 1) become ONNX graph inputs under their own names; constants become initializers.
 * Nodes traced in a builder scope are named `<scope>/<OpType>_<index>`, so ORT's profile (which reports node names)
 * can be summed per block of the model.
 */
import { createHash } from 'node:crypto';
import type { DType } from '../tensor/dtype.ts';
import type { Shape } from '../tensor/shape.ts';
import type { Graph } from './ir.ts';
import { LoweringContext } from './lower-context.ts';
import { encodeModel, type OnnxModel } from './onnx/model-proto.ts';
import { getOp } from './op-registry.ts';
import './ops/index.ts';

export const OPSETS = { '': 23, 'com.microsoft': 1 } as const;

export interface LoweredGraph {
  model: OnnxModel;
  bytes: Uint8Array;
  /** sha256 of the bytes: the graph's identity in session caches. */
  hash: string;
}

export function toOnnxModel(graph: Graph): OnnxModel {
  const names = new Map<number, string>();
  const infoByName = new Map<string, { shape: Shape; dtype: DType }>();
  const ctx = new LoweringContext((name) => {
    const info = infoByName.get(name);
    if (!info) throw new Error(`lowering: no info for ${name}`);
    return info;
  });
  const setName = (id: number, name: string) => {
    names.set(id, name);
    infoByName.set(name, graph.values[id]);
  };
  for (const inp of graph.inputs) setName(inp.value, inp.name);
  // An output produced by a node takes the output's name directly; further aliases get an Identity.
  const aliases: { from: number; to: string }[] = [];
  for (const out of graph.outputs) {
    if (names.has(out.value) || graph.constants.has(out.value)) aliases.push({ from: out.value, to: out.name });
    else setName(out.value, out.name);
  }
  for (const [id, t] of graph.constants) {
    const name = `const${id}`;
    setName(id, name);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    ctx.initializer({ name, dtype: t.dtype, dims: t.shape, raw: bytes });
  }
  for (const node of graph.nodes) {
    for (const o of node.outputs) if (!names.has(o)) setName(o, `v${o}`);
    const ins = node.inputs.map((i) => (i < 0 ? '' : names.get(i)!));
    const outs = node.outputs.map((o) => names.get(o)!);
    const first = ctx.nodes.length;
    getOp(node.op).lower(ctx, ins, outs, node.attrs);
    if (node.scope) ctx.nameNodesFrom(first, node.scope);
  }
  for (const a of aliases) {
    ctx.node('Identity', [names.get(a.from)!], [a.to]);
    infoByName.set(a.to, graph.values[a.from]);
  }
  return {
    graphName: graph.name,
    nodes: ctx.nodes,
    initializers: ctx.initializers,
    inputs: graph.inputs.map((i) => ({ name: i.name, ...graph.values[i.value] })),
    outputs: graph.outputs.map((o) => ({ name: o.name, ...graph.values[o.value] })),
    opsets: OPSETS,
  };
}

export function lowerGraph(graph: Graph): LoweredGraph {
  const model = toOnnxModel(graph);
  const bytes = encodeModel(model);
  const hash = createHash('sha256').update(bytes).digest('hex');
  return { model, bytes, hash };
}

/**
 * The float64 reference interpreter of the graph IR (DESIGN.md decision 8): runs every node with the naive kernels
 * of `interpreter/`. It cross-checks each ONNX lowering and serves finite-difference gradient checks.
 */
import type { HostTensor } from '../tensor/host-tensor.ts';
import type { F64Tensor } from './interpreter/tensor.ts';
import { toFloat64 } from './interpreter-bridge.ts';
import type { Graph } from './ir.ts';
import { getOp } from './op-registry.ts';
import './ops/index.ts';

export type F64Feeds = Readonly<Record<string, F64Tensor | HostTensor>>;

export function interpret(graph: Graph, feeds: F64Feeds): Record<string, F64Tensor> {
  const env = new Map<number, F64Tensor>();
  for (const inp of graph.inputs) {
    const v = feeds[inp.name];
    if (!v) throw new Error(`interpret: missing ${inp.kind} "${inp.name}"`);
    const t = toFloat64(v);
    const want = graph.values[inp.value].shape;
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new Error(`interpret: "${inp.name}" has shape [${t.shape}] but the graph expects [${want}]`);
    }
    env.set(inp.value, t);
  }
  for (const [id, t] of graph.constants) env.set(id, toFloat64(t));
  for (const node of graph.nodes) {
    const ins = node.inputs.map((i) => (i < 0 ? undefined : env.get(i)));
    const infos = node.outputs.map((o) => graph.values[o]);
    const outs = getOp(node.op).interpret(ins, node.attrs, infos);
    node.outputs.forEach((o, k) => {
      env.set(o, outs[k]);
    });
  }
  const result: Record<string, F64Tensor> = {};
  for (const o of graph.outputs) result[o.name] = env.get(o.value)!;
  return result;
}

/**
 * Reverse-mode autodiff as a graph transformation (DESIGN.md, "one model definition serves inference, training"):
 * from a graph and the names of some of its inputs (run-time inputs or weights), build a new graph that computes
 * the forward outputs and `grad.<name>` = ∂⟨output, ȳ⟩/∂input for each requested input.
 *
 * The new graph re-emits the forward nodes, then the VJP rule (`vjp.ts`, rules in `rules/`) of each node on a path
 * from a requested input to the output, last node first, summing the gradient contributions of values used several
 * times. Gradients flow only through float values that both depend on a requested input and reach the output
 * (pruned both ways); a final dead-code pass drops the forward and backward nodes nothing needs, so e.g. the weight
 * gradient of a frozen layer is never computed.
 */
import { isFloatDType } from '../../tensor/dtype.ts';
import { formatShape, numel, shapesEqual } from '../../tensor/shape.ts';
import { GraphBuilder, type SymTensor } from '../builder.ts';
import { GraphError } from '../errors.ts';
import type { Graph, GraphInput, GraphOutput } from '../ir.ts';
import * as op from '../ops/index.ts';
import { compactGraph, replayGraph } from './compact.ts';
import { addAll, ones, zeros } from './helpers.ts';
import './rules/index.ts';
import { getVjp, NON_DIFFERENTIABLE } from './vjp.ts';

export interface GradOptions {
  /** The output to differentiate (default: the graph's only output). */
  output?: string;
  /**
   * The upstream gradient ȳ of that output. 'ones': ȳ = 1 (the gradient of the output itself when it is a scalar,
   * of sum(output) otherwise). 'input': a run-time input named `gradOutputName`, shaped like the output.
   * 'auto' (default): 'ones' for a one-element output, 'input' otherwise.
   */
  upstream?: 'auto' | 'ones' | 'input';
  /** Name of the upstream-gradient input (default 'grad_output'). */
  gradOutputName?: string;
  /** Name of the new graph (default `<name>_grad`). */
  name?: string;
  /**
   * Activation recomputation: nodes traced in a scope starting with one of these prefixes (`GraphBuilder.scope`)
   * are traced again in the backward pass, just before the first gradient rule that needs them, and the rules read
   * the recomputed values. The forward activations inside such a block are then dead after the forward pass, so the
   * engine frees them early: memory for compute. The recomputation is gated on the incoming gradient (a data
   * dependency), so the runtime cannot schedule it early. Results are identical.
   */
  recompute?: readonly string[];
}

/** The output name under which the gradient of input `name` appears. */
export function gradName(name: string): string {
  return `grad.${name}`;
}

/** Forward outputs plus `grad.<name>` for each name in `wrt`. */
export function valueAndGrad(graph: Graph, wrt: readonly string[], opts: GradOptions = {}): Graph {
  return transform(graph, wrt, opts, true);
}

/** Only the `grad.<name>` outputs (forward nodes are kept only as far as the backward pass reads them). */
export function grad(graph: Graph, wrt: readonly string[], opts: GradOptions = {}): Graph {
  return transform(graph, wrt, opts, false);
}

/** The differentiated output and the requested inputs, checked. */
function resolve(graph: Graph, wrt: readonly string[], opts: GradOptions, keepForward: boolean) {
  const outName = opts.output ?? (graph.outputs.length === 1 ? graph.outputs[0].name : undefined);
  if (outName === undefined) {
    throw new GraphError(`grad: graph "${graph.name}" has ${graph.outputs.length} outputs; name one in opts.output`);
  }
  const target = graph.outputs.find((o) => o.name === outName);
  if (!target) throw new GraphError(`grad: graph "${graph.name}" has no output "${outName}"`);
  const dtype = graph.values[target.value].dtype;
  if (!isFloatDType(dtype)) throw new GraphError(`grad: output "${outName}" is ${dtype}, not float`);
  if (new Set(wrt).size !== wrt.length) throw new GraphError(`grad: repeated names in [${wrt.join(', ')}]`);
  const inputs = wrt.map((name) => {
    const inp = graph.inputs.find((i) => i.name === name);
    if (!inp) throw new GraphError(`grad: graph "${graph.name}" has no input or weight "${name}"`);
    const t = graph.values[inp.value].dtype;
    if (!isFloatDType(t)) throw new GraphError(`grad: ${inp.kind} "${name}" is ${t}, not float`);
    return inp;
  });
  const kept = keepForward ? graph.outputs.map((o) => o.name) : [];
  if (new Set([...kept, ...wrt.map(gradName)]).size !== kept.length + wrt.length) {
    throw new GraphError(`grad: an output of "${graph.name}" is already named like a gradient (grad.<input>)`);
  }
  return { target, inputs };
}

/**
 * The values a gradient flows into: float values that depend on a requested input (booleans and integers carry
 * none) and that the target output depends on.
 */
function activeValues(graph: Graph, inputs: readonly GraphInput[], target: GraphOutput): Set<number> {
  const depends = new Set(inputs.map((i) => i.value));
  for (const node of graph.nodes) {
    if (!node.inputs.some((v) => depends.has(v))) continue;
    for (const o of node.outputs) if (isFloatDType(graph.values[o].dtype)) depends.add(o);
  }
  const reaches = new Set([target.value]);
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (node.outputs.some((o) => reaches.has(o))) for (const v of node.inputs) if (v >= 0) reaches.add(v);
  }
  return new Set([...depends].filter((v) => reaches.has(v)));
}

function transform(graph: Graph, wrt: readonly string[], opts: GradOptions, keepForward: boolean): Graph {
  const { target, inputs } = resolve(graph, wrt, opts, keepForward);
  const targetInfo = graph.values[target.value];
  const b = new GraphBuilder(opts.name ?? `${graph.name}_grad`);
  const sym = replayGraph(b, graph);
  const upstream = opts.upstream ?? 'auto';
  let seed: SymTensor;
  if (upstream === 'input' || (upstream === 'auto' && numel(targetInfo.shape) !== 1)) {
    const name = opts.gradOutputName ?? 'grad_output';
    if (graph.inputs.some((i) => i.name === name)) throw new GraphError(`grad: graph already has an input "${name}"`);
    seed = b.input(name, targetInfo.shape, targetInfo.dtype);
  } else {
    seed = ones(b, targetInfo.shape, targetInfo.dtype);
  }

  const active = activeValues(graph, inputs, target);
  const contributions = new Map<number, SymTensor[]>();
  const contribute = (v: number, g: SymTensor) => {
    const list = contributions.get(v);
    if (list) list.push(g);
    else contributions.set(v, [g]);
  };
  if (active.has(target.value)) contribute(target.value, seed);
  const recompute = recomputeBlocks(graph, opts.recompute ?? []);
  const recomputed = new Map<number, SymTensor>();
  const value = (v: number) => recomputed.get(v) ?? sym.get(v);
  for (let n = graph.nodes.length - 1; n >= 0; n--) {
    const node = graph.nodes[n];
    const grads = node.outputs.map((o) => addAll(contributions.get(o) ?? []));
    if (grads.every((g) => g === undefined)) continue;
    const needs = node.inputs.map((v) => active.has(v));
    if (!needs.some(Boolean)) continue;
    const block = recompute.get(n);
    if (block && !recomputed.has(graph.nodes[block[0]].outputs[0])) {
      replayBlock(b, graph, block, value, recomputed, grads.find((g) => g !== undefined)!);
    }
    const rule = getVjp(node.op);
    if (!rule) {
      const why = NON_DIFFERENTIABLE[node.op];
      throw new GraphError(`grad: op ${node.op} has no VJP rule${why ? ` (${why})` : ''}`);
    }
    const ins = node.inputs.map((v) => (v < 0 ? undefined : value(v)));
    const outs = node.outputs.map((o) => value(o)!);
    const result = rule({ builder: b, inputs: ins, outputs: outs, grads, needs, attrs: node.attrs });
    node.inputs.forEach((v, i) => {
      if (!needs[i]) return;
      const g = result[i];
      const x = ins[i]!;
      if (!g) throw new GraphError(`grad: the VJP rule of ${node.op} gave no gradient for input ${i}`);
      if (!shapesEqual(g.shape, x.shape) || g.dtype !== x.dtype) {
        throw new GraphError(
          `grad: the VJP rule of ${node.op} gave ${g.dtype} ${formatShape(g.shape)} for input ${i} (${x.dtype} ${formatShape(x.shape)})`,
        );
      }
      contribute(v, g);
    });
  }

  if (keepForward) for (const o of graph.outputs) b.output(o.name, sym.get(o.value)!);
  for (const inp of inputs) {
    const { shape, dtype } = graph.values[inp.value];
    b.output(gradName(inp.name), addAll(contributions.get(inp.value) ?? []) ?? zeros(b, shape, dtype));
  }
  return compactGraph(b.build());
}

/** Node index → the node indices of its recompute block (all nodes of the same selected scope), in forward order. */
function recomputeBlocks(graph: Graph, prefixes: readonly string[]): Map<number, number[]> {
  const blocks = new Map<string, number[]>();
  graph.nodes.forEach((node, i) => {
    const scope = node.scope;
    if (!scope || !prefixes.some((p) => scope === p || scope.startsWith(`${p}/`))) return;
    const key = prefixes.find((p) => scope === p || scope.startsWith(`${p}/`))!;
    const list = blocks.get(key) ?? [];
    list.push(i);
    blocks.set(key, list);
  });
  const byNode = new Map<number, number[]>();
  for (const list of blocks.values()) for (const i of list) byNode.set(i, list);
  return byNode;
}

/**
 * Traces the block's nodes again. Its inputs from outside the block are gated by the gradient `gate` (x + 0·g₀, one
 * element of g), so that the recomputation depends on the backward pass reaching the block.
 */
function replayBlock(
  b: GraphBuilder,
  graph: Graph,
  block: readonly number[],
  value: (v: number) => SymTensor | undefined,
  recomputed: Map<number, SymTensor>,
  gate: SymTensor,
): void {
  const inside = new Set(block.flatMap((i) => graph.nodes[i].outputs));
  const zero = op.mul(op.reshape(op.slice(op.reshape(gate, [gate.size]), [0], [1], [0]), []), 0); // 0·g₀, a scalar
  const gated = new Map<number, SymTensor>();
  const input = (v: number): SymTensor | undefined => {
    if (v < 0) return undefined;
    if (inside.has(v)) return recomputed.get(v);
    const x = value(v)!;
    if (!isFloatDType(x.dtype) || x.dtype !== zero.dtype) return x;
    let g = gated.get(v);
    if (!g) {
      g = op.add(x, zero);
      gated.set(v, g);
    }
    return g;
  };
  for (const i of block) {
    const node = graph.nodes[i];
    const outs = b.emit(node.op, node.inputs.map(input), node.attrs, `${node.scope ?? ''}/recompute`);
    node.outputs.forEach((o, k) => {
      recomputed.set(o, outs[k]);
    });
  }
}

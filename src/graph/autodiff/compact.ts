/** Re-emitting a graph into a builder, and dead-code elimination built on it. */
import { GraphBuilder, type SymTensor } from '../builder.ts';
import type { Graph } from '../ir.ts';

/**
 * Declares every input of `graph` in `b` (same names, kinds, order) and re-emits its constants and nodes — only
 * the nodes for which `keepNode(i)` holds, and only the constants in `keepValue` when given. Returns the map from
 * the old graph's value ids to the new symbolic tensors.
 */
export function replayGraph(
  b: GraphBuilder,
  graph: Graph,
  keepNode: (index: number) => boolean = () => true,
  keepValue?: ReadonlySet<number>,
): Map<number, SymTensor> {
  const sym = new Map<number, SymTensor>();
  for (const inp of graph.inputs) {
    const { shape, dtype } = graph.values[inp.value];
    sym.set(inp.value, inp.kind === 'weight' ? b.weight(inp.name, shape, dtype) : b.input(inp.name, shape, dtype));
  }
  for (const [id, t] of graph.constants) if (!keepValue || keepValue.has(id)) sym.set(id, b.constant(t));
  graph.nodes.forEach((node, i) => {
    if (!keepNode(i)) return;
    const outs = b.emit(
      node.op,
      node.inputs.map((v) => (v < 0 ? undefined : sym.get(v))),
      node.attrs,
      node.scope ?? '',
    );
    node.outputs.forEach((o, k) => {
      sym.set(o, outs[k]);
    });
  });
  return sym;
}

/**
 * A copy of `graph` without the nodes and constants that no output depends on, rebuilt with a new GraphBuilder (so
 * every node's shapes are inferred again). All graph inputs are kept, in order, so the calling convention does not
 * change; node order (topological) is preserved.
 */
export function compactGraph(graph: Graph, name = graph.name): Graph {
  const live = new Set(graph.outputs.map((o) => o.value));
  const keep = new Array<boolean>(graph.nodes.length).fill(false);
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (!node.outputs.some((o) => live.has(o))) continue;
    keep[i] = true;
    for (const v of node.inputs) if (v >= 0) live.add(v);
  }
  const b = new GraphBuilder(name);
  const sym = replayGraph(b, graph, (i) => keep[i], live);
  for (const o of graph.outputs) b.output(o.name, sym.get(o.value)!);
  return b.build();
}

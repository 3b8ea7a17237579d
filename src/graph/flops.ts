/**
 * Multiply-add count of a graph (FLOPs = 2 × MACs) for the heavy ops — conv, transposed conv, matmul, linear,
 * attention — used by benchmarks to report effective GFLOP/s. Elementwise ops and norms are not counted.
 */
import { numel } from '../tensor/shape.ts';
import type { Graph } from './ir.ts';

export function countFlops(graph: Graph): number {
  let flops = 0;
  const shape = (id: number) => graph.values[id].shape;
  for (const n of graph.nodes) {
    switch (n.op) {
      case 'Conv': {
        const w = shape(n.inputs[1]);
        flops += 2 * numel(shape(n.outputs[0])) * numel(w.slice(1));
        break;
      }
      case 'ConvTranspose': {
        const w = shape(n.inputs[1]);
        flops += 2 * numel(shape(n.inputs[0])) * numel(w.slice(1));
        break;
      }
      case 'MatMul': {
        const a = shape(n.inputs[0]);
        flops += 2 * numel(shape(n.outputs[0])) * a[a.length - 1];
        break;
      }
      case 'Linear': {
        const w = shape(n.inputs[1]);
        flops += 2 * numel(shape(n.outputs[0])) * w[1];
        break;
      }
      case 'Attention': {
        const [b, sq, hd] = shape(n.inputs[0]);
        const sk = shape(n.inputs[1])[1];
        const dv = shape(n.inputs[2])[2];
        flops += 2 * b * sq * sk * (hd + dv);
        break;
      }
    }
  }
  return flops;
}

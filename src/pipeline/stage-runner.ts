/**
 * The one owner of a generation's engine resources: which weights are in the engine's store, which sessions are
 * cached, and how every graph runs (the memory plan's arena setting). A stage asks for its graphs' weights, runs them,
 * and hands them back; the next stage starts without the previous one's weights or sessions (svd-xt at full size
 * only fits in 24 GiB that way, README "End to end").
 */
import type { Graph } from '../graph/ir.ts';
import { loadWeightsInto } from '../models/load-weights.ts';
import type { Engine, Feed, GraphRunner } from '../runtime/engine.ts';
import type { HostTensor } from '../tensor/host-tensor.ts';
import type { CheckpointSource } from '../weights/index.ts';
import type { MemoryPlan } from './memory-estimate.ts';

function weightKeys(graphs: Iterable<Graph>): string[] {
  const keys = new Set<string>();
  for (const g of graphs) for (const i of g.inputs) if (i.kind === 'weight') keys.add(i.name);
  return [...keys];
}

export class StageRunner implements GraphRunner {
  constructor(
    readonly engine: Engine,
    readonly weights: CheckpointSource,
    readonly plan: MemoryPlan,
  ) {}

  /** Runs a graph with the plan's memory-arena setting. */
  run(graph: Graph, feeds: Readonly<Record<string, Feed>>): Promise<Record<string, HostTensor>> {
    return this.engine.run(graph, feeds, { memoryArena: this.plan.memoryArena });
  }

  /** Reads the weights `graphs` need into the engine (those already there are kept). */
  async load(graphs: Iterable<Graph>): Promise<void> {
    await loadWeightsInto(this.engine, this.weights, weightKeys(graphs));
  }

  /** Drops the sessions of `graphs` and the weights they read. */
  async release(graphs: Iterable<Graph>): Promise<void> {
    const list = [...graphs];
    await this.engine.release(list);
    await this.engine.deleteWeights(weightKeys(list).filter((k) => this.engine.hasWeight(k)));
  }

  /** load → fn → release, releasing also when fn throws (Ctrl-C, a bad input). */
  async withGraphs<R>(graphs: Iterable<Graph>, fn: () => Promise<R>): Promise<R> {
    const list = [...graphs];
    try {
      await this.load(list);
      return await fn();
    } finally {
      await this.release(list);
    }
  }
}

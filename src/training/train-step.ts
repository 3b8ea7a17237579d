/**
 * The compiled train step (DESIGN.md decision 7): forward + backward as one graph per shape, then the per-parameter
 * update (optimizer, clipping's scale, EMA) as one fused elementwise kernel over the resident state
 * (update-kernel.ts).
 *
 * Trainable parameters, their optimizer moments and EMA copies are run-time inputs of the step graph, resident in the
 * engine worker; the graph outputs the loss and the gradients (`grad.<name>`, kept in the worker), and the kernel
 * updates the state in place, so nothing is copied to the host between steps. Frozen parameters stay in the engine's
 * weight store.
 */

import { replayGraph } from '../graph/autodiff/compact.ts';
import { gradName, valueAndGrad } from '../graph/autodiff/index.ts';
import { GraphBuilder, type SymTensor } from '../graph/builder.ts';
import type { ElementwiseKernel } from '../graph/elementwise-kernel.ts';
import type { Graph } from '../graph/ir.ts';
import * as op from '../graph/ops/index.ts';
import { type AdamWHyper, gradNormCoef, type SgdHyper } from './optimizer.ts';
import { accumulateKernel, type Role, updateKernel } from './update-kernel.ts';

export { SCALARS } from './update-kernel.ts';

export type OptimizerSpec = { kind: 'adamw'; hyper: AdamWHyper } | { kind: 'sgd'; hyper: SgdHyper };

export interface TrainStepSpec {
  /** A graph with a scalar loss output; trainable parameters are among its weights (or inputs). */
  lossGraph: Graph;
  /** Name of the loss output (default 'loss'). */
  lossOutput?: string;
  /** Names of the parameters to train (weights of `lossGraph`). */
  trainable: readonly string[];
  optimizer: OptimizerSpec;
  /** Global-norm gradient clipping. */
  clipGradNorm?: number;
  /** Keep an EMA copy of each trainable parameter. */
  ema?: boolean;
  /**
   * Gradient accumulation over this many micro-batches per optimizer step (default 1). The update then uses the mean
   * of the micro-batch gradients (= the gradient of the mean loss over all of them).
   */
  accumulate?: number;
  /** Scopes (`GraphBuilder.scope`) whose activations are recomputed in the backward pass instead of kept. */
  recompute?: readonly string[];
}

/** Names of the state tensors of one parameter. */
export const stateName = {
  m: (k: string) => `adam_m:${k}`,
  v: (k: string) => `adam_v:${k}`,
  momentum: (k: string) => `sgd_buf:${k}`,
  acc: (k: string) => `grad_acc:${k}`,
  ema: (k: string) => `ema:${k}`,
};

/** Outputs of the step graph (besides the loss and the gradients) when clipping. */
export const CLIP_OUTPUTS = { norm: 'grad_norm', coef: 'clip_coef' } as const;

/** A fused kernel and, per parameter, the tensors of one call (state names, or `grad.<name>` for a gradient). */
export interface KernelPlan {
  kernel: ElementwiseKernel;
  groups: string[][];
}

export interface TrainStepGraph {
  /**
   * Forward + backward: the loss and `grad.<name>` of every trainable parameter; with clipping (and no accumulation)
   * also `grad_norm` and `clip_coef`.
   */
  graph: Graph;
  /** State names (parameters, moments, EMA copies, gradient sums), in a fixed order: the checkpoint's layout. */
  state: string[];
  spec: TrainStepSpec;
  /** The update of every parameter, once per optimizer step. */
  update: KernelPlan;
  /** With accumulation: grad_acc ← grad_acc + grad, after each micro-batch. */
  accumulate?: KernelPlan;
  /** With accumulation and clipping: `grad_norm` and `clip_coef` of the mean of the gradient sums. */
  norm?: Graph;
}

/** Turns the trainable weights of a loss graph into run-time inputs (their values then come from the Trainer). */
function withTrainableInputs(graph: Graph, trainable: ReadonlySet<string>): Graph {
  return { ...graph, inputs: graph.inputs.map((i) => (trainable.has(i.name) ? { ...i, kind: 'input' as const } : i)) };
}

export function buildTrainStep(spec: TrainStepSpec): TrainStepGraph {
  const lossName = spec.lossOutput ?? 'loss';
  const trainable = new Set(spec.trainable);
  for (const k of trainable) {
    if (!spec.lossGraph.inputs.some((i) => i.name === k))
      throw new Error(`trainable parameter "${k}" is not in the loss graph`);
  }
  const k = spec.accumulate ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error(`accumulate must be a positive integer, got ${k}`);
  const g = valueAndGrad(withTrainableInputs(spec.lossGraph, trainable), spec.trainable, {
    output: lossName,
    name: 'grads',
    recompute: spec.recompute,
  });
  const b = new GraphBuilder(`${spec.lossGraph.name}_train_step`);
  const sym = replayGraph(b, g);
  const out = (name: string): SymTensor => {
    const o = g.outputs.find((x) => x.name === name);
    if (!o) throw new Error(`missing output ${name}`);
    return sym.get(o.value)!;
  };
  b.output(lossName, out(lossName));
  const grads = spec.trainable.map((name) => out(gradName(name)));
  spec.trainable.forEach((name, i) => {
    b.output(gradName(name), grads[i]);
  });
  const clip = spec.clipGradNorm !== undefined;
  if (clip && k === 1) addClipOutputs(b, grads, spec.clipGradNorm!);

  const { kernel, roles } = updateKernel({ optimizer: spec.optimizer, clip, ema: spec.ema ?? false, accumulate: k });
  const tensor = (role: Role, name: string): string => {
    switch (role) {
      case 'param':
        return name;
      case 'm':
        return stateName.m(name);
      case 'v':
        return stateName.v(name);
      case 'buf':
        return stateName.momentum(name);
      case 'ema':
        return stateName.ema(name);
      case 'grad':
        return k > 1 ? stateName.acc(name) : gradName(name);
    }
  };
  const groups = spec.trainable.map((name) => roles.map((role) => tensor(role, name)));
  // The checkpoint layout of the earlier releases: per parameter its state in kernel order, then the gradient sums.
  const state = groups.flatMap((names) => names.filter((_, i) => roles[i] !== 'grad'));
  const step: TrainStepGraph = { graph: b.build(), state, spec, update: { kernel, groups } };
  if (k > 1) {
    state.push(...spec.trainable.map(stateName.acc));
    step.accumulate = {
      kernel: accumulateKernel(),
      groups: spec.trainable.map((name) => [stateName.acc(name), gradName(name)]),
    };
    if (clip) step.norm = normGraph(spec, g, k);
  }
  return step;
}

function addClipOutputs(b: GraphBuilder, grads: readonly SymTensor[], maxNorm: number): void {
  const { totalNorm, coef } = gradNormCoef(grads, maxNorm);
  b.output(CLIP_OUTPUTS.norm, totalNorm);
  b.output(CLIP_OUTPUTS.coef, coef);
}

/** The clipping norm of the mean gradients, from the gradient sums of `k` micro-batches. */
function normGraph(spec: TrainStepSpec, g: Graph, k: number): Graph {
  const b = new GraphBuilder(`${spec.lossGraph.name}_grad_norm`);
  const means = spec.trainable.map((name) => {
    const info = g.values[g.inputs.find((i) => i.name === name)!.value];
    return op.mul(b.input(stateName.acc(name), info.shape, info.dtype), 1 / k);
  });
  addClipOutputs(b, means, spec.clipGradNorm!);
  return b.build();
}

/** A scalar loss graph helper: mean of the given per-sample losses. */
export function meanLoss(x: SymTensor): SymTensor {
  return op.mean(x);
}

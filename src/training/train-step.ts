/**
 * The compiled train step (DESIGN.md decision 7): forward + backward + optimizer update as one graph per shape.
 *
 * Trainable parameters, their optimizer moments and EMA copies are run-time inputs of the step graph; the step
 * outputs their new values (`next:<name>`). The Trainer keeps all of them resident in the engine worker and feeds
 * each step the previous step's outputs, so two buffer sets alternate and nothing is copied to the host between
 * steps. Frozen parameters stay in the engine's weight store.
 */

import { replayGraph } from '../graph/autodiff/compact.ts';
import { gradName, valueAndGrad } from '../graph/autodiff/index.ts';
import { GraphBuilder, type SymTensor } from '../graph/builder.ts';
import type { Graph } from '../graph/ir.ts';
import * as op from '../graph/ops/index.ts';
import { type AdamWHyper, adamWUpdate, clipGradNorm, emaUpdate, type SgdHyper, sgdUpdate } from './optimizer.ts';

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
   * Gradient accumulation over this many micro-batches per optimizer step (default 1: one fused graph). The update
   * then uses the mean of the micro-batch gradients (= the gradient of the mean loss over all of them).
   */
  accumulate?: number;
  /** Scopes (`GraphBuilder.scope`) whose activations are recomputed in the backward pass instead of kept. */
  recompute?: readonly string[];
}

/** Names of the state tensors of one parameter in the step graph. */
export const stateName = {
  m: (k: string) => `adam_m:${k}`,
  v: (k: string) => `adam_v:${k}`,
  momentum: (k: string) => `sgd_buf:${k}`,
  acc: (k: string) => `grad_acc:${k}`,
  ema: (k: string) => `ema:${k}`,
  next: (name: string) => `next:${name}`,
};

/** Per-step scalar inputs of the step graph. */
export const SCALARS = {
  decay: 'opt.decay',
  stepSize: 'opt.step_size',
  bc2Sqrt: 'opt.bc2_sqrt',
  lr: 'opt.lr',
  first: 'opt.first',
  emaOneMinusDecay: 'opt.ema_one_minus_decay',
} as const;

export interface TrainStepGraph {
  /** The fused step (accumulate = 1), or the micro-batch graph adding gradients into `grad_acc:<k>`. */
  graph: Graph;
  /** State names per parameter (inputs; the outputs are `next:<name>`), in a fixed order. */
  state: string[];
  spec: TrainStepSpec;
  /** With accumulation: the update graph (mean of the accumulated gradients → optimizer), run once per step. */
  apply?: Graph;
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
  const g = valueAndGrad(withTrainableInputs(spec.lossGraph, trainable), spec.trainable, {
    output: lossName,
    name: 'grads',
  });
  const b = new GraphBuilder(`${spec.lossGraph.name}_train_step`);
  const sym = replayGraph(b, g);
  const out = (name: string): SymTensor => {
    const o = g.outputs.find((x) => x.name === name);
    if (!o) throw new Error(`missing output ${name}`);
    return sym.get(o.value)!;
  };
  b.output(lossName, out(lossName));
  const grads = spec.trainable.map((k) => out(gradName(k)));
  const param = (k: string) => sym.get(g.inputs.find((i) => i.name === k)!.value)!;
  const k = spec.accumulate ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error(`accumulate must be a positive integer, got ${k}`);
  if (k === 1) {
    const state = emitUpdate(b, spec, spec.trainable.map(param), grads);
    return { graph: b.build(), state, spec };
  }
  // Micro-batch graph: grad_acc ← grad_acc + grad.
  spec.trainable.forEach((name, i) => {
    const acc = b.input(stateName.acc(name), grads[i].shape);
    b.output(stateName.next(stateName.acc(name)), op.add(acc, grads[i]));
  });
  // Update graph: grads = grad_acc / k; optimizer; grad_acc ← 0.
  const a = new GraphBuilder(`${spec.lossGraph.name}_apply`);
  const params = spec.trainable.map((name) => {
    const info = g.values[g.inputs.find((i) => i.name === name)!.value];
    return a.input(name, info.shape, info.dtype);
  });
  const accs = spec.trainable.map((name, i) => a.input(stateName.acc(name), params[i].shape));
  const state = emitUpdate(
    a,
    spec,
    params,
    accs.map((acc) => op.mul(acc, 1 / k)),
  );
  spec.trainable.forEach((name, i) => {
    a.output(stateName.next(stateName.acc(name)), op.expand(a.constant(0), accs[i].shape));
    state.push(stateName.acc(name));
  });
  return { graph: b.build(), state, spec, apply: a.build() };
}

/**
 * Appends clipping, the optimizer update and EMA for the trainable parameters to `b`; declares the state inputs and
 * `next:` outputs; returns the state names in order.
 */
function emitUpdate(
  b: GraphBuilder,
  spec: TrainStepSpec,
  params: readonly SymTensor[],
  rawGrads: SymTensor[],
): string[] {
  let grads = rawGrads;
  if (spec.clipGradNorm !== undefined) {
    const clipped = clipGradNorm(grads, spec.clipGradNorm);
    grads = clipped.grads;
    b.output('grad_norm', clipped.totalNorm);
  }
  const state: string[] = [];
  const scalar = (name: string) => b.input(name, []);
  const emaK = spec.ema ? scalar(SCALARS.emaOneMinusDecay) : undefined;
  if (spec.optimizer.kind === 'adamw') {
    const h = spec.optimizer.hyper;
    const sc = { decay: scalar(SCALARS.decay), stepSize: scalar(SCALARS.stepSize), bc2Sqrt: scalar(SCALARS.bc2Sqrt) };
    spec.trainable.forEach((k, i) => {
      const p = params[i];
      const m = b.input(stateName.m(k), p.shape);
      const v = b.input(stateName.v(k), p.shape);
      const next = adamWUpdate({ param: p, m, v }, grads[i], h, sc);
      b.output(stateName.next(k), next.param);
      b.output(stateName.next(stateName.m(k)), next.m);
      b.output(stateName.next(stateName.v(k)), next.v);
      state.push(k, stateName.m(k), stateName.v(k));
      if (emaK) addEma(b, k, next.param, emaK, state);
    });
  } else {
    const h = spec.optimizer.hyper;
    const sc = { lr: scalar(SCALARS.lr), first: scalar(SCALARS.first) };
    spec.trainable.forEach((k, i) => {
      const p = params[i];
      const buf = h.momentum !== 0 ? b.input(stateName.momentum(k), p.shape) : undefined;
      const next = sgdUpdate(p, buf, grads[i], h, sc);
      b.output(stateName.next(k), next.param);
      state.push(k);
      if (next.buf) {
        b.output(stateName.next(stateName.momentum(k)), next.buf);
        state.push(stateName.momentum(k));
      }
      if (emaK) addEma(b, k, next.param, emaK, state);
    });
  }
  return state;
}

function addEma(b: GraphBuilder, k: string, newParam: SymTensor, oneMinusDecay: SymTensor, state: string[]): void {
  const ema = b.input(stateName.ema(k), newParam.shape);
  b.output(stateName.next(stateName.ema(k)), emaUpdate(ema, newParam, oneMinusDecay));
  state.push(stateName.ema(k));
}

/** A scalar loss graph helper: mean of the given per-sample losses. */
export function meanLoss(x: SymTensor): SymTensor {
  return op.mean(x);
}

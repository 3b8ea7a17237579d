/**
 * The per-parameter part of a train step as one fused elementwise kernel (graph/elementwise-kernel.ts): the mean of
 * the accumulated gradients, clipping's scale, the optimizer (optimizer.ts) and the EMA, run in place over each
 * parameter's resident state after the forward + backward graph — one pass per tensor instead of ~12 ONNX ops per
 * tensor (each a kernel launch and a memory pass; over half of the tiny UNet's step). The arithmetic is the graph ops
 * of optimizer.ts, op by op in float32, so the values are the ones ORT computes for the same ops.
 */

import { GraphBuilder, type SymTensor } from '../graph/builder.ts';
import { compileElementwiseKernel, type ElementwiseKernel } from '../graph/elementwise-kernel.ts';
import * as op from '../graph/ops/index.ts';
import { type AdamWHyper, adamWUpdate, emaUpdate, type SgdHyper, sgdUpdate } from './optimizer.ts';

/** Per-step scalars of the update kernel (uniform over the elements), by name. */
export const SCALARS = {
  decay: 'opt.decay',
  stepSize: 'opt.step_size',
  bc2Sqrt: 'opt.bc2_sqrt',
  lr: 'opt.lr',
  first: 'opt.first',
  emaOneMinusDecay: 'opt.ema_one_minus_decay',
  /** Clipping's scale min(1, maxNorm / (‖g‖ + 1e-6)), from the step graph's `clip_coef` output. */
  clipCoef: 'opt.clip_coef',
} as const;

/** The per-element tensors a parameter's update reads and writes, in the kernel's order. */
export type Role = 'param' | 'm' | 'v' | 'buf' | 'grad' | 'ema';

export interface UpdateKernelSpec {
  optimizer: { kind: 'adamw'; hyper: AdamWHyper } | { kind: 'sgd'; hyper: SgdHyper };
  clip: boolean;
  ema: boolean;
  /**
   * Micro-batches per step: above 1 the `grad` tensor is the sum of their gradients, used as its mean and reset to 0.
   */
  accumulate: number;
}

/**
 * The update of one parameter: [grad ← grad/k] → [grad ← grad·clip] → AdamW or SGD → [EMA of the new parameter];
 * with accumulation the gradient sum is reset to 0. Returns the kernel and its element roles in order.
 */
export function updateKernel(spec: UpdateKernelSpec): { kernel: ElementwiseKernel; roles: Role[] } {
  const b = new GraphBuilder(`${spec.optimizer.kind}_update`);
  const el = (role: Role) => b.input(role, []);
  const scalar = (name: string) => b.input(name, []);
  const roles: Role[] = [];
  const writes: Record<string, Role> = {};
  const out = (role: Role, value: SymTensor) => {
    b.output(`next:${role}`, value);
    writes[`next:${role}`] = role;
  };
  const param = el('param');
  let next: SymTensor;
  let gradIn: SymTensor;
  if (spec.optimizer.kind === 'adamw') {
    const m = el('m');
    const v = el('v');
    gradIn = el('grad');
    roles.push('param', 'm', 'v', 'grad');
    const sc = { decay: scalar(SCALARS.decay), stepSize: scalar(SCALARS.stepSize), bc2Sqrt: scalar(SCALARS.bc2Sqrt) };
    const s = adamWUpdate({ param, m, v }, gradient(gradIn, spec, scalar), spec.optimizer.hyper, sc);
    out('m', s.m);
    out('v', s.v);
    next = s.param;
  } else {
    const h = spec.optimizer.hyper;
    const buf = h.momentum !== 0 ? el('buf') : undefined;
    gradIn = el('grad');
    roles.push('param', ...(buf ? (['buf'] as const) : []), 'grad');
    const s = sgdUpdate(param, buf, gradient(gradIn, spec, scalar), h, {
      lr: scalar(SCALARS.lr),
      first: scalar(SCALARS.first),
    });
    if (s.buf) out('buf', s.buf);
    next = s.param;
  }
  out('param', next);
  if (spec.accumulate > 1) out('grad', b.constant(0));
  if (spec.ema) {
    roles.push('ema');
    out('ema', emaUpdate(el('ema'), next, scalar(SCALARS.emaOneMinusDecay)));
  }
  return { kernel: compileElementwiseKernel({ graph: b.build(), elements: roles, writes }), roles };
}

/** The gradient the optimizer sees: the mean of the accumulated sum, then clipping's scale. */
function gradient(g: SymTensor, spec: UpdateKernelSpec, scalar: (name: string) => SymTensor): SymTensor {
  const mean = spec.accumulate > 1 ? op.mul(g, 1 / spec.accumulate) : g;
  return spec.clip ? op.mul(mean, scalar(SCALARS.clipCoef)) : mean;
}

/** Gradient accumulation after each micro-batch: acc ← acc + grad (elements `acc`, `grad`). */
export function accumulateKernel(): ElementwiseKernel {
  const b = new GraphBuilder('grad_accumulate');
  b.output('next:acc', op.add(b.input('acc', []), b.input('grad', [])));
  return compileElementwiseKernel({ graph: b.build(), elements: ['acc', 'grad'], writes: { 'next:acc': 'acc' } });
}

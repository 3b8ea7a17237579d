/**
 * Optimizer updates as graph ops. Semantics follow torch.optim (PyTorch 1.13 `_single_tensor_adamw`,
 * `_single_tensor_sgd`), op by op in float32. The train step runs them per element as one fused kernel over every
 * parameter (update-kernel.ts, graph/elementwise-kernel.ts); as graph ops they also run in ORT as they are.
 *
 * Per-step scalars that torch computes in Python double (bias corrections, step size) are computed on the host in
 * float64 and fed as float32 scalars, exactly as torch casts them when it multiplies a float32 tensor.
 */
import type { SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2 };

/** The per-step scalars of AdamW at step t (1-based), in float64 as torch computes them. */
export function adamWStepScalars(h: AdamWHyper, lr: number, t: number) {
  const bc1 = 1 - h.beta1 ** t;
  const bc2 = 1 - h.beta2 ** t;
  return {
    /** 1 − lr·wd (decoupled weight decay: `param.mul_(1 - lr * weight_decay)`). */
    decay: 1 - lr * h.weightDecay,
    /** lr / (1 − β1^t). */
    stepSize: lr / bc1,
    /** √(1 − β2^t). */
    bc2Sqrt: Math.sqrt(bc2),
  };
}

export interface AdamWState {
  param: SymTensor;
  m: SymTensor;
  v: SymTensor;
}

/**
 * One AdamW update (torch.optim.AdamW, amsgrad off):
 *   p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 *   p ← p − (lr/(1−β1^t)) · m / (√v/√(1−β2^t) + eps).
 * `scalars` are graph inputs (float32 [] tensors) holding `adamWStepScalars` for this step.
 */
export function adamWUpdate(
  s: AdamWState,
  grad: SymTensor,
  h: AdamWHyper,
  scalars: { decay: SymTensor; stepSize: SymTensor; bc2Sqrt: SymTensor },
): AdamWState {
  const decayed = op.mul(s.param, scalars.decay);
  const m = op.add(op.mul(s.m, h.beta1), op.mul(grad, 1 - h.beta1));
  const v = op.add(op.mul(s.v, h.beta2), op.mul(op.mul(grad, grad), 1 - h.beta2));
  const denom = op.add(op.div(op.sqrt(v), scalars.bc2Sqrt), h.eps);
  const param = op.sub(decayed, op.mul(op.div(m, denom), scalars.stepSize));
  return { param, m, v };
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * One SGD update (torch.optim.SGD): g ← g + wd·p; with momentum, b ← μ·b + (1 − dampening)·g (b = g at the first
 * step, signalled by `first` = 1), g ← nesterov ? g + μ·b : b; p ← p − lr·g. `lr` and `first` are float32 [] inputs.
 */
export function sgdUpdate(
  param: SymTensor,
  buf: SymTensor | undefined,
  grad: SymTensor,
  h: SgdHyper,
  scalars: { lr: SymTensor; first: SymTensor },
): { param: SymTensor; buf?: SymTensor } {
  let g = h.weightDecay !== 0 ? op.add(grad, op.mul(param, h.weightDecay)) : grad;
  let newBuf: SymTensor | undefined;
  if (h.momentum !== 0) {
    if (!buf) throw new Error('SGD with momentum needs a momentum buffer');
    const running = op.add(op.mul(buf, h.momentum), op.mul(g, 1 - h.dampening));
    // first step: buf = g (torch clones the gradient); afterwards the running average.
    newBuf = op.add(op.mul(scalars.first, g), op.mul(op.sub(1, scalars.first), running));
    g = h.nesterov ? op.add(g, op.mul(newBuf, h.momentum)) : newBuf;
  }
  return { param: op.sub(param, op.mul(g, scalars.lr)), buf: newBuf };
}

/**
 * The global gradient norm and clipping's scale (torch.nn.utils.clip_grad_norm_, norm 2): total = √Σ‖g‖²,
 * coef = min(1, maxNorm / (total + 1e-6)).
 */
export function gradNormCoef(grads: readonly SymTensor[], maxNorm: number): { totalNorm: SymTensor; coef: SymTensor } {
  const squares = grads.map((g) => op.sum(op.mul(g, g)));
  const total = op.sqrt(squares.reduce((a, b) => op.add(a, b)));
  return { totalNorm: total, coef: op.minimum(op.div(maxNorm, op.add(total, 1e-6)), 1) };
}

/** Global-norm gradient clipping: g ← g·coef (`gradNormCoef`). Returns the clipped gradients and the total norm. */
export function clipGradNorm(
  grads: readonly SymTensor[],
  maxNorm: number,
): { grads: SymTensor[]; totalNorm: SymTensor } {
  const { totalNorm, coef } = gradNormCoef(grads, maxNorm);
  return { grads: grads.map((g) => op.mul(g, coef)), totalNorm };
}

/**
 * Exponential moving average of parameters (sgm `LitEma`): ema ← ema − (1 − decay)·(ema − p). `oneMinusDecay` is a
 * float32 [] input so that a warm-up decay min(decay, (1 + n)/(10 + n)) can change per step.
 */
export function emaUpdate(ema: SymTensor, param: SymTensor, oneMinusDecay: SymTensor): SymTensor {
  return op.sub(ema, op.mul(op.sub(ema, param), oneMinusDecay));
}

/** LitEma's decay at update n (with `use_num_upates`): min(decay, (1 + n)/(10 + n)). */
export function emaDecay(decay: number, numUpdates: number, warmup = true): number {
  return warmup ? Math.min(decay, (1 + numUpdates) / (10 + numUpdates)) : decay;
}

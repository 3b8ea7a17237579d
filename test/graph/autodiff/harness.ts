/**
 * Gradient-check harness for the VJP rules (DESIGN.md decision 8):
 * - finite differences on the float64 interpreter: for each differentiated input x and a random direction v,
 *   ⟨x̄, v⟩ from the gradient graph vs (L(x + εv) − L(x − εv)) / 2ε with L = Σ y·ȳ, ε = 1e-6, relative error ≤ 1e-6;
 * - the same gradient graph run by ONNX Runtime (float32) vs the float64 interpreter, every output ≤ 1e-5 relative
 *   to its max.
 */
import assert from 'node:assert/strict';
import { valueAndGrad } from '../../../src/graph/autodiff/index.ts';
import { GraphBuilder, type SymTensor } from '../../../src/graph/builder.ts';
import { interpret } from '../../../src/graph/interpret.ts';
import type { F64Tensor } from '../../../src/graph/interpreter/tensor.ts';
import { fromFloat64, toFloat64 } from '../../../src/graph/interpreter-bridge.ts';
import type { Graph } from '../../../src/graph/ir.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { isFloatDType } from '../../../src/tensor/dtype.ts';
import type { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { relError } from '../../helpers/compare.ts';
import { randn } from '../../helpers/random.ts';

export interface GradCase {
  name: string;
  /** Every graph input (float32 values, int64 indices). */
  feeds: Record<string, HostTensor>;
  build: (x: Record<string, SymTensor>, b: GraphBuilder) => SymTensor;
  /** Inputs to differentiate (default: every float input). */
  wrt?: readonly string[];
  /** ORT vs float64 interpreter bound (default 1e-5). */
  ortTol?: number;
}

export const FD_EPS = 1e-6;
export const FD_TOL = 1e-6;
export const ORT_TOL = 1e-5;

export function forwardGraph(c: GradCase): Graph {
  const b = new GraphBuilder(c.name.replace(/[^A-Za-z0-9_]/g, '_'));
  const x: Record<string, SymTensor> = {};
  for (const [name, t] of Object.entries(c.feeds)) x[name] = b.input(name, t.shape, t.dtype);
  b.output('y', c.build(x, b));
  return b.build();
}

export function wrtOf(c: GradCase): string[] {
  return c.wrt ? [...c.wrt] : Object.keys(c.feeds).filter((k) => isFloatDType(c.feeds[k].dtype));
}

function dot(a: F64Tensor, b: F64Tensor): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}

export interface PreparedCase {
  forward: Graph;
  gradient: Graph;
  feeds: Record<string, HostTensor>;
  wrt: string[];
}

/** The forward graph, its value-and-gradient graph and feeds including a random upstream gradient. */
export function prepare(c: GradCase): PreparedCase {
  const forward = forwardGraph(c);
  const wrt = wrtOf(c);
  const gradient = valueAndGrad(forward, wrt, { upstream: 'input' });
  const yShape = forward.values[forward.outputs[0].value].shape;
  return { forward, gradient, feeds: { ...c.feeds, grad_output: randn(yShape) }, wrt };
}

/** Directional finite-difference check of every differentiated input; returns the relative errors by input. */
export function checkFiniteDifferences(p: PreparedCase): Record<string, number> {
  const base: Record<string, F64Tensor> = {};
  for (const [k, t] of Object.entries(p.feeds)) base[k] = toFloat64(t);
  const w = base.grad_output;
  const grads = interpret(p.gradient, base);
  const loss = (name: string, v: F64Tensor, t: number): number => {
    const x = base[name];
    const moved = { shape: x.shape, data: x.data.map((e, i) => e + t * v.data[i]) };
    return dot(interpret(p.forward, { ...base, [name]: moved }).y, w);
  };
  const errors: Record<string, number> = {};
  for (const name of p.wrt) {
    const v = toFloat64(randn(base[name].shape));
    const fd = (loss(name, v, FD_EPS) - loss(name, v, -FD_EPS)) / (2 * FD_EPS);
    const analytic = dot(grads[`grad.${name}`], v);
    const err = Math.abs(fd - analytic) / Math.max(Math.abs(fd), Math.abs(analytic), 1e-12);
    errors[name] = err;
    assert.ok(
      err <= FD_TOL,
      `d/d${name}: ⟨grad, v⟩ = ${analytic} vs finite difference ${fd} (relative error ${err.toExponential(2)})`,
    );
  }
  return errors;
}

/** Runs the gradient graph in ORT and compares every output with the float64 interpreter; returns the errors. */
export async function checkOrt(engine: Engine, p: PreparedCase, tol = ORT_TOL): Promise<Record<string, number>> {
  const ref = interpret(p.gradient, p.feeds);
  const out = await engine.run(p.gradient, p.feeds);
  const errors: Record<string, number> = {};
  for (const o of p.gradient.outputs) {
    const e = relError(out[o.name], fromFloat64(ref[o.name]));
    errors[o.name] = e;
    assert.ok(e <= tol, `${o.name}: ORT vs float64 interpreter relative error ${e.toExponential(2)} > ${tol}`);
  }
  return errors;
}

/** Both checks of one case. */
export async function checkCase(engine: Engine, c: GradCase): Promise<void> {
  const p = prepare(c);
  checkFiniteDifferences(p);
  await checkOrt(engine, p, c.ortTol);
}

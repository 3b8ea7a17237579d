/**
 * VJP (vector–Jacobian product) rules, keyed by primitive op name. Reverse-mode autodiff (`grad.ts`) calls the rule
 * of each node on the path from the differentiated inputs to the output, last node first: given the upstream
 * gradient ḡ of each output, the rule returns ḡ·∂output/∂input for each input it is asked for, written with other
 * graph ops (DESIGN.md: "each op has a VJP rule written in terms of other ops").
 */
import type { GraphBuilder, SymTensor } from '../builder.ts';
import type { Attrs } from '../ir.ts';

export interface VjpContext {
  readonly builder: GraphBuilder;
  /** The node's forward inputs in the gradient graph (undefined = absent optional input). */
  readonly inputs: readonly (SymTensor | undefined)[];
  /** The node's forward outputs in the gradient graph. */
  readonly outputs: readonly SymTensor[];
  /** Upstream gradient of each output, shaped like it; undefined where that output gets no gradient (zero). */
  readonly grads: readonly (SymTensor | undefined)[];
  /** Which inputs need a gradient (only these are computed). */
  readonly needs: readonly boolean[];
  readonly attrs: Attrs;
}

/** Returns one gradient per input (undefined where not needed or not differentiable), each shaped like its input. */
export type VjpRule = (ctx: VjpContext) => (SymTensor | undefined)[];

const rules = new Map<string, VjpRule>();

export function registerVjp(op: string, rule: VjpRule): void {
  if (rules.has(op)) throw new Error(`VJP rule for ${op} registered twice`);
  rules.set(op, rule);
}

export function getVjp(op: string): VjpRule | undefined {
  return rules.get(op);
}

/** Ops with a VJP rule, sorted. */
export function differentiableOps(): string[] {
  return [...rules.keys()].sort();
}

/**
 * Primitives without a VJP rule, and why. Their outputs are boolean, so no gradient can flow through them (the
 * transform only differentiates float values; Cast to or from a non-float type is cut the same way).
 */
export const NON_DIFFERENTIABLE: Readonly<Record<string, string>> = {
  Equal: 'boolean output (comparison)',
  Less: 'boolean output (comparison)',
  LessOrEqual: 'boolean output (comparison)',
  Greater: 'boolean output (comparison)',
  GreaterOrEqual: 'boolean output (comparison)',
  And: 'boolean inputs and output',
  Or: 'boolean inputs and output',
  Not: 'boolean input and output',
};

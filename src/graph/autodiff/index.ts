/**
 * Reverse-mode autodiff on the graph IR: `valueAndGrad` / `grad` transform a graph into its gradient graph, using
 * the VJP rule registered for each primitive (`vjp.ts`, rules grouped by theme in `rules/`).
 */
export { compactGraph, replayGraph } from './compact.ts';
export { type GradOptions, grad, gradName, valueAndGrad } from './grad.ts';
export {
  differentiableOps,
  getVjp,
  NON_DIFFERENTIABLE,
  registerVjp,
  type VjpContext,
  type VjpRule,
} from './vjp.ts';

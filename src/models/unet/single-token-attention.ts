/**
 * Cross-attention (sgm `sgm/modules/attention.py::CrossAttention` / `MemoryEfficientCrossAttention`) to a context of
 * exactly one token: the softmax over a single key is 1, so every query receives `to_out(to_v(ctx))` — bit-exact and
 * independent of the query, `to_q`, `to_k` and the LayerNorm in front (svd-spec.md §2.7).
 *
 * Unlike nn `crossAttention`'s shortcut this returns the [N, 1, C] row instead of expanding it to every query, so the
 * caller adds it by broadcasting (no materialised copy), and it can be evaluated once per video instead of once per
 * (frame or spatial position) row.
 */
import type { SymTensor } from '../../graph/builder.ts';
import type { AttentionSpec } from '../../nn/attention.ts';
import { linear } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';

/** ctx [N, 1, contextDim] → [N, 1, queryDim]; `to_q`, `to_k` are declared (checkpoint keys) but not read. */
export function singleTokenCrossAttention(p: Params, ctx: SymTensor, s: AttentionSpec): SymTensor {
  if (ctx.rank !== 3 || ctx.shape[1] !== 1) throw new Error(`single-token attention needs [N, 1, D], got ${ctx}`);
  const inner = s.heads * s.dimHead;
  const ctxDim = s.contextDim ?? s.queryDim;
  p.pp('to_q').declare('weight', [inner, s.queryDim]);
  p.pp('to_k').declare('weight', [inner, ctxDim]);
  const v = linear(p.pp('to_v'), ctx, ctxDim, inner, false); // [N, 1, inner]
  return linear(p.pp('to_out').pp(0), v, inner, s.queryDim); // [N, 1, queryDim]
}

/** A LayerNorm whose output the single-token shortcut never reads: recorded in the ParamTree only. */
export function declareLayerNorm(p: Params, channels: number): void {
  p.declare('weight', [channels]);
  p.declare('bias', [channels]);
}

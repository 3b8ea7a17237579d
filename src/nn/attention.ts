/**
 * sgm `CrossAttention` / `MemoryEfficientCrossAttention` (numerically the same softmax attention): `to_q` (no bias),
 * `to_k`, `to_v` (no bias), heads split as `b n (h d) -> b h n d`, softmax(QKᵀ/√d)V, `to_out.0` Linear with bias.
 */
import type { SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';
import { linear } from './layers.ts';
import type { Params } from './params.ts';

export interface AttentionSpec {
  queryDim: number;
  /** Width of the context; undefined = self-attention. */
  contextDim?: number;
  heads: number;
  dimHead: number;
}

/**
 * x [B, N, queryDim], context [B, M, contextDim] (self-attention when omitted) → [B, N, queryDim].
 * With one context token the softmax over a single key is exactly 1, so the result is `to_out(to_v(ctx))` for every
 * query (DESIGN.md decision 5): bit-exact and much cheaper; `to_q`/`to_k` are then declared but not read. The result
 * is then returned as [B, 1, queryDim], which broadcasts against x in the residual add (no copy per query).
 */
export function crossAttention(p: Params, x: SymTensor, context: SymTensor | undefined, s: AttentionSpec): SymTensor {
  const inner = s.heads * s.dimHead;
  const ctxDim = s.contextDim ?? s.queryDim;
  const ctx = context ?? x;
  if (context && context.shape[1] === 1) {
    p.pp('to_q').declare('weight', [inner, s.queryDim]);
    p.pp('to_k').declare('weight', [inner, ctxDim]);
    const v = linear(p.pp('to_v'), ctx, ctxDim, inner, false); // [B, 1, inner]
    return linear(p.pp('to_out').pp(0), v, inner, s.queryDim); // [B, 1, C], broadcasts over the N queries
  }
  const q = linear(p.pp('to_q'), x, s.queryDim, inner, false);
  const k = linear(p.pp('to_k'), ctx, ctxDim, inner, false);
  const v = linear(p.pp('to_v'), ctx, ctxDim, inner, false);
  const a = op.attention(q, k, v, s.heads, 1 / Math.sqrt(s.dimHead));
  return linear(p.pp('to_out').pp(0), a, inner, s.queryDim);
}

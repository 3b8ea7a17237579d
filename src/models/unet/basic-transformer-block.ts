/**
 * sgm `sgm/modules/attention.py::BasicTransformerBlock` (svd-spec.md §2.7), pre-LayerNorm (eps 1e-5):
 *   x = attn1(norm1(x)) + x            self-attention over the tokens of one frame
 *   x = attn2(norm2(x), context) + x   cross-attention to the frame's context
 *   x = ff(norm3(x)) + x               GEGLU feed-forward
 * With a one-token context, attn2 is `to_out(to_v(context))` added by broadcasting (norm2, to_q, to_k unread).
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { crossAttention } from '../../nn/attention.ts';
import { feedForward } from '../../nn/feed-forward.ts';
import { layerNorm } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import { declareLayerNorm, singleTokenCrossAttention } from './single-token-attention.ts';

export const TRANSFORMER_LAYERNORM_EPS = 1e-5;

export interface TransformerBlockSpec {
  /** Token width (= heads · dimHead). */
  dim: number;
  heads: number;
  dimHead: number;
  contextDim: number;
}

/** x [N, S, dim], context [N, M, contextDim] → [N, S, dim]. */
export function basicTransformerBlock(p: Params, x: SymTensor, context: SymTensor, s: TransformerBlockSpec): SymTensor {
  const self = { queryDim: s.dim, heads: s.heads, dimHead: s.dimHead };
  const cross = { ...self, contextDim: s.contextDim };

  x = op.add(
    crossAttention(p.pp('attn1'), layerNorm(p.pp('norm1'), x, s.dim, TRANSFORMER_LAYERNORM_EPS), undefined, self),
    x,
  );

  if (context.shape[1] === 1) {
    declareLayerNorm(p.pp('norm2'), s.dim);
    x = op.add(x, singleTokenCrossAttention(p.pp('attn2'), context, cross)); // + [N, 1, dim]
  } else {
    x = op.add(
      crossAttention(p.pp('attn2'), layerNorm(p.pp('norm2'), x, s.dim, TRANSFORMER_LAYERNORM_EPS), context, cross),
      x,
    );
  }

  return op.add(feedForward(p.pp('ff'), layerNorm(p.pp('norm3'), x, s.dim, TRANSFORMER_LAYERNORM_EPS), s.dim), x);
}

/**
 * sgm `sgm/modules/video_attention.py::VideoTransformerBlock` (svd-spec.md §2.7) with inner_dim = dim (`is_res`):
 * on tokens rearranged `(b t) s c -> (b s) t c`,
 *   x = ff_in(norm_in(x)) + x          (when `ff_in`)
 *   x = attn1(norm1(x)) + x            self-attention over the T frames of each spatial position
 *   x = attn2(norm2(x), ctx) + x       cross-attention to the video's context (self-attention when there is none;
 *                                      absent with `disable_temporal_crossattention`)
 *   x = ff(norm3(x)) + x
 * and back to `(b t) s c`. All LayerNorms have eps 1e-5.
 *
 * The context is taken per video ([b, M, D]) instead of repeated over the h·w positions as in the reference; with one
 * token (SVD: the first frame's CLIP embedding) attn2 is evaluated once per video and broadcast.
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { crossAttention } from '../../nn/attention.ts';
import { feedForward } from '../../nn/feed-forward.ts';
import { layerNorm } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import { TRANSFORMER_LAYERNORM_EPS } from './basic-transformer-block.ts';
import { declareLayerNorm, singleTokenCrossAttention } from './single-token-attention.ts';

export interface VideoTransformerBlockSpec {
  /** Token width (= heads · dimHead). */
  dim: number;
  heads: number;
  dimHead: number;
  /** `ff_in` (sgm `extra_ff_mix_layer`). */
  ffIn: boolean;
  /** attn2 is absent (`disable_temporal_crossattention`). */
  disableCrossAttention: boolean;
  /** Width of the temporal context; undefined = attn2 is a self-attention. */
  contextDim?: number;
}

/**
 * x [(b t), S, dim], timeContext [b, M, contextDim] (one context per video; undefined = attn2 self-attends)
 * → [(b t), S, dim].
 */
export function videoTransformerBlock(
  p: Params,
  x: SymTensor,
  timeContext: SymTensor | undefined,
  numFrames: number,
  s: VideoTransformerBlockSpec,
): SymTensor {
  const [bt, n, c] = x.shape;
  const t = numFrames;
  const b = bt / t;
  const eps = TRANSFORMER_LAYERNORM_EPS;
  const self = { queryDim: c, heads: s.heads, dimHead: s.dimHead };
  // Token-wise layers run on [b, S, t, C]; attention over frames sees it as [(b S), t, C].
  const frames = (v: SymTensor) => op.reshape(v, [b * n, t, c]); // [b, S, t, C] -> [(b S), t, C]
  const grid = (v: SymTensor) => op.reshape(v, [b, n, t, c]); // [(b S), t, C] -> [b, S, t, C]

  // [(b t), S, C] -> [b, t, S, C] -> [b, S, t, C]
  let h = op.transpose(op.reshape(x, [b, t, n, c]), [0, 2, 1, 3]);

  if (s.ffIn) h = op.add(feedForward(p.pp('ff_in'), layerNorm(p.pp('norm_in'), h, c, eps), c), h);

  const n1 = frames(layerNorm(p.pp('norm1'), h, c, eps));
  h = op.add(grid(crossAttention(p.pp('attn1'), n1, undefined, self)), h);

  if (!s.disableCrossAttention) {
    const attn2 = p.pp('attn2');
    if (timeContext && timeContext.shape[1] === 1) {
      declareLayerNorm(p.pp('norm2'), c);
      const row = singleTokenCrossAttention(attn2, timeContext, { ...self, contextDim: s.contextDim }); // [b, 1, C]
      h = op.add(h, op.reshape(row, [b, 1, 1, c])); // broadcast over S and t
    } else if (timeContext) {
      // [b, M, D] -> [b, S, M, D] -> [(b S), M, D]: the reference's `repeat(ctx, 'b ... -> (b n) ...', n=h·w)`
      const [, m, d] = timeContext.shape;
      const ctx = op.reshape(op.expand(op.reshape(timeContext, [b, 1, m, d]), [b, n, m, d]), [b * n, m, d]);
      const n2 = frames(layerNorm(p.pp('norm2'), h, c, eps));
      h = op.add(grid(crossAttention(attn2, n2, ctx, { ...self, contextDim: s.contextDim })), h);
    } else {
      const n2 = frames(layerNorm(p.pp('norm2'), h, c, eps));
      h = op.add(grid(crossAttention(attn2, n2, undefined, self)), h);
    }
  }

  h = op.add(feedForward(p.pp('ff'), layerNorm(p.pp('norm3'), h, c, eps), c), h);

  // [b, S, t, C] -> [b, t, S, C] -> [(b t), S, C]
  return op.reshape(op.transpose(h, [0, 2, 1, 3]), [bt, n, c]);
}

/**
 * sgm `sgm/modules/video_attention.py::SpatialVideoTransformer` (svd-spec.md §2.7) on x [(b t), C, h, w]:
 *   x = norm(x)                          GroupNorm(32, C, eps 1e-6)
 *   x = proj_in(x) as tokens [(b t), h·w, C]   (Linear, or a 1×1 conv before the rearrange without use_linear)
 *   emb = time_pos_embed(timestep_embedding(frame index, C))   Linear(C, 4C) → SiLU → Linear(4C, C)
 *   per depth d: x = transformer_blocks.d(x, context)
 *                x_mix = time_stack.d(x + emb, time_context)
 *                x = time_mixer(x, x_mix)   α·spatial + (1 − α)·temporal, pattern `b t -> (b t) 1 1`
 *   out = proj_out(x) back to [(b t), C, h, w] + input
 * time_context = `context[::T]` (each video's first frame) with `use_spatial_context`, else none (attn2 of the
 * temporal blocks then self-attends).
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { conv, groupNorm, linear } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import { timestepEmbedding } from '../../nn/timestep-embedding.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import { basicTransformerBlock } from './basic-transformer-block.ts';
import { timeMixer } from './time-mixer.ts';
import type { VideoContext } from './video-context.ts';
import { videoTransformerBlock } from './video-transformer-block.ts';

/** eps of the input GroupNorm (`Normalize` in attention.py, not GroupNorm32). */
export const TRANSFORMER_GROUPNORM_EPS = 1e-6;

export interface SpatialVideoTransformerSpec {
  channels: number;
  heads: number;
  dimHead: number;
  depth: number;
  contextDim: number;
  /** `proj_in`/`proj_out` are Linear (else 1×1 convs). */
  useLinear: boolean;
  ffIn: boolean;
  useSpatialContext: boolean;
  disableTemporalCrossattention: boolean;
  /** max_period of the frame-index embedding (`max_ddpm_temb_period`). */
  maxTimeEmbedPeriod: number;
}

/** x [(b t), C, h, w], context [(b t), M, contextDim] → [(b t), C, h, w]. */
export function spatialVideoTransformer(
  p: Params,
  x: SymTensor,
  context: SymTensor,
  s: SpatialVideoTransformerSpec,
  video: VideoContext,
): SymTensor {
  const [bt, c, h, w] = x.shape;
  const n = h * w;
  const t = video.numFrames;
  const b = bt / t;
  const inner = s.heads * s.dimHead;
  if (inner !== c) throw new Error(`SpatialVideoTransformer: ${s.heads} heads × ${s.dimHead} ≠ ${c} channels`);

  const normed = groupNorm(p.pp('norm'), x, c, TRANSFORMER_GROUPNORM_EPS);
  video.tap.at(p.pp('norm'), normed);
  let tokens: SymTensor;
  if (s.useLinear) {
    // [(b t), C, h, w] -> [(b t), C, h·w] -> [(b t), h·w, C]
    tokens = op.transpose(op.reshape(normed, [bt, c, n]), [0, 2, 1]);
    tokens = linear(p.pp('proj_in'), tokens, c, inner);
    video.tap.at(p.pp('proj_in'), tokens);
  } else {
    const projected = conv(p.pp('proj_in'), normed, c, inner, { kernel: 1, padding: 0 });
    video.tap.at(p.pp('proj_in'), projected);
    // [(b t), C, h, w] -> [(b t), C, h·w] -> [(b t), h·w, C]
    tokens = op.transpose(op.reshape(projected, [bt, inner, n]), [0, 2, 1]);
  }

  // Frame-position embedding, one row per frame index: [T, C] (the reference computes it for all (b t) rows).
  const frameIndex = x.builder.constant(
    HostTensor.float32(
      [t],
      Array.from({ length: t }, (_, i) => i),
    ),
  );
  const posP = p.pp('time_pos_embed');
  let pos = linear(posP.pp(0), timestepEmbedding(frameIndex, c, s.maxTimeEmbedPeriod), c, 4 * c);
  pos = linear(posP.pp(2), op.silu(pos), 4 * c, c); // [T, C]
  video.tap.at(posP, () => op.reshape(op.expand(op.reshape(pos, [1, t, c]), [b, t, c]), [bt, c])); // [(b t), C]
  const posGrid = op.reshape(pos, [1, t, 1, c]); // broadcasts over [b, t, S, C]

  // time_context = context[::T]: [(b t), M, D] -> [b, t, M, D] -> [b, 1, M, D] -> [b, M, D]
  let timeContext: SymTensor | undefined;
  if (s.useSpatialContext) {
    const [, m, d] = context.shape;
    timeContext = op.reshape(op.narrow(op.reshape(context, [b, t, m, d]), 1, 0, 1), [b, m, d]);
  }

  const blockSpec = { dim: inner, heads: s.heads, dimHead: s.dimHead, contextDim: s.contextDim };
  const mixer = p.pp('time_mixer');
  for (let d = 0; d < s.depth; d++) {
    tokens = basicTransformerBlock(p.pp('transformer_blocks').pp(d), tokens, context, blockSpec);
    video.tap.at(p.pp('transformer_blocks').pp(d), tokens);

    // x_mix = x + emb: [(b t), S, C] -> [b, t, S, C] + [1, t, 1, C] -> [(b t), S, C]
    const mixIn = op.reshape(op.add(op.reshape(tokens, [b, t, n, inner]), posGrid), [bt, n, inner]);
    const stack = p.pp('time_stack').pp(d);
    video.tap.at(stack, mixIn, ':input');
    const temporal = videoTransformerBlock(stack, mixIn, timeContext, t, {
      dim: inner,
      heads: s.heads,
      dimHead: s.dimHead,
      ffIn: s.ffIn,
      disableCrossAttention: s.disableTemporalCrossattention,
      contextDim: s.useSpatialContext ? s.contextDim : undefined,
    });
    video.tap.at(stack, temporal);

    tokens = timeMixer(mixer, tokens, temporal, {
      strategy: video.mergeStrategy,
      imageOnlyIndicator: video.imageOnlyIndicator,
      alphaShape: [bt, 1, 1],
    });
    video.tap.at(mixer, tokens);
  }
  if (s.depth === 0) declareTimeMixer(mixer);

  let out: SymTensor;
  if (s.useLinear) {
    const projected = linear(p.pp('proj_out'), tokens, inner, c);
    video.tap.at(p.pp('proj_out'), projected);
    // [(b t), h·w, C] -> [(b t), C, h·w] -> [(b t), C, h, w]
    out = op.reshape(op.transpose(projected, [0, 2, 1]), [bt, c, h, w]);
  } else {
    // [(b t), h·w, C] -> [(b t), C, h·w] -> [(b t), C, h, w]
    const grid = op.reshape(op.transpose(tokens, [0, 2, 1]), [bt, inner, h, w]);
    out = conv(p.pp('proj_out'), grid, inner, c, { kernel: 1, padding: 0 });
    video.tap.at(p.pp('proj_out'), out);
  }
  out = op.add(out, x);
  video.tap.at(p, out);
  return out;
}

/** A depth-0 transformer never blends, but its `time_mixer.mix_factor` is still a checkpoint key. */
function declareTimeMixer(mixer: Params): void {
  mixer.declare('mix_factor', [1]);
}

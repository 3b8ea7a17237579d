/**
 * sgm `sgm/modules/diffusionmodules/openaimodel.py::ResBlock` without up/down sampling and scale-shift norm
 * (svd-spec.md §2.5), 2-D (the spatial block) or 3-D (`VideoResBlock.time_stack`, with `exchange_temb_dims`):
 *   h = in_layers(x)  = Conv(SiLU(GroupNorm32(x)))                        (`in_layers.0`, `.2`)
 *   h = h + emb_layers(emb) = Linear(SiLU(emb)) broadcast over the spatial dims  (`emb_layers.1`)
 *   h = out_layers(h) = Conv(Dropout(SiLU(GroupNorm32(h))))               (`out_layers.0`, `.3`)
 *   out = skip_connection(x) + h   (identity, or a 1×1 conv when the channel count changes)
 * GroupNorm32 is 32 groups, eps 1e-5; on a 5-D input the statistics span all frames of a video.
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { conv, groupNorm, linear } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';

/** GroupNorm32 eps (torch default). */
export const RESBLOCK_GROUPNORM_EPS = 1e-5;

export interface ResBlockSpec {
  inChannels: number;
  outChannels: number;
  /** Width of the time embedding. */
  embChannels: number;
  /** Conv kernel per spatial dim (2 entries for 2-D, 3 for 3-D); padding is k // 2. */
  kernel: readonly number[];
  /**
   * 3-D `time_stack`: `emb` is [b, t, E] and its projection [b, t, C] is rearranged `b t c -> b c t` so that each
   * frame gets its own embedding.
   */
  exchangeTembDims?: boolean;
}

/** x [N, Cin, ...spatial] (N = (b t) for 2-D, b for 3-D with spatial = t, h, w) → [N, Cout, ...spatial]. */
export function resBlock(p: Params, x: SymTensor, emb: SymTensor, s: ResBlockSpec): SymTensor {
  const padding = s.kernel.map((k) => Math.floor(k / 2));
  const convSpec = { kernel: s.kernel, padding };
  const spatialOnes = new Array<number>(x.rank - 2).fill(1);

  const inLayers = p.pp('in_layers');
  let h = op.silu(groupNorm(inLayers.pp(0), x, s.inChannels, RESBLOCK_GROUPNORM_EPS));
  h = conv(inLayers.pp(2), h, s.inChannels, s.outChannels, convSpec);

  let embOut = linear(p.pp('emb_layers').pp(1), op.silu(emb), s.embChannels, s.outChannels);
  if (s.exchangeTembDims) {
    // [b, t, C] -> [b, C, t] -> [b, C, t, 1, 1]
    const [b, t, c] = embOut.shape;
    embOut = op.reshape(op.transpose(embOut, [0, 2, 1]), [b, c, t, ...spatialOnes.slice(1)]);
  } else {
    // [N, C] -> [N, C, 1, 1]
    embOut = op.reshape(embOut, [...embOut.shape, ...spatialOnes]);
  }
  h = op.add(h, embOut);

  const outLayers = p.pp('out_layers');
  h = op.silu(groupNorm(outLayers.pp(0), h, s.outChannels, RESBLOCK_GROUPNORM_EPS));
  h = conv(outLayers.pp(3), h, s.outChannels, s.outChannels, convSpec);

  const skip =
    s.inChannels === s.outChannels
      ? x
      : conv(p.pp('skip_connection'), x, s.inChannels, s.outChannels, { kernel: 1, padding: 0 });
  return op.add(skip, h);
}

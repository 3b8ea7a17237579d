/**
 * sgm `sgm/modules/diffusionmodules/video_model.py::VideoResBlock` (svd-spec.md §2.5): the spatial ResBlock on every
 * frame, then `time_stack` (a 3-D ResBlock with kernel `video_kernel_size`, per-frame time embedding,
 * `exchange_temb_dims`) on [b, C, t, h, w], blended by `time_mixer` (pattern `b t -> b 1 t 1 1`):
 *   out = α·spatial + (1 − α)·time_stack(spatial).
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import type { Params } from '../../nn/params.ts';
import { resBlock } from './res-block.ts';
import { timeMixer } from './time-mixer.ts';
import type { VideoContext } from './video-context.ts';

export interface VideoResBlockSpec {
  inChannels: number;
  outChannels: number;
  embChannels: number;
  /** (T, H, W) kernel of the temporal convs. */
  videoKernelSize: readonly number[];
}

/** x [(b t), Cin, h, w], emb [(b t), E] → [(b t), Cout, h, w]. */
export function videoResBlock(
  p: Params,
  x: SymTensor,
  emb: SymTensor,
  s: VideoResBlockSpec,
  video: VideoContext,
): SymTensor {
  const spatial = resBlock(p, x, emb, {
    inChannels: s.inChannels,
    outChannels: s.outChannels,
    embChannels: s.embChannels,
    kernel: [3, 3],
  });

  const t = video.numFrames;
  const [bt, c, h, w] = spatial.shape;
  const b = bt / t;
  // [(b t), C, h, w] -> [b, t, C, h, w] -> [b, C, t, h, w]
  const spatial5 = op.transpose(op.reshape(spatial, [b, t, c, h, w]), [0, 2, 1, 3, 4]);
  const timeStack = p.pp('time_stack');
  video.tap.at(timeStack, spatial5, ':input');

  // [(b t), E] -> [b, t, E]
  const embFrames = op.reshape(emb, [b, t, emb.shape[1]]);
  const temporal = resBlock(timeStack, spatial5, embFrames, {
    inChannels: s.outChannels,
    outChannels: s.outChannels,
    embChannels: s.embChannels,
    kernel: s.videoKernelSize,
    exchangeTembDims: true,
  });
  video.tap.at(timeStack, temporal);

  const mixer = p.pp('time_mixer');
  const mixed = timeMixer(mixer, spatial5, temporal, {
    strategy: video.mergeStrategy,
    imageOnlyIndicator: video.imageOnlyIndicator,
    alphaShape: [b, 1, t, 1, 1],
  });
  video.tap.at(mixer, mixed);

  // [b, C, t, h, w] -> [b, t, C, h, w] -> [(b t), C, h, w]
  const out = op.reshape(op.transpose(mixed, [0, 2, 1, 3, 4]), [bt, c, h, w]);
  video.tap.at(p, out);
  return out;
}

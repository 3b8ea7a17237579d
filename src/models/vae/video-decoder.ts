/**
 * `sgm/modules/autoencoding/temporal_ae.py::VideoDecoder` with `time_mode "conv-only"` (the SVD first stage): the
 * Decoder with every ResnetBlock a `VideoResBlock` and conv_out an `AE3DConv`; attention stays the spatial AttnBlock.
 * One call decodes one chunk of frames: `timesteps` = the chunk length, so temporal convs and the temporal GroupNorm
 * never see across a chunk border (see chunked-decode.ts for `decode_first_stage`).
 */
import type { SymTensor } from '../../graph/builder.ts';
import type { Params } from '../../nn/params.ts';
import { ae3dConv } from './ae3d-conv.ts';
import { type AutoencoderConfig, vaeNormGroups, videoKernel } from './config.ts';
import { type DecoderParts, decoderForward } from './decoder.ts';
import type { BuildOptions } from './tap.ts';
import { videoResBlock } from './video-res-block.ts';

/** The VideoDecoder's parts for a batch of `timesteps`-frame videos (every norm in the config's `normGroups` groups). */
export function videoDecoderParts(cfg: AutoencoderConfig, timesteps: number, opts: BuildOptions = {}): DecoderParts {
  const kernel = videoKernel(cfg);
  const mergeStrategy = cfg.mergeStrategy ?? 'learned';
  const normGroups = vaeNormGroups(cfg);
  return {
    resBlock: (p, x, inC, outC) =>
      videoResBlock(p, x, inC, outC, { timesteps, kernel, mergeStrategy, normGroups, tap: opts.tap }),
    convOut: (p, x, inC, outC) => ae3dConv(p, x, inC, outC, timesteps, kernel, opts.tap),
  };
}

/**
 * Decodes one chunk: z [(b t), z, h, w] (frame-major within each video; b = 1 in SVD) with t = `numFrames` →
 * frames [(b t), outCh, H, W]. `p` is the `decoder` module (`first_stage_model.decoder`). No scale factor here: the
 * caller passes z / scale_factor, as `decode_first_stage` does.
 */
export function buildVideoDecoder(
  p: Params,
  z: SymTensor,
  cfg: AutoencoderConfig,
  numFrames: number,
  opts: BuildOptions = {},
): SymTensor {
  if (!Number.isInteger(numFrames) || numFrames < 1 || z.shape[0] % numFrames !== 0) {
    throw new Error(`VideoDecoder: ${z.shape[0]} latent rows are not a whole number of ${numFrames}-frame videos`);
  }
  return decoderForward(p, z, cfg, videoDecoderParts(cfg, numFrames, opts), opts);
}

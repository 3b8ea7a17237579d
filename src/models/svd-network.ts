/**
 * The network F of SVD's denoiser: sgm `sgm/modules/diffusionmodules/wrappers.py::OpenAIWrapper` around the
 * `VideoUNet` — the conditioning latent (`concat`) is joined to the preconditioned input on the channel axis, the
 * CLIP embedding is the cross-attention context and the micro-conditioning vector is `y`. Inference (the sampler's
 * UNet graph), training (the diffusion loss) and the tests all build F through `svdNetwork`.
 */
import { GraphBuilder, type SymTensor } from '../graph/builder.ts';
import type { Graph } from '../graph/ir.ts';
import * as op from '../graph/ops/index.ts';
import { Params } from '../nn/params.ts';
import { buildVideoUNet, type VideoUNetConfig, type VideoUNetOptions } from './unet/index.ts';

/** Where the UNet's parameters live in the sgm single-file layout. */
export const UNET_PREFIX = 'model.diffusion_model';

export interface SvdNetworkInputs {
  /** c_in·x: [rows, latentChannels, h, w], frame-major within each video. */
  xScaled: SymTensor;
  /** The conditioning latent repeated over the frames: [rows, inChannels − latentChannels, h, w] (absent: none). */
  concat?: SymTensor;
  /** c_noise: [rows]. */
  cNoise: SymTensor;
  /** [rows, M, contextDim]. */
  context: SymTensor;
  /** [rows, admInChannels] when the UNet has a label embedding. */
  y?: SymTensor;
  /** [rows / T, T] (1 = image-only frame). */
  imageOnlyIndicator?: SymTensor;
}

/**
 * F(c_in·x, c_noise; c) → [rows, outChannels, h, w]. `p` is the model root (parameters under `model.diffusion_model`);
 * `numFrames` = T, the frames per video of the batch.
 */
export function svdNetwork(
  p: Params,
  unet: VideoUNetConfig,
  inputs: SvdNetworkInputs,
  numFrames: number,
  options: VideoUNetOptions = {},
): SymTensor {
  const x = inputs.concat ? op.concat([inputs.xScaled, inputs.concat], 1) : inputs.xScaled; // [rows, 4 + 4, h, w]
  return buildVideoUNet(
    p.pp('model').pp('diffusion_model'),
    {
      x,
      timesteps: inputs.cNoise,
      context: inputs.context,
      y: inputs.y,
      imageOnlyIndicator: inputs.imageOnlyIndicator,
    },
    unet,
    numFrames,
    options,
  );
}

/** Channels of the conditioning latent the wrapper concatenates (inChannels − outChannels; 4 for SVD). */
export function concatChannels(unet: VideoUNetConfig): number {
  return unet.inChannels - unet.outChannels;
}

/**
 * The inference graph of F for `rows` rows of T-frame videos at latent size h×w. Inputs: `x` (c_in·x), `concat`
 * (when the UNet takes one), `timesteps` (c_noise), `context`, `y` (label embedding), `image_only_indicator`;
 * output `out`. `wrap` decorates the root Params (e.g. `(p) => withLora(p, set)`: LoRA as graph weights).
 */
export function svdNetworkGraph(
  unet: VideoUNetConfig,
  rows: number,
  numFrames: number,
  h: number,
  w: number,
  wrap: (p: Params) => Params = (p) => p,
): Graph {
  const b = new GraphBuilder(`unet_${rows}x${h}x${w}`);
  const extra = concatChannels(unet);
  const out = svdNetwork(
    wrap(new Params(b)),
    unet,
    {
      xScaled: b.input('x', [rows, unet.outChannels, h, w]),
      concat: extra > 0 ? b.input('concat', [rows, extra, h, w]) : undefined,
      cNoise: b.input('timesteps', [rows]),
      context: b.input('context', [rows, 1, unet.contextDim]),
      y: unet.numClasses === 'sequential' ? b.input('y', [rows, unet.admInChannels!]) : undefined,
      imageOnlyIndicator: b.input('image_only_indicator', [rows / numFrames, numFrames]),
    },
    numFrames,
  );
  b.output('out', out);
  return b.build();
}

/**
 * sgm `sgm/modules/diffusionmodules/video_model.py::VideoUNet.forward` (svd-spec.md §2.4) on the graph builder:
 *   emb = time_embed(timestep_embedding(timesteps)) + label_emb(y)
 *   input blocks (each output pushed on the skip stack) → middle block →
 *   output blocks, each on cat([h, skip.pop()], channels) → out.
 * Parameters are read under `p` (positioned at `model.diffusion_model` for the released single-file checkpoints), so
 * the module nesting is the reference's state-dict layout.
 */
import { GraphBuilder, type SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { conv } from '../../nn/layers.ts';
import { Params, type ParamTree } from '../../nn/params.ts';
import { formatShape } from '../../tensor/shape.ts';
import { type VideoUNetConfig, validateVideoUNetConfig } from './config.ts';
import { downsample } from './downsample.ts';
import { labelEmb } from './label-emb.ts';
import { type LayerSpec, videoUNetLayout } from './layout.ts';
import { outHead } from './out.ts';
import { spatialVideoTransformer } from './spatial-video-transformer.ts';
import { type CaptureFn, Tap } from './tap.ts';
import { timeEmbed, timestepFeatures } from './time-embed.ts';
import { upsample } from './upsample.ts';
import type { VideoContext } from './video-context.ts';
import { videoResBlock } from './video-res-block.ts';

export interface VideoUNetInputs {
  /** [(b t), inChannels, h, w], frame-major within each video. */
  x: SymTensor;
  /** [(b t)] float32 (c_noise). */
  timesteps: SymTensor;
  /** [(b t), M, contextDim] (SVD: M = 1, the CLIP image embedding). */
  context: SymTensor;
  /** [(b t), admInChannels]; required when `numClasses` is "sequential". */
  y?: SymTensor;
  /** [b, t] float (nonzero = image-only frame); required for merge strategy `learned_with_images`. */
  imageOnlyIndicator?: SymTensor;
}

export interface VideoUNetOptions {
  /**
   * Receives every intermediate under the names of `unet-tiny/intermediates.safetensors` (module paths under
   * `model.diffusion_model`, `:input` = a module's first input) plus `t_emb` and `emb`.
   */
  capture?: CaptureFn;
}

export class VideoUNetInputError extends Error {
  override name = 'VideoUNetInputError';
}

function checkShape(what: string, t: SymTensor | undefined, expected: readonly number[]): void {
  if (!t) throw new VideoUNetInputError(`VideoUNet: ${what} is required`);
  if (t.rank !== expected.length || expected.some((d, i) => d !== -1 && d !== t.shape[i])) {
    const want = formatShape(expected).replaceAll('-1', '?');
    throw new VideoUNetInputError(`VideoUNet: ${what} must be ${want}, got ${formatShape(t.shape)}`);
  }
}

function checkInputs(inputs: VideoUNetInputs, cfg: VideoUNetConfig, numFrames: number): void {
  checkShape('x', inputs.x, [-1, cfg.inChannels, -1, -1]);
  const n = inputs.x.shape[0];
  if (!Number.isInteger(numFrames) || numFrames < 1 || n % numFrames !== 0) {
    throw new VideoUNetInputError(`VideoUNet: ${n} rows of x are not whole videos of ${numFrames} frames`);
  }
  const levels = cfg.channelMult.length - 1;
  const [, , h, w] = inputs.x.shape;
  if (h % 2 ** levels !== 0 || w % 2 ** levels !== 0) {
    throw new VideoUNetInputError(`VideoUNet: latent ${h}×${w} is not divisible by 2^${levels} (skip concatenation)`);
  }
  checkShape('timesteps', inputs.timesteps, [n]);
  checkShape('context', inputs.context, [n, -1, cfg.contextDim]);
  if (cfg.numClasses === 'sequential') checkShape('y', inputs.y, [n, cfg.admInChannels!]);
  if (cfg.mergeStrategy === 'learned_with_images') {
    checkShape('imageOnlyIndicator', inputs.imageOnlyIndicator, [n / numFrames, numFrames]);
  }
}

/** Builds the UNet graph; returns the output [(b t), outChannels, h, w]. */
export function buildVideoUNet(
  p: Params,
  inputs: VideoUNetInputs,
  cfg: VideoUNetConfig,
  numFrames: number,
  opts: VideoUNetOptions = {},
): SymTensor {
  validateVideoUNetConfig(cfg);
  checkInputs(inputs, cfg, numFrames);
  const tap = new Tap(p, opts.capture);
  const video: VideoContext = {
    numFrames,
    imageOnlyIndicator: cfg.mergeStrategy === 'learned_with_images' ? inputs.imageOnlyIndicator : undefined,
    mergeStrategy: cfg.mergeStrategy,
    tap,
  };
  const mc = cfg.modelChannels;
  const embDim = 4 * mc;

  const tEmb = timestepFeatures(inputs.timesteps, mc);
  tap.named('t_emb', tEmb);
  let emb = timeEmbed(p.pp('time_embed'), tEmb, mc, embDim);
  tap.at(p.pp('time_embed'), emb);
  if (cfg.numClasses === 'sequential') {
    const label = labelEmb(p.pp('label_emb'), inputs.y!, cfg.admInChannels!, embDim);
    tap.at(p.pp('label_emb'), label);
    emb = op.add(emb, label);
  }
  tap.named('emb', emb);

  const layer = (lp: Params, spec: LayerSpec, h: SymTensor): SymTensor => {
    switch (spec.kind) {
      case 'conv_in':
        return conv(lp, h, spec.inChannels, spec.outChannels, { kernel: 3, padding: 1 });
      case 'res':
        return videoResBlock(
          lp,
          h,
          emb,
          {
            inChannels: spec.inChannels,
            outChannels: spec.outChannels,
            embChannels: embDim,
            videoKernelSize: cfg.videoKernelSize,
          },
          video,
        );
      case 'attn':
        return spatialVideoTransformer(
          lp,
          h,
          inputs.context,
          {
            channels: spec.channels,
            heads: spec.heads,
            dimHead: spec.dimHead,
            depth: spec.depth,
            contextDim: cfg.contextDim,
            useLinear: cfg.useLinearInTransformer,
            ffIn: cfg.extraFfMixLayer,
            useSpatialContext: cfg.useSpatialContext,
            disableTemporalCrossattention: cfg.disableTemporalCrossattention,
            maxTimeEmbedPeriod: cfg.maxDdpmTembPeriod,
          },
          video,
        );
      case 'down':
        return downsample(lp, h, spec.channels, cfg.convResample);
      case 'up':
        return upsample(lp, h, spec.channels, cfg.convResample);
    }
  };
  // Each block is traced in a scope named by its checkpoint prefix, so training can recompute its activations in
  // the backward pass instead of keeping them (`unetBlockScopes`, `valueAndGrad({ recompute })`).
  const sequential = (bp: Params, specs: readonly LayerSpec[], h: SymTensor): SymTensor =>
    bp.builder.scope(bp.prefix, () => {
      specs.forEach((spec, i) => {
        h = layer(bp.pp(i), spec, h);
      });
      tap.at(bp, h);
      return h;
    });

  const layout = videoUNetLayout(cfg);
  const skips: SymTensor[] = [];
  let h = inputs.x;
  layout.inputBlocks.forEach((specs, i) => {
    h = sequential(p.pp('input_blocks').pp(i), specs, h);
    skips.push(h);
  });
  h = sequential(p.pp('middle_block'), layout.middleBlock, h);
  layout.outputBlocks.forEach((specs, i) => {
    h = op.concat([h, skips.pop()!], 1); // [(b t), C + C_skip, h, w]
    h = sequential(p.pp('output_blocks').pp(i), specs, h);
  });
  const out = outHead(p.pp('out'), h, layout.finalChannels, cfg.outChannels);
  tap.at(p.pp('out'), out);
  return out;
}

/** The scopes of the UNet's blocks under `prefix` (input blocks, middle block, output blocks), for recomputation. */
export function unetBlockScopes(cfg: VideoUNetConfig, prefix: string): string[] {
  const layout = videoUNetLayout(cfg);
  return [
    ...layout.inputBlocks.map((_, i) => `${prefix}.input_blocks.${i}`),
    `${prefix}.middle_block`,
    ...layout.outputBlocks.map((_, i) => `${prefix}.output_blocks.${i}`),
  ];
}

/**
 * Records every parameter of the UNet (key → shape, under `p.prefix`) in `p.tree` without building `p`'s graph: a
 * shape-only build of one frame at the smallest latent size on a scratch builder that is never run.
 */
export function declareVideoUNetParams(p: Params, cfg: VideoUNetConfig): ParamTree {
  validateVideoUNetConfig(cfg);
  const b = new GraphBuilder('video-unet-params');
  const side = 2 ** (cfg.channelMult.length - 1);
  const inputs: VideoUNetInputs = {
    x: b.input('x', [1, cfg.inChannels, side, side]),
    timesteps: b.input('timesteps', [1]),
    context: b.input('context', [1, 1, cfg.contextDim]),
    y: cfg.numClasses === 'sequential' ? b.input('y', [1, cfg.admInChannels!]) : undefined,
    imageOnlyIndicator: b.input('image_only_indicator', [1, 1]),
  };
  buildVideoUNet(new Params(b, p.prefix, p.tree), inputs, cfg, 1);
  return p.tree;
}

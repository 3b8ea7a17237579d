/**
 * The graphs a training stage runs: the frozen first-stage encoder (frames → posterior moments), the frozen
 * conditioner (with conditioning-dropout masks), and the loss graph — sgm `StandardDiffusionLoss` (src/diffusion/
 * loss.ts) around `svdNetwork`, the same network the sampler runs. Shapes are fixed per run (B videos × T frames at
 * h × w latents), so each graph is traced once.
 */
import { standardDiffusionLoss } from '../../diffusion/loss.ts';
import { GraphBuilder, type SymTensor } from '../../graph/builder.ts';
import type { Graph } from '../../graph/ir.ts';
import * as op from '../../graph/ops/index.ts';
import { buildConditioner } from '../../models/conditioner/conditioner.ts';
import { FIRST_STAGE_PREFIX } from '../../models/declare-params.ts';
import type { EmbedderSpec, SvdModel } from '../../models/description.ts';
import { concatChannels, svdNetwork, UNET_PREFIX } from '../../models/svd-network.ts';
import { unetBlockScopes } from '../../models/unet/index.ts';
import { buildDecoder } from '../../models/vae/decoder.ts';
import { buildEncoder } from '../../models/vae/encoder.ts';
import { DiagonalGaussian } from '../../models/vae/gaussian.ts';
import { buildVideoDecoder } from '../../models/vae/video-decoder.ts';
import { Params } from '../../nn/params.ts';
import type { HostTensor } from '../../tensor/host-tensor.ts';

export { firstStageEncoderGraph } from '../../models/vae/first-stage-encoder.ts';

/** The conditioner for one sample's batch (shapes and dtypes of `batch`), with `keep.<index>` inputs for `dropping`. */
export function conditionerTrainGraph(
  model: SvdModel,
  batch: Readonly<Record<string, HostTensor>>,
  dropping: readonly EmbedderSpec[],
  keepRows: (e: EmbedderSpec) => number,
): Graph {
  const b = new GraphBuilder('conditioner_train');
  const inputs: Record<string, SymTensor> = {};
  for (const [k, t] of Object.entries(batch)) inputs[k] = b.input(k, t.shape, t.dtype);
  for (const e of dropping) inputs[`keep.${e.index}`] = b.input(`keep.${e.index}`, [keepRows(e)]);
  const out = buildConditioner(new Params(b), model.embedders, model.clip, inputs, dropping);
  for (const [k, v] of Object.entries(out)) if (v) b.output(k, v);
  return b.build();
}

export interface LossGraphShape {
  /** Videos per micro-batch. */
  videos: number;
  frames: number;
  /** Latent size. */
  h: number;
  w: number;
}

export interface StageLossGraph {
  graph: Graph;
  /** Every UNet parameter the graph reads (and, with LoRA, the LoRA tensors): key → shape. */
  params: Params;
  /** Block scopes for activation recomputation. */
  recompute: string[];
}

/**
 * The loss graph of a stage: inputs `x0`, `sigma` [N], `noise`, `context` [N, 1, D], `y` [N, adm] (label embedding),
 * `concat` [N, Cc, h, w] (when the UNet takes one), `image_only_indicator` [B, T]; outputs `loss`, `loss_per_sample`
 * (and `denoised`, for checks).
 * `wrap` may replace the Params the UNet reads (LoRA).
 */
export function stageLossGraph(
  model: SvdModel,
  shape: LossGraphShape,
  options: { recompute?: boolean; wrap?: (p: Params) => Params; denoisedOutput?: boolean } = {},
): StageLossGraph {
  const { videos, frames, h, w } = shape;
  const unet = model.unet;
  const n = videos * frames;
  const b = new GraphBuilder(`train_loss_${videos}x${frames}x${h}x${w}`);
  const base = new Params(b);
  const p = options.wrap ? options.wrap(base) : base;
  const extra = concatChannels(unet);
  const x0 = b.input('x0', [n, unet.outChannels, h, w]);
  const context = b.input('context', [n, 1, unet.contextDim]);
  const y = unet.numClasses === 'sequential' ? b.input('y', [n, unet.admInChannels!]) : undefined;
  const concat = extra > 0 ? b.input('concat', [n, extra, h, w]) : undefined;
  const indicator = b.input('image_only_indicator', [videos, frames]);
  const out = standardDiffusionLoss(
    (xScaled, cNoise) =>
      svdNetwork(p, unet, { xScaled, concat, cNoise, context, y, imageOnlyIndicator: indicator }, frames),
    { x0, sigma: b.input('sigma', [n]), noise: b.input('noise', [n, unet.outChannels, h, w]) },
  );
  b.output('loss', out.loss);
  b.output('loss_per_sample', out.perSample);
  if (options.denoisedOutput) b.output('denoised', out.denoised);
  return {
    graph: b.build(),
    params: p,
    recompute: options.recompute ? unetBlockScopes(unet, UNET_PREFIX) : [],
  };
}

/** The KL weight of the autoencoder stage: the LDM/SD VAE training configs' `kl_weight` (1e-6). */
export const AUTOENCODER_KL_WEIGHT = 1e-6;

/**
 * The autoencoder stage's loss graph (the first stage trained from scratch, LDM §3 / sgm `AutoencodingEngine` with a
 * `DiagonalGaussianRegularizer`): inputs `pixels` [B·T, 3, H, W] in [−1, 1] (frame-major videos of T frames) and `eps`
 * [B·T, z, H/8, W/8] ~ N(0, I); the encoder's posterior sampled as z = mean + std·eps, decoded by the (video) decoder
 * over each video's T frames; loss = mean |x − x̂| (or mean (x − x̂)² with `reconstruction` `mse`) + kl_weight ·
 * KL(q(z|x) ‖ N(0, I)) summed over a frame's latent and averaged over frames. No perceptual or adversarial term: their networks' weights are not available offline.
 * Outputs `loss`, `loss_per_sample` [B·T] (the reconstruction part per frame) and `reconstruction`.
 */
export function autoencoderLossGraph(
  model: SvdModel,
  shape: { videos: number; frames: number; height: number; width: number },
  klWeight = AUTOENCODER_KL_WEIGHT,
  reconstruction: 'l1' | 'mse' = 'l1',
): StageLossGraph {
  const fs = model.firstStage;
  if (fs.kind !== 'autoencoding-engine' || !fs.encoder)
    throw new Error(`${model.name}: the autoencoder stage trains an AutoencodingEngine with an encoder`);
  const n = shape.videos * shape.frames;
  const b = new GraphBuilder(`autoencoder_loss_${n}x${shape.height}x${shape.width}`);
  const x = b.input('pixels', [n, 3, shape.height, shape.width]);
  const root = new Params(b);
  const p = root.pp(FIRST_STAGE_PREFIX);
  const posterior = new DiagonalGaussian(buildEncoder(p.pp('encoder'), x, fs.encoder));
  const eps = b.input('eps', posterior.mean.shape);
  const z = posterior.sample(eps);
  const xr = fs.videoDecoder
    ? buildVideoDecoder(p.pp('decoder'), z, fs.decoder, shape.frames)
    : buildDecoder(p.pp('decoder'), z, fs.decoder);
  const err = op.sub(x, xr);
  const rec = op.mean(reconstruction === 'mse' ? op.mul(err, err) : op.abs(err), [1, 2, 3]); // [N]
  // KL(N(μ, σ²) ‖ N(0, 1)) = ½ Σ (μ² + σ² − 1 − log σ²)
  const kl = op.mul(
    op.sum(
      op.sub(op.add(op.mul(posterior.mean, posterior.mean), posterior.var), op.add(posterior.logvar, 1)),
      [1, 2, 3],
    ),
    0.5,
  );
  b.output('loss', op.add(op.mean(rec), op.mul(op.mean(kl), klWeight)));
  b.output('loss_per_sample', rec);
  b.output('reconstruction', xr);
  return { graph: b.build(), params: root, recompute: [] };
}

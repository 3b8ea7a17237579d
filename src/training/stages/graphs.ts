/**
 * The graphs a training stage runs: the frozen first-stage encoder (frames → posterior moments), the frozen
 * conditioner (with conditioning-dropout masks), and the loss graph — sgm `StandardDiffusionLoss` (src/diffusion/
 * loss.ts) around `svdNetwork`, the same network the sampler runs. Shapes are fixed per run (B videos × T frames at
 * h × w latents), so each graph is traced once.
 */
import { standardDiffusionLoss } from '../../diffusion/loss.ts';
import { GraphBuilder, type SymTensor } from '../../graph/builder.ts';
import type { Graph } from '../../graph/ir.ts';
import { buildConditioner } from '../../models/conditioner/conditioner.ts';
import { FIRST_STAGE_PREFIX } from '../../models/declare-params.ts';
import type { EmbedderSpec, SvdModel } from '../../models/description.ts';
import { concatChannels, svdNetwork, UNET_PREFIX } from '../../models/svd-network.ts';
import { unetBlockScopes } from '../../models/unet/index.ts';
import { encodeMoments } from '../../models/vae/autoencoder.ts';
import { buildEncoder } from '../../models/vae/encoder.ts';
import { DiagonalGaussian } from '../../models/vae/gaussian.ts';
import { Params } from '../../nn/params.ts';
import type { HostTensor } from '../../tensor/host-tensor.ts';

/** frames [N, 3, H, W] in [−1, 1] → `mean`, `logvar` [N, z, H/8, W/8] of the first stage's posterior. */
export function firstStageEncoderGraph(model: SvdModel, n: number, height: number, width: number): Graph {
  const fs = model.firstStage;
  const b = new GraphBuilder(`first_stage_encoder_${n}x${height}x${width}`);
  const x = b.input('frames', [n, 3, height, width]);
  const p = new Params(b).pp(FIRST_STAGE_PREFIX);
  let moments: SymTensor;
  if (fs.kind === 'autoencoder-kl') moments = encodeMoments(p, x, fs.kl);
  else if (fs.encoder) moments = buildEncoder(p.pp('encoder'), x, fs.encoder);
  else
    throw new Error(
      `${model.name}: the first stage has no encoder (torch.nn.Identity): it cannot encode training data`,
    );
  const g = new DiagonalGaussian(moments);
  b.output('mean', g.mean);
  b.output('logvar', g.logvar);
  return b.build();
}

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

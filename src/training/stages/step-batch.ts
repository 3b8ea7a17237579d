/**
 * One micro-batch of a training step, from decoded samples to the loss graph's feeds (svd-spec.md §4.1):
 * - x0: the first stage's posterior sample z = mean + std·ε, times `scale_factor` (sgm `encode_first_stage`);
 * - σ per video, log σ ~ N(pMean, pStd²) (EDM log-normal sampling), repeated over its frames; noise ~ N(0, I);
 * - conditioning from the frozen conditioner on the first frame: crossattn (CLIP), vector (fps_id, motion bucket,
 *   cond_aug), and for image-to-video stages the concat latent of the first frame noised with
 *   log σ_aug ~ N(−3.0, 0.5²) (σ_aug is also the `cond_aug` input); conditioning dropout per embedder and video.
 * Every random draw is a pure function of (seed, stream, global sample index or step), so a resumed run draws what
 * the uninterrupted run drew.
 */

import { dropoutMasks } from '../../conditioning/dropout.ts';
import { imageToVideoBatch } from '../../conditioning/image-to-video-batch.ts';
import { edmSigmaSampling } from '../../diffusion/sigma-sampling.ts';
import type { Graph } from '../../graph/ir.ts';
import type { EmbedderSpec, SvdModel } from '../../models/description.ts';
import { concatChannels } from '../../models/svd-network.ts';
import type { Engine } from '../../runtime/engine.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import { Rng } from '../../tensor/rng.ts';
import { isImageToVideo, type TrainConfig } from './config.ts';
import { conditionerTrainGraph, firstStageEncoderGraph } from './graphs.ts';

/** A decoded training sample. */
export interface TrainSample {
  id: string;
  /** [T, 3, H, W] in [−1, 1]. */
  frames: HostTensor;
  fpsId: number;
  motionBucketId: number;
  /** Cached posterior moments [T, z, h, w] (then `frames` is only read for the first frame's conditioning). */
  moments?: { mean: HostTensor; logvar: HostTensor };
}

/** The model's embedders with the run's dropout rates (`config.ucg` by input key wins over the model's ucg_rate). */
export function trainEmbedders(model: SvdModel, config: TrainConfig): EmbedderSpec[] {
  return model.embedders.map((e) => ({ ...e, ucgRate: config.ucg[e.inputKey] ?? e.ucgRate }));
}

function repeatRows(t: HostTensor, times: number): Float32Array {
  const src = t.data as Float32Array;
  const out = new Float32Array(src.length * times);
  for (let i = 0; i < times; i++) out.set(src, i * src.length);
  return out;
}

function firstFrame(frames: HostTensor): HostTensor<'float32'> {
  const [, c, h, w] = frames.shape;
  return new HostTensor('float32', [1, c, h, w], (frames.data as Float32Array).slice(0, c * h * w));
}

export class StepBatcher {
  private encoder?: Graph;
  private conditioner?: Graph;
  readonly embedders: EmbedderSpec[];
  readonly dropping: EmbedderSpec[];
  private readonly rng: Rng;
  /** Resolves once the encoder's weights are in the engine. */
  private encoderReady: Promise<void> | undefined;

  /** `prepare(graph)` is awaited once per frozen graph before its first run (it loads the graph's weights). */
  constructor(
    private readonly engine: Engine,
    readonly model: SvdModel,
    readonly config: TrainConfig,
    private readonly prepare: (graph: Graph) => Promise<void> = async () => {},
  ) {
    this.embedders = trainEmbedders(model, config);
    this.dropping = this.embedders.filter((e) => e.ucgRate > 0);
    this.rng = new Rng(config.seed);
  }

  /** The frozen graphs this batcher runs (their weights must be in the engine). */
  graphs(): Graph[] {
    return [this.encoder, this.conditioner].filter((g): g is Graph => g !== undefined);
  }

  /** Posterior moments of frames [T, 3, H, W]. */
  async encode(frames: HostTensor): Promise<{ mean: HostTensor<'float32'>; logvar: HostTensor<'float32'> }> {
    const [n, , H, W] = frames.shape;
    if (!this.encoder) {
      this.encoder = firstStageEncoderGraph(this.model, n, H, W);
      this.encoderReady = this.prepare(this.encoder);
    }
    // Every caller waits for the weights: a second encode arriving while the first loads them (the latent cache
    // prefetches) must not run the graph on a half-filled weight store.
    await this.encoderReady;
    const out = await this.engine.run(this.encoder, { frames });
    return { mean: out.mean as HostTensor<'float32'>, logvar: out.logvar as HostTensor<'float32'> };
  }

  /** Rows of an embedder's output per video: the image embedders give one, the timestep embedders one per frame. */
  private keepRows(e: EmbedderSpec): number {
    return e.kind === 'timestep' ? this.config.data.frames : 1;
  }

  /**
   * The loss graph's feeds for micro-batch `micro` of optimizer step `step` (0-based). `samples` are its B videos;
   * `first` is the global index of its first sample in the run (for per-sample draws).
   */
  async feeds(
    samples: readonly TrainSample[],
    step: number,
    micro: number,
    first: number,
  ): Promise<Record<string, HostTensor>> {
    const { model, config } = this;
    const T = config.data.frames;
    const B = samples.length;
    const N = B * T;
    const [, , H, W] = samples[0].frames.shape;
    const h = H / 8;
    const w = W / 8;
    if (config.stage === 'autoencoder') {
      // the clips' frames, frame-major per video, and the posterior's sampling noise
      const pixels = new Float32Array(N * 3 * H * W);
      for (let b = 0; b < B; b++) pixels.set(samples[b].frames.data as Float32Array, b * T * 3 * H * W);
      const z = model.unet.outChannels;
      return {
        pixels: new HostTensor('float32', [N, 3, H, W], pixels),
        eps: new HostTensor('float32', [N, z, h, w], this.rng.normal(`train.latent.${step}.${micro}`, N * z * h * w)),
      };
    }
    const C = model.unet.outChannels;
    const tag = `${step}.${micro}`;
    const i2v = isImageToVideo(config.stage);

    // x0 = scale_factor · (mean + std·ε)
    const x0 = new Float32Array(N * C * h * w);
    const eps = this.rng.normal(`train.latent.${tag}`, x0.length);
    const row = T * C * h * w;
    for (let b = 0; b < B; b++) {
      const m = samples[b].moments ?? (await this.encode(samples[b].frames));
      const mean = m.mean.data as Float32Array;
      const logvar = m.logvar.data as Float32Array;
      for (let i = 0; i < row; i++) {
        const z = mean[i] + Math.exp(0.5 * logvar[i]) * eps[b * row + i];
        x0[b * row + i] = Math.fround(z * model.scaleFactor);
      }
    }

    // σ per video, repeated over its frames.
    const perVideo = edmSigmaSampling(this.rng.normal('train.sigma', B, first), config.sigma.pMean, config.sigma.pStd);
    const sigma = new Float32Array(N);
    for (let b = 0; b < B; b++) sigma.fill(perVideo[b], b * T, (b + 1) * T);
    const noise = this.rng.normal(`train.noise.${tag}`, x0.length);

    // Conditioning of each video on its first frame.
    const D = model.unet.contextDim;
    const adm = model.unet.admInChannels ?? 0;
    const extra = concatChannels(model.unet);
    const context = new Float32Array(N * D);
    const y = new Float32Array(N * adm);
    const concat = new Float32Array(N * extra * h * w);
    const condAug = edmSigmaSampling(
      this.rng.normal('train.cond_aug', B, first),
      config.condAug.mean,
      config.condAug.std,
    );
    for (let b = 0; b < B; b++) {
      const s = samples[b];
      const image = firstFrame(s.frames);
      const augment = i2v ? condAug[b] : 0;
      const condNoise = new HostTensor(
        'float32',
        image.shape,
        this.rng.normal(`train.cond_noise.${first + b}`, image.size),
      );
      const batch = imageToVideoBatch(this.embedders, image, condNoise, {
        frames: T,
        fpsId: s.fpsId,
        motionBucketId: s.motionBucketId,
        condAug: augment,
      });
      const keep = dropoutMasks(this.dropping, this.rng, 1, first + b); // one draw per embedder and video
      const feeds: Record<string, HostTensor> = { ...batch };
      for (const e of this.dropping) {
        const k = (keep[`keep.${e.index}`].data as Float32Array)[0];
        feeds[`keep.${e.index}`] = HostTensor.float32([this.keepRows(e)], new Array(this.keepRows(e)).fill(k));
      }
      if (!this.conditioner) {
        this.conditioner = conditionerTrainGraph(model, feeds, this.dropping, (e) => this.keepRows(e));
        await this.prepare(this.conditioner);
      }
      const c = await this.engine.run(this.conditioner, feeds);
      if (c.crossattn) context.set(repeatRows(c.crossattn, T), b * T * D);
      if (c.vector && adm > 0) y.set(c.vector.data as Float32Array, b * T * adm);
      if (c.concat && i2v) concat.set(repeatRows(c.concat, T), b * T * extra * h * w);
    }

    const out: Record<string, HostTensor> = {
      x0: new HostTensor('float32', [N, C, h, w], x0),
      sigma: new HostTensor('float32', [N], sigma),
      noise: new HostTensor('float32', [N, C, h, w], noise),
      context: new HostTensor('float32', [N, 1, D], context),
      image_only_indicator: new HostTensor(
        'float32',
        [B, T],
        new Float32Array(N).fill(config.stage === 'image' ? 1 : 0),
      ),
    };
    if (adm > 0) out.y = new HostTensor('float32', [N, adm], y);
    if (extra > 0) out.concat = new HostTensor('float32', [N, extra, h, w], concat);
    return out;
  }
}

/**
 * Image-to-video for one or more videos, in the order of the reference script (`scripts/sampling/
 * simple_video_sample.py`, svd-spec.md §2.1):
 *   1. noise: the conditioning-frame noise and the initial latent noise (seeded RNG, or given);
 *   2. conditioning (./stages/conditioning.ts): c, and uc with zeros for crossattn and concat;
 *   3–5. sampling (./stages/sampling.ts): guidance(v-scaling(F)) on [uncond; cond], noise·√(1 + σ₀²), the sampler;
 *   6. decoding in chunks of `decodeChunk` frames (./stages/decoding.ts); for a multi-view orbit (SV3D, the camera
 *      in `inputs.orbit`) the last frame is then the input image, as the script does.
 * Each stage runs for every video of the batch with its weights loaded once, then releases them. A video depends
 * only on its own image, parameters and seed: generated alone or in a batch, it is the same video.
 */
import { imageToVideoBatch as conditioningBatch } from '../conditioning/image-to-video-batch.ts';
import type { OrbitAngles } from '../conditioning/orbit.ts';
import type { StepInfo } from '../diffusion/samplers.ts';
import type { SvdModel } from '../models/description.ts';
import type { Engine } from '../runtime/engine.ts';
import type { HostTensor } from '../tensor/host-tensor.ts';
import { Rng } from '../tensor/rng.ts';
import type { CheckpointSource } from '../weights/index.ts';
import { type MemoryPlan, planMemory } from './memory-estimate.ts';
import type { GenerateParams } from './params.ts';
import { StageRunner } from './stage-runner.ts';
import { conditionVideos } from './stages/conditioning.ts';
import { decodeVideos, withInputAsLastFrame } from './stages/decoding.ts';
import { sampleVideos } from './stages/sampling.ts';

export type StageName = 'conditioning' | 'sampling' | 'decoding';

export interface PipelineHooks {
  onStage?: (stage: StageName) => void;
  /** After each sampler step of video `video` (0-based position in the batch). */
  onStep?: (video: number, info: StepInfo) => void;
  /** Memory decisions and warnings (CFG split chosen to fit memory, decode chunk larger than memory). */
  onNotice?: (line: string) => void;
  signal?: AbortSignal;
  /** Per video: receives the reference's intermediates (`sigmas`, `x_init`, `step.<i>.*`, `cond.*`, `uncond.*`). */
  intermediates?: readonly (Map<string, HostTensor> | undefined)[];
  /** Bytes of memory the memory plan may assume (default: `os.totalmem()`; less under a container's limit). */
  availableMemory?: number;
}

export interface ImageToVideoInputs {
  /** The conditioning image [1, 3, H, W] in [−1, 1]. */
  image: HostTensor;
  /** Replace the random draws: `cond_noise` [1, 3, H, W], `latent_noise` [T, C, H/8, W/8], churn ε per step. */
  condNoise?: HostTensor;
  latentNoise?: HostTensor;
  churnNoise?: (step: number) => Float32Array;
  /** A multi-view orbit (SV3D): the camera of every view, and the input image put back as the last frame. */
  orbit?: OrbitAngles;
}

export interface VideoRequest {
  inputs: ImageToVideoInputs;
  params: GenerateParams;
}

export interface ImageToVideoResult {
  /** Final latents [T, C, h, w] (before decoding). */
  latents: HostTensor<'float32'>;
  /** Decoded frames [T, 3, H, W] in [0, 1]. */
  frames: HostTensor<'float32'>;
}

export interface BatchResult {
  videos: ImageToVideoResult[];
  /** Milliseconds per stage, summed over the videos. */
  timings: Record<string, number>;
  plan: MemoryPlan;
}

/** The noise of one video: given, or drawn from its seed (streams `cond_noise`, `latent_noise`, `churn_noise.<i>`). */
function videoNoise(model: SvdModel, v: VideoRequest) {
  const [, , H, W] = v.inputs.image.shape;
  const T = v.params.frames;
  const latentShape = [T, model.unet.outChannels, H / 8, W / 8];
  const rng = new Rng(v.params.seed);
  const condNoise = v.inputs.condNoise ?? rng.randn('cond_noise', [1, 3, H, W]);
  const latentNoise = v.inputs.latentNoise ?? rng.randn('latent_noise', latentShape);
  for (const [what, t, shape] of [
    ['cond_noise', condNoise, [1, 3, H, W]],
    ['latent_noise', latentNoise, latentShape],
  ] as const) {
    if (t.shape.join() !== shape.join()) {
      throw new Error(`${what} must be [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
    }
  }
  const churnNoise =
    v.inputs.churnNoise ?? ((step: number) => rng.normal(`churn_noise.${step}`, latentNoise.size) as Float32Array);
  return { condNoise, latentNoise, churnNoise };
}

/** Every video of the batch, stage by stage. */
export async function imageToVideoBatch(
  engine: Engine,
  model: SvdModel,
  weights: CheckpointSource,
  videos: readonly VideoRequest[],
  hooks: PipelineHooks = {},
): Promise<BatchResult> {
  if (videos.length === 0) throw new Error('imageToVideo: no videos to generate');
  const timings: Record<string, number> = {};
  const stage = async <R>(name: StageName, fn: () => Promise<R>): Promise<R> => {
    hooks.signal?.throwIfAborted();
    hooks.onStage?.(name);
    const t0 = performance.now();
    const r = await fn();
    timings[name] = (timings[name] ?? 0) + performance.now() - t0;
    return r;
  };

  // The memory plan of the largest video decides for the whole batch (the stages run one video at a time).
  const largest = videos.reduce((a, b) =>
    b.params.frames * b.inputs.image.size > a.params.frames * a.inputs.image.size ? b : a,
  );
  const [, , H, W] = largest.inputs.image.shape;
  const big = largest.params;
  const plan = planMemory(model, big.frames, H, W, big.decodeChunk, big.splitCfg, hooks.availableMemory);
  for (const n of plan.notes) hooks.onNotice?.(n);
  const runner = new StageRunner(engine, weights, plan);
  const params = videos.map((v) => ({ ...v.params, splitCfg: v.params.splitCfg || plan.splitCfg }));

  // 1. noise
  const noise = videos.map((v) => videoNoise(model, v));
  // 2. conditioning
  const batches = videos.map((v, i) =>
    conditioningBatch(model.embedders, v.inputs.image, noise[i].condNoise, { ...params[i], orbit: v.inputs.orbit }),
  );
  const conditioning = await stage('conditioning', () => conditionVideos(runner, model, batches));
  conditioning.forEach(({ c, uc }, i) => {
    const inter = hooks.intermediates?.[i];
    if (!inter) return;
    for (const [k, t] of Object.entries(c)) inter.set(`cond.${k}`, t);
    for (const [k, t] of Object.entries(uc)) inter.set(`uncond.${k}`, t);
  });
  // 3–5. sampling
  const latents = await stage('sampling', () =>
    sampleVideos(
      runner,
      model,
      videos.map((_, i) => ({
        conditioning: conditioning[i],
        latentNoise: noise[i].latentNoise,
        churnNoise: noise[i].churnNoise,
        params: params[i],
      })),
      { onStep: hooks.onStep, signal: hooks.signal, intermediates: hooks.intermediates },
    ),
  );
  // 6. decoding
  const frames = await stage('decoding', () =>
    decodeVideos(
      runner,
      model,
      latents,
      params.map((p) => p.decodeChunk),
      hooks.signal,
    ),
  );
  // An orbit's last view is the input view: the script puts the input image back (`samples_x[-1:] = image`).
  videos.forEach((v, i) => {
    if (v.inputs.orbit) frames[i] = withInputAsLastFrame(frames[i], v.inputs.image);
  });
  return { videos: latents.map((l, i) => ({ latents: l, frames: frames[i] })), timings, plan };
}

/** One video: the batch of one. */
export async function imageToVideo(
  engine: Engine,
  model: SvdModel,
  weights: CheckpointSource,
  inputs: ImageToVideoInputs,
  params: GenerateParams,
  hooks: Omit<PipelineHooks, 'intermediates'> & { intermediates?: Map<string, HostTensor> } = {},
): Promise<ImageToVideoResult & { timings: Record<string, number> }> {
  const { intermediates, ...rest } = hooks;
  const r = await imageToVideoBatch(engine, model, weights, [{ inputs, params }], {
    ...rest,
    intermediates: [intermediates],
  });
  return { ...r.videos[0], timings: r.timings };
}

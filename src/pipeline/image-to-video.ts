/**
 * Image-to-video, in the order of the reference script (`scripts/sampling/simple_video_sample.py`, svd-spec.md §2.1):
 *   1. noise: the conditioning-frame noise and the initial latent noise (seeded RNG, or given);
 *   2. conditioning: CLIP embedding of the clean frame, micro-conditions, VAE-encoded noise-augmented frame; the
 *      unconditional branch has zeros for crossattn and concat and keeps the vector;
 *   3. denoiser = guidance(v-scaling(UNet)) on the CFG batch [uncond; cond];
 *   4. initial latent = noise · √(1 + σ₀²);
 *   5. sampler loop (Euler / Heun / DPM++(2M)) with progress and cancellation;
 *   6. decoding in chunks of `decodeChunk` frames; frames = clamp((x + 1)/2, 0, 1).
 * The conditioner's weights are released after stage 2 and the UNet's before stage 6 (memory).
 */
import { buildConditioner, unconditional } from '../conditioning/conditioner.ts';
import { makeVDenoiser } from '../diffusion/denoiser.ts';
import { guidedDenoiser, linearPredictionGuider, trianglePredictionGuider, vanillaCfg } from '../diffusion/guiders.ts';
import { type StepInfo, sampleDpmpp2m, sampleEuler, sampleHeun } from '../diffusion/samplers.ts';
import { edmSigmas, scaleInitialNoise } from '../diffusion/schedule.ts';
import { GraphBuilder, type SymTensor } from '../graph/builder.ts';
import type { Graph } from '../graph/ir.ts';
import * as op from '../graph/ops/index.ts';
import { loadWeightsInto } from '../models/load-weights.ts';
import type { SvdModel } from '../models/svd-model.ts';
import { buildVideoUNet } from '../models/unet/index.ts';
import { decodeAutoencoderKL } from '../models/vae/autoencoder.ts';
import { VideoDecodeRunner } from '../models/vae/chunked-decode.ts';
import { buildDecoder } from '../models/vae/decoder.ts';
import { Params } from '../nn/params.ts';
import type { Engine, ResidentTensor } from '../runtime/engine.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import { Rng } from '../tensor/rng.ts';
import type { CheckpointSource } from '../weights/index.ts';
import { planMemory } from './memory-estimate.ts';
import type { GenerateParams } from './params.ts';

export interface PipelineHooks {
  onStage?: (stage: string) => void;
  onStep?: (i: number, n: number) => void;
  /** Memory decisions and warnings (CFG split chosen to fit memory, decode chunk larger than memory). */
  onNotice?: (line: string) => void;
  signal?: AbortSignal;
  /** When given, receives the reference's intermediate tensors (`sigmas`, `x_init`, `step.<i>.*`, `cond.*`, `uncond.*`). */
  intermediates?: Map<string, HostTensor>;
}

export interface ImageToVideoInputs {
  /** The conditioning image [1, 3, H, W] in [−1, 1]. */
  image: HostTensor;
  /** Replaces the random draws: `cond_noise` [1, 3, H, W], `latent_noise` [T, 4, H/8, W/8]. */
  condNoise?: HostTensor;
  latentNoise?: HostTensor;
}

export interface ImageToVideoResult {
  /** Final latents [T, 4, h, w] (before decoding). */
  latents: HostTensor<'float32'>;
  /** Decoded frames [T, 3, H, W] in [0, 1]. */
  frames: HostTensor<'float32'>;
  timings: Record<string, number>;
}

const LATENT_CHANNELS = 4;

function checkShape(what: string, t: HostTensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${what} must be [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
  }
}

function repeatRows(t: HostTensor, times: number): Float32Array {
  const src = t.data as Float32Array;
  const out = new Float32Array(src.length * times);
  for (let i = 0; i < times; i++) out.set(src, i * src.length);
  return out;
}

/** Stage 2: the conditioner graph → c; uc = zeros for crossattn and concat, same vector. */
async function conditioning(
  engine: Engine,
  model: SvdModel,
  weights: CheckpointSource,
  image: HostTensor,
  condFrames: HostTensor,
  p: GenerateParams,
  memoryArena: boolean,
): Promise<{ c: Record<string, HostTensor>; uc: Record<string, HostTensor> }> {
  const T = p.frames;
  const feeds: Record<string, HostTensor> = {
    cond_frames_without_noise: image,
    cond_frames: condFrames,
    fps_id: HostTensor.int64([T], new Array(T).fill(p.fpsId)),
    motion_bucket_id: HostTensor.int64([T], new Array(T).fill(p.motionBucketId)),
    cond_aug: HostTensor.float32([T], new Array(T).fill(p.condAug)),
  };
  const b = new GraphBuilder('conditioner');
  const inputs: Record<string, SymTensor> = {};
  for (const e of model.embedders) {
    const t = feeds[e.inputKey];
    if (!t)
      throw new Error(`this model needs the conditioning input "${e.inputKey}", which image-to-video does not provide`);
    inputs[e.inputKey] = b.input(e.inputKey, t.shape, t.dtype);
  }
  const out = buildConditioner(new Params(b), model.embedders, model.clip, inputs);
  for (const [k, v] of Object.entries(out)) if (v) b.output(k, v);
  const graph = b.build();
  const keys = graph.inputs.filter((i) => i.kind === 'weight').map((i) => i.name);
  await loadWeightsInto(engine, weights, keys);
  const used = Object.fromEntries(Object.keys(inputs).map((k) => [k, feeds[k]]));
  const c = await engine.run(graph, used, { memoryArena });
  await engine.deleteWeights(keys);
  await engine.release([graph]);
  return { c, uc: unconditional(c) };
}

/** The UNet graph for `rows` rows of the CFG batch. */
function unetGraph(model: SvdModel, rows: number, T: number, h: number, w: number): Graph {
  const cfg = model.unet;
  const b = new GraphBuilder(`unet_${rows}x${h}x${w}`);
  const p = new Params(b).pp('model').pp('diffusion_model');
  const out = buildVideoUNet(
    p,
    {
      x: b.input('x', [rows, cfg.inChannels, h, w]),
      timesteps: b.input('timesteps', [rows]),
      context: b.input('context', [rows, 1, cfg.contextDim]),
      y: cfg.numClasses === 'sequential' ? b.input('y', [rows, cfg.admInChannels!]) : undefined,
      imageOnlyIndicator: b.input('image_only_indicator', [rows / T, T]),
    },
    cfg,
    T,
  );
  b.output('out', out);
  return b.build();
}

export async function imageToVideo(
  engine: Engine,
  model: SvdModel,
  weights: CheckpointSource,
  inputs: ImageToVideoInputs,
  p: GenerateParams,
  hooks: PipelineHooks = {},
): Promise<ImageToVideoResult> {
  const timings: Record<string, number> = {};
  const stage = async <R>(name: string, fn: () => Promise<R>): Promise<R> => {
    hooks.signal?.throwIfAborted();
    hooks.onStage?.(name);
    const t0 = performance.now();
    const r = await fn();
    timings[name] = (timings[name] ?? 0) + performance.now() - t0;
    return r;
  };
  const inter = hooks.intermediates;
  const T = p.frames;
  const [, , H, W] = inputs.image.shape;
  const h = H / 8;
  const w = W / 8;
  const rng = new Rng(p.seed);

  // 1. noise
  const condNoise = inputs.condNoise ?? rng.randn('cond_noise', [1, 3, H, W]);
  const latentNoise = inputs.latentNoise ?? rng.randn('latent_noise', [T, LATENT_CHANNELS, h, w]);
  checkShape('cond_noise', condNoise, [1, 3, H, W]);
  checkShape('latent_noise', latentNoise, [T, LATENT_CHANNELS, h, w]);

  const plan = planMemory(model, T, H, W, p.decodeChunk, p.splitCfg);
  for (const n of plan.notes) hooks.onNotice?.(n);
  p = { ...p, splitCfg: plan.splitCfg };
  const arena = { memoryArena: plan.memoryArena };

  // 2. conditioning: cond_frames = image + cond_aug · noise (torch casts the Python scalar to float32 first)
  const aug = Math.fround(p.condAug);
  const cn = condNoise.data as Float32Array;
  const condFrames = new HostTensor(
    'float32',
    inputs.image.shape,
    (inputs.image.data as Float32Array).map((v, i) => Math.fround(v + Math.fround(aug * cn[i]))),
  );
  const { c, uc } = await stage('conditioning', () =>
    conditioning(engine, model, weights, inputs.image, condFrames, p, plan.memoryArena),
  );
  if (inter) {
    for (const [k, v] of Object.entries(c)) inter.set(`cond.${k}`, v);
    for (const [k, v] of Object.entries(uc)) inter.set(`uncond.${k}`, v);
  }

  // 3. denoiser on the CFG batch [uncond; cond]: crossattn and concat repeated over the T frames.
  const cfg = model.unet;
  const halves = [uc, c];
  const rowsPerCall = p.splitCfg ? T : 2 * T;
  const graph = unetGraph(model, rowsPerCall, T, h, w);
  const unetKeys = graph.inputs.filter((i) => i.kind === 'weight').map((i) => i.name);
  await stage('load unet', () => loadWeightsInto(engine, weights, unetKeys));
  const condRow = LATENT_CHANNELS * h * w;
  const concatRows = halves.map((half) => repeatRows(half.concat, T)); // [T, 4, h, w] each
  const resident: ResidentTensor[] = [];
  const perCall: { context: ResidentTensor; y?: ResidentTensor; indicator: HostTensor }[] = [];
  for (const first of p.splitCfg ? [0, 1] : [0]) {
    const parts = p.splitCfg ? [halves[first]] : halves;
    const ctx = new Float32Array(parts.length * T * cfg.contextDim);
    parts.forEach((half, k) => {
      ctx.set(repeatRows(half.crossattn, T), k * T * cfg.contextDim);
    });
    const context = await engine.upload(new HostTensor('float32', [parts.length * T, 1, cfg.contextDim], ctx));
    resident.push(context);
    let y: ResidentTensor | undefined;
    if (cfg.numClasses === 'sequential') {
      const adm = cfg.admInChannels!;
      const yv = new Float32Array(parts.length * T * adm);
      parts.forEach((half, k) => {
        yv.set(half.vector.data as Float32Array, k * T * adm);
      });
      y = await engine.upload(new HostTensor('float32', [parts.length * T, adm], yv));
      resident.push(y);
    }
    perCall.push({ context, y, indicator: HostTensor.zeros('float32', [parts.length, T]) });
  }
  let stepIndex = 0;
  const network = async (xScaled: Float32Array, cNoise: Float32Array, firstRow: number): Promise<Float32Array> => {
    const rows = cNoise.length;
    // x_in = cat(c_in·x, concat) on the channel axis: [rows, 4 + 4, h, w] (OpenAIWrapper)
    const xin = new Float32Array(rows * cfg.inChannels * h * w);
    for (let r = 0; r < rows; r++) {
      const global = firstRow + r; // row of the 2T batch: uncond rows first
      const half = global < T ? 0 : 1;
      const frame = global % T;
      xin.set(xScaled.subarray(r * condRow, (r + 1) * condRow), r * 2 * condRow);
      xin.set(concatRows[half].subarray(frame * condRow, (frame + 1) * condRow), r * 2 * condRow + condRow);
    }
    const call = perCall[p.splitCfg ? firstRow / T : 0];
    const out = await engine.run(
      graph,
      {
        x: new HostTensor('float32', [rows, cfg.inChannels, h, w], xin),
        timesteps: new HostTensor('float32', [rows], cNoise),
        context: call.context,
        ...(call.y ? { y: call.y } : {}),
        image_only_indicator: call.indicator,
      },
      arena,
    );
    return out.out.data as Float32Array;
  };
  const vDenoiser = makeVDenoiser<[number]>(network);
  const batchDenoiser = async (x: Float32Array, sigma: Float32Array, firstRow: number) => {
    const d = await vDenoiser(x, sigma, firstRow);
    if (inter) {
      const key = `step.${stepIndex}.denoised_raw`;
      const prev = inter.get(key);
      const all = (prev?.data as Float32Array | undefined) ?? new Float32Array(2 * T * condRow);
      all.set(d, firstRow * condRow);
      if (!prev) inter.set(key, new HostTensor('float32', [2 * T, LATENT_CHANNELS, h, w], all));
    }
    return d;
  };
  const guider =
    p.guider === 'linear'
      ? linearPredictionGuider(p.minCfg, p.maxCfg, T)
      : p.guider === 'triangle'
        ? trianglePredictionGuider(p.minCfg, p.maxCfg, T)
        : vanillaCfg(p.maxCfg);
  const denoiser = guidedDenoiser(batchDenoiser, guider, { split: p.splitCfg });

  // 4. initial latent, 5. sampling
  const sigmas = edmSigmas(p.steps, { sigmaMin: p.sigmaMin, sigmaMax: p.sigmaMax, rho: p.rho });
  const x0 = scaleInitialNoise(latentNoise.data as Float32Array, sigmas[0]);
  inter?.set('sigmas', new HostTensor('float32', [sigmas.length], sigmas));
  inter?.set('x_init', new HostTensor('float32', [T, LATENT_CHANNELS, h, w], x0));
  const onStep = (info: StepInfo) => {
    if (inter) {
      inter.set(`step.${info.i}.denoised`, new HostTensor('float32', [T, LATENT_CHANNELS, h, w], info.denoised));
      inter.set(`step.${info.i}.x`, new HostTensor('float32', [T, LATENT_CHANNELS, h, w], info.x));
    }
    stepIndex = info.i + 1;
    hooks.onStep?.(info.i + 1, info.n);
  };
  const samplerOpts = { rows: T, onStep, signal: hooks.signal };
  const sample = p.sampler === 'euler' ? sampleEuler : p.sampler === 'heun' ? sampleHeun : sampleDpmpp2m;
  let latent: Float32Array;
  try {
    latent = await stage('sampling', () => sample(denoiser, x0, sigmas, samplerOpts));
  } finally {
    await engine.free(resident);
    await engine.deleteWeights(unetKeys);
    await engine.release([graph]);
  }
  const latents = new HostTensor('float32', [T, LATENT_CHANNELS, h, w], latent);

  // 6. decoding in chunks
  const decoded = await stage('decoding', () =>
    decode(engine, model, weights, latents, p.decodeChunk, plan.memoryArena),
  );
  const frames = new Float32Array(decoded.data.length);
  const dd = decoded.data as Float32Array;
  for (let i = 0; i < frames.length; i++) {
    const v = Math.fround(Math.fround(dd[i] + 1) / 2);
    frames[i] = Math.min(Math.max(v, 0), 1);
  }
  return { latents, frames: new HostTensor('float32', decoded.shape, frames), timings };
}

/** `decode_first_stage`: z / scale_factor, decoded `chunk` frames at a time; decoder weights released afterwards. */
async function decode(
  engine: Engine,
  model: SvdModel,
  weights: CheckpointSource,
  z: HostTensor<'float32'>,
  chunk: number,
  memoryArena: boolean,
): Promise<HostTensor<'float32'>> {
  const fs = model.firstStage;
  const [n, c, h, w] = z.shape;
  let keys: string[] = [];
  try {
    if (fs.kind === 'autoencoding-engine' && fs.videoDecoder) {
      const runner = new VideoDecodeRunner(engine, {
        config: fs.decoder,
        scaleFactor: model.scaleFactor,
        decodeChunk: chunk,
        memoryArena,
      });
      const graphs = new Set(
        [Math.min(chunk, n), n % chunk || Math.min(chunk, n)].map((len) => runner.graphFor(len, h, w)),
      );
      keys = [...new Set([...graphs].flatMap((g) => g.inputs.filter((i) => i.kind === 'weight').map((i) => i.name)))];
      await loadWeightsInto(engine, weights, keys);
      const out = await runner.decode(z);
      await engine.release([...graphs]);
      return out;
    }
    // Per-frame image decoders (image-decoder presets, sv3d-u): frames are independent; chunks only bound memory.
    const graphFor = (len: number) => {
      const b = new GraphBuilder(`image_decoder_${len}`);
      const zz = op.mul(b.input('z', [len, c, h, w]), 1 / model.scaleFactor);
      const p = new Params(b).pp('first_stage_model');
      b.output(
        'frames',
        fs.kind === 'autoencoder-kl'
          ? decodeAutoencoderKL(p, zz, fs.kl)
          : buildDecoder(p.pp('decoder'), zz, fs.decoder),
      );
      return b.build();
    };
    const parts: Float32Array[] = [];
    const data = z.data as Float32Array;
    const row = c * h * w;
    let outShape: readonly number[] = [];
    for (let s = 0; s < n; s += chunk) {
      const len = Math.min(chunk, n - s);
      const g = graphFor(len);
      keys = g.inputs.filter((i) => i.kind === 'weight').map((i) => i.name);
      await loadWeightsInto(engine, weights, keys);
      const out = await engine.run(
        g,
        { z: new HostTensor('float32', [len, c, h, w], data.slice(s * row, (s + len) * row)) },
        { memoryArena },
      );
      await engine.release([g]);
      parts.push(out.frames.data as Float32Array);
      outShape = out.frames.shape;
    }
    const all = new Float32Array(parts.reduce((a, q) => a + q.length, 0));
    let off = 0;
    for (const q of parts) {
      all.set(q, off);
      off += q.length;
    }
    return new HostTensor('float32', [n, ...outShape.slice(1)], all);
  } finally {
    if (keys.length > 0) await engine.deleteWeights(keys.filter((k) => engine.hasWeight(k)));
  }
}

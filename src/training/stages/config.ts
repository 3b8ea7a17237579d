/**
 * The paper's training stages (Blattmann et al. 2023, arXiv 2311.15127, §3.2–§4; svd-spec.md §4.2) as typed configs
 * with presets. A run's JSON config names a stage and overrides any field; `resolveTrainConfig` fills the rest from the
 * stage's preset and checks every value, naming the field of the first problem.
 *
 * - `image` (Stage I): the spatial layers only, on images (T = 1, `image_only_indicator` = 1: the temporal branches
 *   are bypassed), EDM σ sampling log σ ~ N(−1.2, 1.2²) (sgm `EDMSampling` defaults).
 * - `video` (Stage II): the whole network on clips at low resolution; the temporal layers are (re)initialised so the
 *   video network starts out equal to the image model frame by frame (./video-init.ts).
 * - `finetune` (Stage III): higher resolution with the noise distribution shifted towards more noise
 *   (log σ ~ N(0.7, 1.6²), the values the community's SVD fine-tuning scripts use, svd-spec.md §4.2).
 * - `i2v`: image-to-video as the released models are conditioned — CLIP embedding of the clean first frame, the VAE
 *   latent of the first frame noised with log σ_aug ~ N(−3.0, 0.5²) (that σ_aug is the `cond_aug` input),
 *   micro-conditioning, conditioning dropout per embedder (`ucg`).
 * - `lora`: the i2v setup with only LoRA matrices trained (default targets: the temporal attention projections, as the
 *   paper's camera-motion LoRAs).
 * - `autoencoder`: the first stage itself (encoder and the temporal video decoder) from scratch on clips, for a model
 *   of one's own (the released SVD reuses SD 2.1's VAE and fine-tunes its decoder): L1 reconstruction + 1e-6 · KL
 *   (./graphs.ts `autoencoderLossGraph`).
 * Stages before i2v have no image conditioning yet: the CLIP embedding of the clip's first frame stands in for the
 * paper's text embedding (same cross-attention input), and the concat latent is zero.
 */
import { DEFAULT_LORA_TARGETS } from '../../models/lora/targets.ts';
import { TEMPORAL_PARAM_PATTERNS } from '../freeze.ts';

export type StageKind = 'autoencoder' | 'image' | 'video' | 'finetune' | 'i2v' | 'lora';
export const STAGE_KINDS: readonly StageKind[] = ['autoencoder', 'image', 'video', 'finetune', 'i2v', 'lora'];

export interface TrainData {
  /** A folder of videos (mp4, webm, mkv, mov, avi, gif). */
  videos?: string;
  /** A curated JSONL manifest (the curation pipeline's output). */
  manifest?: string;
  /** A folder of images (stage I). */
  images?: string;
  /** Frames per clip (T); 1 for images. */
  frames: number;
  /** Frame rates to sample clips at (one drawn per sample); fps_id = fps − 1. */
  fps: readonly number[];
  width: number;
  height: number;
  /** Cache VAE posterior moments (later epochs read them; the crop and fps of a clip are then fixed at first draw). */
  latentCache: boolean;
  /**
   * Colour augmentation a in [0, 1): each sample's R, G and B are multiplied by gains drawn uniformly from
   * [1 − a, 1 + a] (the same for every frame), clipped to the pixel range; 0 (the default): none, as the paper names
   * no colour augmentation. svd-mini's autoencoder stage uses it so that the latent must carry colour and brightness
   * (models/svd-mini/README.md).
   */
  colourJitter: number;
  /**
   * Put each sample's R, G, B in one of their six orders (uniformly; default false). svd-mini's autoencoder uses it so
   * that it meets every hue on few photos: trained without, it turned unseen saturated greens orange.
   */
  channelShuffle: boolean;
}

export interface LoraTrainConfig {
  rank: number;
  alpha: number;
  /** Globs over sgm module paths (src/models/lora/targets.ts). */
  targets: readonly string[];
}

export interface TrainConfig {
  stage: StageKind;
  /** The model: a preset name or a reference-structure config file, and the weights to start from. */
  model: {
    preset?: string;
    config?: string;
    init?: string;
    /**
     * Autoencoder stage from fresh weights only: the bias of the encoder's log-variance outputs (the second half of
     * `encoder.conv_out`, sgm `DiagonalGaussianRegularizer`) starts here instead of at PyTorch's default (≈ 0, a
     * posterior std of 1 — a noisy latent channel that the first thousand steps spend narrowing). svd-mini: −8.
     */
    logvarInit?: number;
    /**
     * Autoencoder stage from fresh weights only: the encoder's `conv_in` starts with its response to colour differences
     * (each weight's component across R, G, B orthogonal to (1, 1, 1)) multiplied by this (default 1: PyTorch's init).
     * Natural images vary some 3× less across colours than in brightness, so a random first layer passes little colour,
     * and the decoder first learns to paint grey, after which colour gets almost no gradient (measured on svd-mini:
     * after 1000 steps a linear read of the latent explained 2 % of the 8×8 blocks' colour differences and 87 % of
     * their brightness; with 3 here, 15 % after 200 steps where 1 gave 4 %). svd-mini: 3.
     */
    colourInitGain?: number;
    /**
     * Autoencoder stage only: train the model with this many latent channels instead of its own (the preset's
     * first stage with another `z_channels`; src/models/latent-channels.ts), e.g. to compare latent widths.
     */
    latentChannels?: number;
  };
  data: TrainData;
  /** Videos (or images) per optimizer step, per micro-batch. */
  batch: number;
  /** Micro-batches per optimizer step (gradient accumulation). */
  accumulate: number;
  steps: number;
  lr: number;
  warmupSteps: number;
  schedule: 'constant' | 'cosine';
  weightDecay: number;
  beta1: number;
  beta2: number;
  clipGradNorm: number;
  /** EMA decay of the trained parameters (0: no EMA). */
  ema: number;
  /**
   * Autoencoder stage: the weight of KL(q(z|x) ‖ N(0, I)) beside the L1 loss (LDM's `kl_weight`, default 1e-6). With
   * Adam a KL term of any weight moves the parameters the reconstruction does not use yet at a full step per step: 0
   * keeps latent channels that the decoder has not learnt to read from turning into noise.
   */
  klWeight?: number;
  /**
   * Autoencoder stage: the reconstruction term, `l1` (LDM's, the default) or `mse`. L1's gradient is the sign of each
   * channel's error, so while the luma error is larger than a pixel's colour difference R, G and B get the same sign
   * and colour gets no gradient at all; the reference adds LPIPS (not available offline), which carries colour. With
   * `mse` each channel's gradient is its own error (measured on svd-mini: see the README).
   */
  reconstructionLoss?: 'l1' | 'mse';
  /** Recompute every UNet block's activations in the backward pass (less memory, ~1.3× the compute). */
  recompute: boolean;
  /** Trainable parameters: globs over sgm keys (include), minus `frozen`. */
  trainable: readonly string[];
  frozen: readonly string[];
  /** EDM log-normal σ sampling: log σ ~ N(pMean, pStd²). */
  sigma: { pMean: number; pStd: number };
  /** i2v: log σ_aug ~ N(mean, std²) for the conditioning frame's noise augmentation. */
  condAug: { mean: number; std: number };
  /** Conditioning dropout rate per embedder input key (overrides the model's ucg_rate). */
  ucg: Readonly<Record<string, number>>;
  lora?: LoraTrainConfig;
  seed: number;
  /** Every `every` steps: the loss on a fixed held-out batch, and (i2v, lora) videos from fixed seeds. */
  validation: { every: number; seeds: readonly number[]; image?: string; steps: number };
  /** Every `every` steps a checkpoint; the last `keep` are kept. */
  checkpoint: { every: number; keep: number };
  threads?: number;
}

/** Rank 4, alpha 4 on the temporal attention projections (the paper's camera-motion LoRAs). */
export const DEFAULT_LORA: LoraTrainConfig = { rank: 4, alpha: 4, targets: DEFAULT_LORA_TARGETS };

const UNET = 'model.diffusion_model.**';

/** What every stage shares. */
const COMMON: Omit<TrainConfig, 'stage' | 'data' | 'trainable' | 'frozen' | 'sigma' | 'lr'> = {
  model: { preset: 'svd' },
  batch: 1,
  accumulate: 1,
  steps: 1000,
  warmupSteps: 100,
  schedule: 'constant',
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  clipGradNorm: 1,
  ema: 0.9999,
  recompute: false,
  condAug: { mean: -3.0, std: 0.5 },
  ucg: {},
  seed: 0,
  validation: { every: 500, seeds: [1, 2], steps: 10 },
  checkpoint: { every: 500, keep: 3 },
};

const clips = (frames: number, width: number, height: number): TrainData => ({
  frames,
  fps: [6, 8, 12],
  width,
  height,
  latentCache: false,
  colourJitter: 0,
  channelShuffle: false,
});

/** The stage presets: the paper's values at the released sizes (svd-spec.md §4.2); a run overrides what it needs. */
export const STAGE_PRESETS: Readonly<Record<StageKind, Omit<TrainConfig, 'stage'>>> = {
  autoencoder: {
    ...COMMON,
    data: clips(8, 128, 128),
    lr: 2e-4,
    trainable: ['first_stage_model.**'],
    frozen: [],
    sigma: { pMean: -1.2, pStd: 1.2 },
    ema: 0,
  },
  image: {
    ...COMMON,
    data: { ...clips(1, 512, 512), fps: [7] },
    lr: 1e-4,
    trainable: [UNET],
    frozen: TEMPORAL_PARAM_PATTERNS,
    sigma: { pMean: -1.2, pStd: 1.2 },
  },
  video: {
    ...COMMON,
    data: clips(14, 384, 256),
    lr: 1e-4,
    trainable: [UNET],
    frozen: [],
    sigma: { pMean: -1.2, pStd: 1.2 },
  },
  finetune: {
    ...COMMON,
    data: clips(14, 576, 320),
    lr: 3e-5,
    trainable: [UNET],
    frozen: [],
    sigma: { pMean: 0.7, pStd: 1.6 },
  },
  i2v: {
    ...COMMON,
    data: clips(14, 1024, 576),
    lr: 3e-5,
    trainable: [UNET],
    frozen: [],
    sigma: { pMean: 0.7, pStd: 1.6 },
    ucg: { cond_frames_without_noise: 0.1, cond_frames: 0.1 },
  },
  lora: {
    ...COMMON,
    data: clips(14, 1024, 576),
    lr: 1e-4,
    trainable: [],
    frozen: [],
    sigma: { pMean: 0.7, pStd: 1.6 },
    ucg: { cond_frames_without_noise: 0.1, cond_frames: 0.1 },
    lora: DEFAULT_LORA,
    ema: 0,
  },
};

/** Whether a stage conditions on the first frame as the released image-to-video models do. */
export function isImageToVideo(stage: StageKind): boolean {
  return stage === 'i2v' || stage === 'lora';
}

export class TrainConfigError extends Error {
  override name = 'TrainConfigError';
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects (arrays and scalars replace). */
function merge<T>(base: T, over: unknown, path: string): T {
  if (over === undefined) return base;
  if (!isObject(base)) return over as T;
  if (!isObject(over)) throw new TrainConfigError(`${path || 'config'} must be an object`);
  const out: Json = { ...(base as Json) };
  for (const [k, v] of Object.entries(over)) {
    const at = path ? `${path}.${k}` : k;
    if (!(k in out) && !OPTIONAL_KEYS.has(at)) throw new TrainConfigError(`${at}: unknown field`);
    out[k] = k in out ? merge(out[k], v, at) : v;
  }
  return out as T;
}

/** Fields a preset may leave out. */
const OPTIONAL_KEYS = new Set([
  'model.config',
  'model.init',
  'model.logvarInit',
  'model.latentChannels',
  'model.colourInitGain',
  'klWeight',
  'reconstructionLoss',
  'model.preset',
  'data.videos',
  'data.manifest',
  'data.images',
  'lora',
  'threads',
  'validation.image',
]);

function check(ok: boolean, field: string, expected: string, value: unknown): void {
  if (!ok) throw new TrainConfigError(`${field} ${JSON.stringify(value)}: expected ${expected}`);
}

const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;
const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** The stage's preset with `json`'s fields over it, checked. `stage` may come from the JSON or the command line. */
export function resolveTrainConfig(json: unknown, stage?: StageKind): TrainConfig {
  const j: Json = json === undefined ? {} : isObject(json) ? json : {};
  if (json !== undefined && !isObject(json)) throw new TrainConfigError('a train config must be a JSON object');
  const kind = (stage ?? j.stage) as StageKind | undefined;
  check(kind !== undefined && STAGE_KINDS.includes(kind), 'stage', `one of ${STAGE_KINDS.join(', ')}`, kind);
  if (stage && j.stage !== undefined && j.stage !== stage) {
    throw new TrainConfigError(`stage: the command line says ${stage}, the config says ${String(j.stage)}`);
  }
  const { stage: _, ...rest } = j;
  const preset = STAGE_PRESETS[kind!];
  const c: TrainConfig = { stage: kind!, ...merge(preset, rest, '') };
  if (c.model.config !== undefined && j.model && isObject(j.model) && j.model.preset === undefined) {
    c.model = { ...c.model, preset: undefined };
  }
  check(!(c.model.preset && c.model.config), 'model', 'a preset or a config, not both', c.model);
  const d = c.data;
  const sources = [d.videos, d.manifest, d.images].filter((s) => s !== undefined);
  check(sources.length === 1, 'data', 'exactly one of videos, manifest, images', sources);
  check(positiveInt(d.frames) && d.frames <= 1000, 'data.frames', 'an integer from 1 to 1000', d.frames);
  if (c.stage === 'image') check(d.frames === 1, 'data.frames', '1 for the image stage', d.frames);
  if (c.model.colourInitGain !== undefined) {
    const v = c.model.colourInitGain;
    check(c.stage === 'autoencoder', 'model.colourInitGain', 'only for the autoencoder stage', c.stage);
    check(c.model.init === undefined, 'model.colourInitGain', 'only from fresh weights (no model.init)', c.model.init);
    check(finite(v) && v > 0 && v <= 100, 'model.colourInitGain', 'a number in (0, 100]', v);
  }
  if (c.model.logvarInit !== undefined) {
    const v = c.model.logvarInit;
    check(c.stage === 'autoencoder', 'model.logvarInit', 'only for the autoencoder stage', c.stage);
    check(c.model.init === undefined, 'model.logvarInit', 'only from fresh weights (no model.init)', c.model.init);
    check(finite(v) && v >= -30 && v <= 20, 'model.logvarInit', 'a number in [−30, 20]', v);
  }
  if (c.reconstructionLoss !== undefined) {
    check(c.stage === 'autoencoder', 'reconstructionLoss', 'only for the autoencoder stage', c.stage);
    check(['l1', 'mse'].includes(c.reconstructionLoss), 'reconstructionLoss', '"l1" or "mse"', c.reconstructionLoss);
  }
  if (c.klWeight !== undefined) {
    check(c.stage === 'autoencoder', 'klWeight', 'only for the autoencoder stage', c.stage);
    check(finite(c.klWeight) && c.klWeight >= 0 && c.klWeight <= 1, 'klWeight', 'a number in [0, 1]', c.klWeight);
  }
  if (c.model.latentChannels !== undefined) {
    const n = c.model.latentChannels;
    check(c.stage === 'autoencoder', 'model.latentChannels', 'only for the autoencoder stage', c.stage);
    check(positiveInt(n) && n <= 64, 'model.latentChannels', 'an integer from 1 to 64', n);
  }
  if (c.stage === 'autoencoder')
    check(!d.latentCache, 'data.latentCache', 'false for the autoencoder stage (it trains the encoder)', d.latentCache);
  check(
    Array.isArray(d.fps) && d.fps.length > 0 && d.fps.every((f) => finite(f) && f > 0),
    'data.fps',
    'a list of frame rates',
    d.fps,
  );
  check(
    finite(d.colourJitter) && d.colourJitter >= 0 && d.colourJitter < 1,
    'data.colourJitter',
    'a number in [0, 1)',
    d.colourJitter,
  );
  check(typeof d.channelShuffle === 'boolean', 'data.channelShuffle', 'true or false', d.channelShuffle);
  check(positiveInt(d.width) && d.width % 8 === 0, 'data.width', 'a positive multiple of 8', d.width);
  check(positiveInt(d.height) && d.height % 8 === 0, 'data.height', 'a positive multiple of 8', d.height);
  for (const k of ['batch', 'accumulate', 'steps'] as const) check(positiveInt(c[k]), k, 'an integer ≥ 1', c[k]);
  check(finite(c.lr) && c.lr > 0, 'lr', 'a positive number', c.lr);
  check(Number.isInteger(c.warmupSteps) && c.warmupSteps >= 0, 'warmupSteps', 'an integer ≥ 0', c.warmupSteps);
  check(c.schedule === 'constant' || c.schedule === 'cosine', 'schedule', 'constant or cosine', c.schedule);
  check(finite(c.ema) && c.ema >= 0 && c.ema < 1, 'ema', 'a decay in [0, 1) (0: no EMA)', c.ema);
  check(finite(c.clipGradNorm) && c.clipGradNorm >= 0, 'clipGradNorm', 'a number ≥ 0 (0: no clipping)', c.clipGradNorm);
  check(finite(c.sigma.pMean) && finite(c.sigma.pStd) && c.sigma.pStd > 0, 'sigma', '{ pMean, pStd > 0 }', c.sigma);
  check(
    finite(c.condAug.mean) && finite(c.condAug.std) && c.condAug.std >= 0,
    'condAug',
    '{ mean, std ≥ 0 }',
    c.condAug,
  );
  for (const [k, r] of Object.entries(c.ucg)) check(finite(r) && r >= 0 && r <= 1, `ucg.${k}`, 'a rate in [0, 1]', r);
  check(Number.isSafeInteger(c.seed) && c.seed >= 0, 'seed', 'an integer ≥ 0', c.seed);
  check(positiveInt(c.validation.every), 'validation.every', 'an integer ≥ 1', c.validation.every);
  check(positiveInt(c.checkpoint.every), 'checkpoint.every', 'an integer ≥ 1', c.checkpoint.every);
  check(positiveInt(c.checkpoint.keep), 'checkpoint.keep', 'an integer ≥ 1', c.checkpoint.keep);
  if (c.stage === 'lora') {
    const l = c.lora ?? DEFAULT_LORA;
    check(positiveInt(l.rank), 'lora.rank', 'an integer ≥ 1', l.rank);
    check(finite(l.alpha) && l.alpha > 0, 'lora.alpha', 'a positive number', l.alpha);
    check(Array.isArray(l.targets) && l.targets.length > 0, 'lora.targets', 'a list of globs', l.targets);
    c.lora = l;
  } else {
    check(c.trainable.length > 0, 'trainable', 'at least one glob', c.trainable);
  }
  return c;
}

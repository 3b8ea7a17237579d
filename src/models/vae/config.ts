/**
 * Configuration of the SVD first stage and of the conditioning autoencoder: the reference `ddconfig` of
 * `sgm/modules/diffusionmodules/model.py::{Encoder, Decoder}` and `sgm/modules/autoencoding/temporal_ae.py::VideoDecoder`,
 * as a typed interface, plus converters from the sgm YAML `params` (snake_case) and the SVD values (svd-spec §1.3).
 */

/**
 * `attn_type` of sgm `make_attn`. `vanilla` and `vanilla-xformers` are the same single-head softmax attention
 * (`AttnBlock` / `MemoryEfficientAttnBlock`, same parameters); `none` is an identity.
 */
export type VaeAttnType = 'vanilla' | 'vanilla-xformers' | 'none';

/** How a VideoDecoder `VideoResBlock` blends: α = sigmoid(mix_factor) (`learned`) or α = mix_factor (`fixed`). */
export type VaeMergeStrategy = 'learned' | 'fixed';

/** The reference ddconfig, camelCase. */
export interface AutoencoderConfig {
  /** Base channel count (`ch`). */
  ch: number;
  /** Channel multiplier per resolution level (`ch_mult`). */
  chMult: readonly number[];
  /** ResnetBlocks per encoder level (the decoder has one more per level). */
  numResBlocks: number;
  /** Resolutions (in pixels of `resolution`-sized inputs) at which the levels carry an AttnBlock after each block. */
  attnResolutions: readonly number[];
  /** Latent channels (`z_channels`). */
  zChannels: number;
  /** Encoder outputs 2·z channels (mean and log-variance). */
  doubleZ: boolean;
  /** Image channels into the encoder (`in_channels`). */
  inChannels: number;
  /** Image channels out of the decoder (`out_ch`). */
  outCh: number;
  /** Nominal input resolution; only used to place attention (`curr_res in attn_resolutions`). */
  resolution: number;
  attnType: VaeAttnType;
  /** VideoDecoder only: kernel of the temporal convs (`video_kernel_size`, e.g. [3, 1, 1]); default 3. */
  videoKernelSize?: number | readonly number[];
  /** VideoDecoder only: `merge_strategy` (default `learned`). */
  mergeStrategy?: VaeMergeStrategy;
  /**
   * GroupNorm groups of every norm of this encoder/decoder: the resnet blocks, attention blocks, norm_out and the
   * VideoDecoder's time-stack norms; default 32, the reference's hard-coded value (sgm model.py Normalize). svd-mini
   * uses 16: see src/models/presets.ts.
   */
  normGroups?: number;
}

/** GroupNorm groups when a config sets none: sgm `model.py::Normalize` = torch.nn.GroupNorm(32, C, eps=1e-6). */
export const VAE_DEFAULT_NORM_GROUPS = 32;

/** The GroupNorm groups of a config (`normGroups`, default 32); a RangeError unless a positive integer. */
export function vaeNormGroups(cfg: Pick<AutoencoderConfig, 'normGroups'>): number {
  const g = cfg.normGroups ?? VAE_DEFAULT_NORM_GROUPS;
  if (!Number.isInteger(g) || g < 1) throw new RangeError(`VAE normGroups must be a positive integer, got ${g}`);
  return g;
}

/** `AutoencoderKL` / `AutoencoderKLModeOnly` params: `embed_dim` + ddconfig (quant_conv 2z→2·embed, post_quant_conv embed→z). */
export interface AutoencoderKLConfig {
  embedDim: number;
  ddconfig: AutoencoderConfig;
}

/** The ddconfig shared by the SVD first stage encoder and the conditioning `AutoencoderKLModeOnly` (svd.yaml). */
export const SVD_DDCONFIG: AutoencoderConfig = Object.freeze({
  ch: 128,
  chMult: Object.freeze([1, 2, 4, 4]),
  numResBlocks: 2,
  attnResolutions: Object.freeze([]),
  zChannels: 4,
  doubleZ: true,
  inChannels: 3,
  outCh: 3,
  resolution: 256,
  attnType: 'vanilla',
});

/** The SVD first-stage `VideoDecoder` config: the ddconfig plus `video_kernel_size [3, 1, 1]`. */
export const SVD_VIDEO_DECODER_CONFIG: AutoencoderConfig = Object.freeze({
  ...SVD_DDCONFIG,
  videoKernelSize: Object.freeze([3, 1, 1]),
  mergeStrategy: 'learned',
});

/** `conditioner.embedders.3.encoder` = AutoencoderKLModeOnly(embed_dim 4, ddconfig). */
export const SVD_CONDITIONING_AUTOENCODER: AutoencoderKLConfig = Object.freeze({
  embedDim: 4,
  ddconfig: Object.freeze({ ...SVD_DDCONFIG, attnType: 'vanilla-xformers' }),
});

/** `scale_factor` of the SVD DiffusionEngine (applied as z·(1/scale) before decoding only). */
export const SVD_SCALE_FACTOR = 0.18215;

/** Number of frames decoded per call by the reference script (`decoding_t`). */
export const SVD_DEFAULT_DECODE_CHUNK = 14;

type SgmParams = Readonly<Record<string, unknown>>;

function num(params: SgmParams, key: string, fallback?: number): number {
  const v = params[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`ddconfig: "${key}" must be a number, got ${v}`);
  return v;
}

function nums(params: SgmParams, key: string, fallback?: readonly number[]): readonly number[] {
  const v = params[key] ?? fallback;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) {
    throw new Error(`ddconfig: "${key}" must be a list of numbers, got ${JSON.stringify(v)}`);
  }
  return Object.freeze([...(v as number[])]);
}

/** ddconfig keys the converter understands; anything else is an error (so a silent misconfiguration cannot pass). */
const KNOWN_KEYS = new Set([
  'ch',
  'out_ch',
  'ch_mult',
  'num_res_blocks',
  'attn_resolutions',
  'dropout',
  'resamp_with_conv',
  'in_channels',
  'resolution',
  'z_channels',
  'double_z',
  'use_linear_attn',
  'attn_type',
  'give_pre_end',
  'tanh_out',
  // VideoDecoder
  'video_kernel_size',
  'alpha',
  'merge_strategy',
  'time_mode',
  // this port's extension (sgm hard-codes 32): see AutoencoderConfig.normGroups
  'norm_groups',
]);

/**
 * Converts a reference ddconfig (the `params` of an sgm `Encoder` / `Decoder` / `VideoDecoder`, or the `ddconfig` of
 * an `AutoencoderKL*`) to an AutoencoderConfig. Rejects the options this port does not implement (linear attention,
 * `resamp_with_conv: false`, `give_pre_end`, `tanh_out`, time modes other than `conv-only`). `dropout` is ignored
 * (inference); `alpha` is only the initial mix_factor, which the checkpoint supplies. `norm_groups` is not an sgm
 * parameter (sgm hard-codes GroupNorm(32)): this port reads it as `normGroups`, for models of its own such as svd-mini.
 */
export function ddconfigFromSgm(params: SgmParams): AutoencoderConfig {
  for (const k of Object.keys(params)) {
    if (!KNOWN_KEYS.has(k)) throw new Error(`ddconfig: unknown parameter "${k}"`);
  }
  const unsupported: [string, unknown, unknown][] = [
    ['resamp_with_conv', params.resamp_with_conv, true],
    ['use_linear_attn', params.use_linear_attn, false],
    ['give_pre_end', params.give_pre_end, false],
    ['tanh_out', params.tanh_out, false],
    ['time_mode', params.time_mode, 'conv-only'],
  ];
  for (const [key, value, supported] of unsupported) {
    if (value !== undefined && value !== supported) {
      throw new Error(`ddconfig: ${key}=${JSON.stringify(value)} is not supported (only ${JSON.stringify(supported)})`);
    }
  }
  const attnType = (params.attn_type ?? 'vanilla') as string;
  if (attnType !== 'vanilla' && attnType !== 'vanilla-xformers' && attnType !== 'none') {
    throw new Error(`ddconfig: attn_type "${attnType}" is not supported`);
  }
  const cfg: AutoencoderConfig = {
    ch: num(params, 'ch'),
    chMult: nums(params, 'ch_mult', [1, 2, 4, 8]),
    numResBlocks: num(params, 'num_res_blocks'),
    attnResolutions: nums(params, 'attn_resolutions'),
    zChannels: num(params, 'z_channels'),
    doubleZ: (params.double_z ?? true) === true,
    inChannels: num(params, 'in_channels'),
    outCh: num(params, 'out_ch'),
    resolution: num(params, 'resolution'),
    attnType,
  };
  const vks = params.video_kernel_size;
  if (vks !== undefined) {
    cfg.videoKernelSize = typeof vks === 'number' ? vks : nums(params, 'video_kernel_size');
  }
  const ms = params.merge_strategy;
  if (ms !== undefined) {
    if (ms !== 'learned' && ms !== 'fixed') throw new Error(`ddconfig: merge_strategy "${ms}" is not supported`);
    cfg.mergeStrategy = ms;
  }
  const groups = params.norm_groups;
  if (groups !== undefined) {
    if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1) {
      throw new Error(`ddconfig: norm_groups ${JSON.stringify(groups)} is not a positive integer`);
    }
    cfg.normGroups = groups;
  }
  return cfg;
}

/** Converts the `params` of `sgm.models.autoencoder.AutoencoderKL` / `AutoencoderKLModeOnly` (`embed_dim`, `ddconfig`). */
export function autoencoderKLFromSgm(params: SgmParams): AutoencoderKLConfig {
  const dd = params.ddconfig;
  if (typeof dd !== 'object' || dd === null) throw new Error('AutoencoderKL params: "ddconfig" is missing');
  return { embedDim: num(params, 'embed_dim'), ddconfig: ddconfigFromSgm(dd as SgmParams) };
}

/** Kernel of the temporal convs as [kt, kh, kw]. */
export function videoKernel(cfg: AutoencoderConfig): [number, number, number] {
  const k = cfg.videoKernelSize ?? 3;
  if (typeof k === 'number') return [k, k, k];
  if (k.length !== 3) throw new Error(`video_kernel_size needs 3 entries, got ${JSON.stringify(k)}`);
  return [k[0], k[1], k[2]];
}

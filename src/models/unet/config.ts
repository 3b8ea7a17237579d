/**
 * Configuration of sgm `sgm/modules/diffusionmodules/video_model.py::VideoUNet` (svd-spec.md §1.2): a typed interface
 * with camelCase fields, the converter from the reference's own constructor parameters (the sgm YAML
 * `network_config.params` object), the released SVD values, and validation of what this port supports.
 */

export type MergeStrategy = 'fixed' | 'learned' | 'learned_with_images';

/** `spatial_transformer_attn_type`: both are the same softmax attention numerically. */
export type TransformerAttnType = 'softmax' | 'softmax-xformers';

export interface VideoUNetConfig {
  inChannels: number;
  outChannels: number;
  /** Channels of level 0; the time embedding is 4× this. */
  modelChannels: number;
  /** Channel multiplier per level. */
  channelMult: readonly number[];
  numResBlocks: number;
  /** Downsample factors (1, 2, 4, ...) whose blocks get a SpatialVideoTransformer. */
  attentionResolutions: readonly number[];
  /** −1 = derived from `numHeadChannels`. */
  numHeads: number;
  /** −1 = derived from `numHeads`. */
  numHeadChannels: number;
  /** Transformer depth per level (the reference expands an int to one entry per level). */
  transformerDepth: readonly number[];
  transformerDepthMiddle: number;
  contextDim: number;
  /** `num_classes`: only `"sequential"` (an MLP over the `y` vector) or none. */
  numClasses?: 'sequential';
  /** Width of `y` when `numClasses` is `"sequential"`. */
  admInChannels?: number;
  /** `proj_in`/`proj_out` are Linear layers (else 1×1 convs). */
  useLinearInTransformer: boolean;
  /** `extra_ff_mix_layer`: `ff_in` in every temporal transformer block. */
  extraFfMixLayer: boolean;
  /** Temporal cross-attention attends to the first frame's spatial context (`context[::T]`). */
  useSpatialContext: boolean;
  disableTemporalCrossattention: boolean;
  mergeStrategy: MergeStrategy;
  /** Initial value of every `mix_factor` (overwritten by a checkpoint). */
  mergeFactor: number;
  /** Temporal conv kernel (T, H, W) of `time_stack`; padding is k // 2 per dim. */
  videoKernelSize: readonly [number, number, number];
  /** Down/Upsample with a 3×3 conv (else average pooling / plain nearest upsampling). */
  convResample: boolean;
  maxDdpmTembPeriod: number;
  spatialTransformerAttnType: TransformerAttnType;
  /** Training only; inference ignores it. */
  dropout: number;
}

/** The `network_config.params` of svd.yaml / svd_xt.yaml / svd_xt_1_1.yaml (all identical, svd-spec.md §1.2). */
export const SVD_UNET_SGM_PARAMS: Readonly<Record<string, unknown>> = Object.freeze({
  adm_in_channels: 768,
  num_classes: 'sequential',
  use_checkpoint: true,
  in_channels: 8,
  out_channels: 4,
  model_channels: 320,
  attention_resolutions: [4, 2, 1],
  num_res_blocks: 2,
  channel_mult: [1, 2, 4, 4],
  num_head_channels: 64,
  use_linear_in_transformer: true,
  transformer_depth: 1,
  context_dim: 1024,
  spatial_transformer_attn_type: 'softmax-xformers',
  extra_ff_mix_layer: true,
  use_spatial_context: true,
  merge_strategy: 'learned_with_images',
  video_kernel_size: [3, 1, 1],
});

/** Constructor parameters of sgm VideoUNet and the value each takes when absent (`undefined` = required). */
const SGM_DEFAULTS: Readonly<Record<string, unknown>> = {
  in_channels: undefined,
  model_channels: undefined,
  out_channels: undefined,
  num_res_blocks: undefined,
  attention_resolutions: undefined,
  dropout: 0.0,
  channel_mult: [1, 2, 4, 8],
  conv_resample: true,
  dims: 2,
  num_classes: null,
  use_checkpoint: false,
  num_heads: -1,
  num_head_channels: -1,
  num_heads_upsample: -1,
  use_scale_shift_norm: false,
  resblock_updown: false,
  transformer_depth: 1,
  transformer_depth_middle: null,
  context_dim: null,
  time_downup: false,
  time_context_dim: null,
  extra_ff_mix_layer: false,
  use_spatial_context: false,
  merge_strategy: 'fixed',
  merge_factor: 0.5,
  spatial_transformer_attn_type: 'softmax',
  video_kernel_size: 3,
  use_linear_in_transformer: false,
  adm_in_channels: null,
  disable_temporal_crossattention: false,
  max_ddpm_temb_period: 10000,
};

/** Options of the reference this port does not implement, with the only value accepted. */
const UNSUPPORTED_UNLESS: Readonly<Record<string, unknown>> = {
  dims: 2,
  use_scale_shift_norm: false,
  resblock_updown: false,
  time_downup: false,
  time_context_dim: null,
};

export class VideoUNetConfigError extends Error {
  override name = 'VideoUNetConfigError';
}

function fail(msg: string): never {
  throw new VideoUNetConfigError(`VideoUNet config: ${msg}`);
}

function int(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(`${name} must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

function intList(name: string, v: unknown): number[] {
  if (!Array.isArray(v)) fail(`${name} must be a list of integers, got ${JSON.stringify(v)}`);
  return v.map((e, i) => int(`${name}[${i}]`, e));
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(`${name} must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

function num(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${name} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Converts the reference's `VideoUNet(**params)` arguments (the YAML `network_config.params`; `target` and `params`
 * wrappers are not accepted, pass the inner object) to a validated VideoUNetConfig. Absent parameters take the
 * reference's defaults; unknown names and unsupported options throw a VideoUNetConfigError naming them.
 */
export function videoUNetConfigFromSgm(params: Readonly<Record<string, unknown>>): VideoUNetConfig {
  const unknown = Object.keys(params).filter((k) => !(k in SGM_DEFAULTS));
  if (unknown.length > 0) fail(`unknown parameter(s) ${unknown.join(', ')} (not arguments of sgm VideoUNet)`);
  const v = (k: string): unknown => (params[k] === undefined ? SGM_DEFAULTS[k] : params[k]);
  for (const [k, ok] of Object.entries(UNSUPPORTED_UNLESS)) {
    if (!sameValue(v(k), ok)) fail(`${k} = ${JSON.stringify(v(k))} is not supported (only ${JSON.stringify(ok)})`);
  }
  for (const k of ['in_channels', 'model_channels', 'out_channels', 'num_res_blocks', 'attention_resolutions']) {
    if (v(k) === undefined || v(k) === null) fail(`${k} is required`);
  }
  if (v('context_dim') === null) fail('context_dim is required (the reference asserts it)');

  const channelMult = intList('channel_mult', v('channel_mult'));
  const depthRaw = v('transformer_depth');
  const transformerDepth = Array.isArray(depthRaw)
    ? intList('transformer_depth', depthRaw)
    : new Array<number>(channelMult.length).fill(int('transformer_depth', depthRaw));
  const depthMiddleRaw = v('transformer_depth_middle');
  const transformerDepthMiddle =
    depthMiddleRaw === null
      ? transformerDepth[transformerDepth.length - 1]
      : int('transformer_depth_middle', depthMiddleRaw);

  const numClassesRaw = v('num_classes');
  if (numClassesRaw !== null && numClassesRaw !== 'sequential') {
    fail(`num_classes = ${JSON.stringify(numClassesRaw)} is not supported (only "sequential" or none)`);
  }
  const admRaw = v('adm_in_channels');

  const kernelRaw = v('video_kernel_size');
  const kernel = Array.isArray(kernelRaw)
    ? intList('video_kernel_size', kernelRaw)
    : new Array<number>(3).fill(int('video_kernel_size', kernelRaw));
  if (kernel.length !== 3) fail(`video_kernel_size needs 3 entries (T, H, W), got ${JSON.stringify(kernelRaw)}`);

  const merge = v('merge_strategy');
  if (merge !== 'fixed' && merge !== 'learned' && merge !== 'learned_with_images') {
    fail(`merge_strategy = ${JSON.stringify(merge)} is not one of fixed, learned, learned_with_images`);
  }
  const attnType = v('spatial_transformer_attn_type');
  if (attnType !== 'softmax' && attnType !== 'softmax-xformers') {
    fail(`spatial_transformer_attn_type = ${JSON.stringify(attnType)} is not supported (softmax, softmax-xformers)`);
  }
  // use_checkpoint (gradient checkpointing) and num_heads_upsample (unused by VideoUNet) have no numerical effect.
  bool('use_checkpoint', v('use_checkpoint'));
  int('num_heads_upsample', v('num_heads_upsample'));

  const cfg: VideoUNetConfig = {
    inChannels: int('in_channels', v('in_channels')),
    outChannels: int('out_channels', v('out_channels')),
    modelChannels: int('model_channels', v('model_channels')),
    channelMult,
    numResBlocks: int('num_res_blocks', v('num_res_blocks')),
    attentionResolutions: intList('attention_resolutions', v('attention_resolutions')),
    numHeads: int('num_heads', v('num_heads')),
    numHeadChannels: int('num_head_channels', v('num_head_channels')),
    transformerDepth,
    transformerDepthMiddle,
    contextDim: int('context_dim', v('context_dim')),
    numClasses: numClassesRaw === 'sequential' ? 'sequential' : undefined,
    admInChannels: admRaw === null ? undefined : int('adm_in_channels', admRaw),
    useLinearInTransformer: bool('use_linear_in_transformer', v('use_linear_in_transformer')),
    extraFfMixLayer: bool('extra_ff_mix_layer', v('extra_ff_mix_layer')),
    useSpatialContext: bool('use_spatial_context', v('use_spatial_context')),
    disableTemporalCrossattention: bool('disable_temporal_crossattention', v('disable_temporal_crossattention')),
    mergeStrategy: merge,
    mergeFactor: num('merge_factor', v('merge_factor')),
    videoKernelSize: [kernel[0], kernel[1], kernel[2]],
    convResample: bool('conv_resample', v('conv_resample')),
    maxDdpmTembPeriod: num('max_ddpm_temb_period', v('max_ddpm_temb_period')),
    spatialTransformerAttnType: attnType,
    dropout: num('dropout', v('dropout')),
  };
  validateVideoUNetConfig(cfg);
  return cfg;
}

/** The SVD / SVD-XT / SVD-XT 1.1 UNet (svd.yaml, svd-spec.md §1.2). */
export const SVD_UNET_CONFIG: Readonly<VideoUNetConfig> = Object.freeze(videoUNetConfigFromSgm(SVD_UNET_SGM_PARAMS));

/** Heads and head width of a transformer on `channels` channels (the reference's num_heads / num_head_channels rule). */
export function attentionHeads(cfg: VideoUNetConfig, channels: number): { heads: number; dimHead: number } {
  if (cfg.numHeadChannels === -1) return { heads: cfg.numHeads, dimHead: Math.floor(channels / cfg.numHeads) };
  return { heads: Math.floor(channels / cfg.numHeadChannels), dimHead: cfg.numHeadChannels };
}

/**
 * Throws a VideoUNetConfigError for configurations the reference rejects or this port does not support: every
 * channel count must split into 32 GroupNorm groups, and each transformer's heads·dimHead must equal its channels
 * (the reference adds the C-wide frame embedding to the heads·dimHead-wide tokens).
 */
export function validateVideoUNetConfig(cfg: VideoUNetConfig): void {
  const positive = (name: string, n: number) => {
    if (!Number.isInteger(n) || n < 1) fail(`${name} must be a positive integer, got ${n}`);
  };
  positive('inChannels', cfg.inChannels);
  positive('outChannels', cfg.outChannels);
  positive('modelChannels', cfg.modelChannels);
  positive('contextDim', cfg.contextDim);
  if (!Number.isInteger(cfg.numResBlocks) || cfg.numResBlocks < 0)
    fail(`numResBlocks must be an integer ≥ 0, got ${cfg.numResBlocks}`);
  if (cfg.channelMult.length === 0) fail('channelMult is empty');
  cfg.channelMult.forEach((m, i) => {
    positive(`channelMult[${i}]`, m);
  });
  if (cfg.transformerDepth.length !== cfg.channelMult.length) {
    fail(`transformerDepth has ${cfg.transformerDepth.length} entries for ${cfg.channelMult.length} levels`);
  }
  for (const d of [...cfg.transformerDepth, cfg.transformerDepthMiddle]) {
    if (!Number.isInteger(d) || d < 0) fail(`transformer depths must be integers ≥ 0, got ${d}`);
  }
  if (cfg.numHeads === -1 && cfg.numHeadChannels === -1) fail('either numHeads or numHeadChannels must be set');
  if (cfg.numHeads !== -1) positive('numHeads', cfg.numHeads);
  if (cfg.numHeadChannels !== -1) positive('numHeadChannels', cfg.numHeadChannels);
  if (cfg.numClasses === 'sequential') {
    if (cfg.admInChannels === undefined) fail('numClasses "sequential" needs admInChannels');
    positive('admInChannels', cfg.admInChannels);
  } else if (cfg.numClasses !== undefined) {
    fail(`numClasses ${JSON.stringify(cfg.numClasses)} is not supported (only "sequential" or none)`);
  }
  for (const k of cfg.videoKernelSize) {
    if (!Number.isInteger(k) || k < 1 || k % 2 === 0) fail(`videoKernelSize entries must be odd positive, got ${k}`);
  }
  if (!['fixed', 'learned', 'learned_with_images'].includes(cfg.mergeStrategy)) {
    fail(`mergeStrategy ${JSON.stringify(cfg.mergeStrategy)} is not one of fixed, learned, learned_with_images`);
  }
  if (cfg.spatialTransformerAttnType !== 'softmax' && cfg.spatialTransformerAttnType !== 'softmax-xformers') {
    fail(`spatialTransformerAttnType ${JSON.stringify(cfg.spatialTransformerAttnType)} is not supported`);
  }
  const channels = new Set(cfg.channelMult.map((m) => m * cfg.modelChannels));
  channels.add(cfg.modelChannels);
  for (const c of channels) {
    if (c % 32 !== 0) fail(`${c} channels do not split into 32 GroupNorm groups`);
  }
  const maxDs = 2 ** (cfg.channelMult.length - 1);
  cfg.channelMult.forEach((m, level) => {
    const ds = 2 ** level;
    const hasAttention = cfg.attentionResolutions.includes(ds) || ds === maxDs; // the middle block always has one
    if (!hasAttention) return;
    const c = m * cfg.modelChannels;
    const { heads, dimHead } = attentionHeads(cfg, c);
    if (heads < 1 || heads * dimHead !== c) {
      fail(`a transformer on ${c} channels would have ${heads} heads × ${dimHead} ≠ ${c} channels`);
    }
  });
}

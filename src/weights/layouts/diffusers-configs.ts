/**
 * The `config.json` of each diffusers sub-folder, derived from an `SvdCheckpointConfig`, and the reverse (the
 * checkpoint config of a diffusers folder, from its three configs). Fields are those of diffusers
 * `UNetSpatioTemporalConditionModel` and `AutoencoderKLTemporalDecoder` and of transformers
 * `CLIPVisionConfig` (`CLIPVisionModelWithProjection`), as in the HF `stable-video-diffusion-img2vid*` repositories.
 */
import { CheckpointFormatError } from '../checkpoint-errors.ts';
import type { AutoencoderDims, SvdCheckpointConfig, VideoUNetDims } from './model-config.ts';
import { unetAttentionHeads, unetLevelHasAttention } from './model-config.ts';

/** The diffusers version written to `_diffusers_version` (the release that added SVD). */
export const DIFFUSERS_VERSION = '0.24.0';
/** The transformers version written to the image encoder config. */
export const TRANSFORMERS_VERSION = '4.35.2';

export type JsonObject = Record<string, unknown>;

export interface DiffusersConfigs {
  readonly unet: JsonObject;
  readonly vae: JsonObject;
  readonly image_encoder: JsonObject;
}

/**
 * The three configs. `clipDtype` is written as the image encoder's `torch_dtype`. Throws a CheckpointFormatError
 * ('bad-config') when the model cannot be expressed by the diffusers classes (e.g. a UNet without a label
 * embedding, conv `proj_in`, different encoder and decoder widths).
 */
export function diffusersConfigs(
  config: SvdCheckpointConfig,
  clipDtype = 'float32',
  label = '<config>',
): DiffusersConfigs {
  const fail = (problem: string): never => {
    throw new CheckpointFormatError(label, 'bad-config', `cannot be written as diffusers: ${problem}`);
  };
  const u = config.unet;
  const levels = u.channelMult.length;
  const channels = u.channelMult.map((m) => m * u.modelChannels);
  const heads = channels.map((c) => {
    const { heads: h, dimHead } = unetAttentionHeads(u, c);
    if (h * dimHead !== c) fail(`UNet attention over ${c} channels has ${h} heads of ${dimHead}`);
    return h;
  });
  const attention = channels.map((_, l) => unetLevelHasAttention(u, l));
  if (u.admInChannels === undefined) fail('the UNet has no label embedding (num_classes "sequential")');
  if (!u.useLinearInTransformer) fail('the UNet transformers use 1×1 conv proj_in/proj_out');
  if (!u.extraFfMixLayer) fail('the UNet temporal blocks have no ff_in (extra_ff_mix_layer false)');
  if (!sameKernel(u.videoKernelSize)) fail(`temporal kernel ${u.videoKernelSize.join('×')} is not 3×1×1`);
  if (u.transformerDepthMiddle !== u.transformerDepth[levels - 1]) {
    fail('the middle block transformer depth differs from the deepest level');
  }
  const middleHeads = unetAttentionHeads(u, channels[levels - 1]).heads;
  if (middleHeads !== heads[levels - 1]) fail('the middle block head count differs from the deepest level');

  const vae = config.firstStage;
  const enc = config.condEncoder;
  if (!sameAutoencoder(vae, enc.dims)) fail('the conditioning encoder and the first-stage decoder differ in shape');
  if (enc.embedDim !== enc.dims.zChannels || !enc.dims.doubleZ) fail('the quant_conv is not 2·z → 2·z');
  if (!sameKernel(vae.videoKernelSize)) fail(`VAE temporal kernel ${vae.videoKernelSize.join('×')} is not 3×1×1`);

  const c = config.clip;
  const vaeScale = 2 ** (vae.chMult.length - 1);
  return {
    unet: {
      _class_name: 'UNetSpatioTemporalConditionModel',
      _diffusers_version: DIFFUSERS_VERSION,
      addition_time_embed_dim: config.microCondDim,
      block_out_channels: channels,
      cross_attention_dim: u.contextDim,
      down_block_types: attention.map((a) => (a ? 'CrossAttnDownBlockSpatioTemporal' : 'DownBlockSpatioTemporal')),
      in_channels: u.inChannels,
      layers_per_block: intOrList(u.numResBlocks),
      num_attention_heads: heads,
      num_frames: config.numFrames,
      out_channels: u.outChannels,
      projection_class_embeddings_input_dim: u.admInChannels,
      sample_size: Math.floor(config.sampleSize / vaeScale),
      transformer_layers_per_block: intOrList(u.transformerDepth),
      up_block_types: [...attention]
        .reverse()
        .map((a) => (a ? 'CrossAttnUpBlockSpatioTemporal' : 'UpBlockSpatioTemporal')),
    },
    vae: {
      _class_name: 'AutoencoderKLTemporalDecoder',
      _diffusers_version: DIFFUSERS_VERSION,
      block_out_channels: vae.chMult.map((m) => m * vae.ch),
      down_block_types: vae.chMult.map(() => 'DownEncoderBlock2D'),
      force_upcast: true,
      in_channels: vae.inChannels,
      latent_channels: vae.zChannels,
      layers_per_block: vae.numResBlocks,
      out_channels: vae.outCh,
      sample_size: config.sampleSize,
      scaling_factor: config.scaleFactor,
    },
    image_encoder: {
      architectures: ['CLIPVisionModelWithProjection'],
      attention_dropout: 0.0,
      dropout: 0.0,
      hidden_act: 'gelu',
      hidden_size: c.width,
      image_size: c.imageSize,
      initializer_factor: 1.0,
      initializer_range: 0.02,
      intermediate_size: Math.floor(c.width * c.mlpRatio),
      layer_norm_eps: 1e-5,
      model_type: 'clip_vision_model',
      num_attention_heads: c.heads,
      num_channels: 3,
      num_hidden_layers: c.layers,
      patch_size: c.patchSize,
      projection_dim: c.embedDim,
      torch_dtype: clipDtype,
      transformers_version: TRANSFORMERS_VERSION,
    },
  };
}

function sameKernel(k: readonly number[]): boolean {
  return k[0] === 3 && k[1] === 1 && k[2] === 1;
}

function sameAutoencoder(a: AutoencoderDims, b: AutoencoderDims): boolean {
  return (
    a.ch === b.ch &&
    a.chMult.join() === b.chMult.join() &&
    a.numResBlocks === b.numResBlocks &&
    a.zChannels === b.zChannels &&
    a.inChannels === b.inChannels &&
    a.outCh === b.outCh
  );
}

function intOrList(values: readonly number[]): number | number[] {
  return values.every((v) => v === values[0]) ? values[0] : [...values];
}

/**
 * The checkpoint config of a diffusers folder from its three configs. The text-tower leftovers are unknown
 * (`clip.text` undefined) and the first-stage encoder is taken to have the decoder's dims. An absent field takes the
 * class default, as `from_pretrained` would (diffusers `UNetSpatioTemporalConditionModel` /
 * `AutoencoderKLTemporalDecoder`, transformers `CLIPVisionConfig`). `label` names the folder in errors ('bad-config').
 */
export function checkpointConfigFromDiffusers(configs: DiffusersConfigs, label = '<diffusers>'): SvdCheckpointConfig {
  const field = (part: keyof DiffusersConfigs) => new Fields(configs[part], `${label}/${part}/config.json`);
  const u = field('unet');
  const boc = u.ints('block_out_channels', [320, 640, 1280, 1280]);
  const levels = boc.length;
  const mc = boc[0];
  const down = u.strings('down_block_types', levels, [
    'CrossAttnDownBlockSpatioTemporal',
    'CrossAttnDownBlockSpatioTemporal',
    'CrossAttnDownBlockSpatioTemporal',
    'DownBlockSpatioTemporal',
  ]);
  const attention = down.map((t) => t.startsWith('CrossAttn'));
  const heads = u.perLevel('num_attention_heads', levels, [5, 10, 20, 20]);
  const headChannels = boc.map((c, l) => c / heads[l]);
  const depth = u.perLevel('transformer_layers_per_block', levels, 1);
  const cross = u.int('cross_attention_dim', 1024);
  let numHeadChannels = -1;
  let numHeads = -1;
  if (headChannels.every((d) => d === headChannels[0] && Number.isInteger(d))) numHeadChannels = headChannels[0];
  else if (heads.every((h) => h === heads[0])) numHeads = heads[0];
  else u.fail('num_attention_heads has neither a constant head width nor a constant head count');
  const unet: VideoUNetDims = {
    inChannels: u.int('in_channels', 8),
    outChannels: u.int('out_channels', 4),
    modelChannels: mc,
    channelMult: boc.map((c) => {
      if (c % mc !== 0) u.fail('block_out_channels are not multiples of the first entry');
      return c / mc;
    }),
    numResBlocks: u.perLevel('layers_per_block', levels, 2),
    attentionResolutions: attention.flatMap((a, l) => (a ? [2 ** l] : [])).reverse(), // sgm lists them deepest first
    numHeadChannels,
    numHeads,
    transformerDepth: depth,
    transformerDepthMiddle: depth[levels - 1],
    contextDim: cross,
    admInChannels: u.int('projection_class_embeddings_input_dim', 768),
    useLinearInTransformer: true,
    extraFfMixLayer: true,
    videoKernelSize: [3, 1, 1],
  };
  const v = field('vae');
  const vboc = v.ints('block_out_channels', [64]);
  const ch = vboc[0];
  const dims: AutoencoderDims = {
    ch,
    chMult: vboc.map((c) => {
      if (c % ch !== 0) v.fail('block_out_channels are not multiples of the first entry');
      return c / ch;
    }),
    numResBlocks: v.int('layers_per_block', 1),
    zChannels: v.int('latent_channels', 4),
    doubleZ: true,
    inChannels: v.int('in_channels', 3),
    outCh: v.int('out_channels', 3),
    attnResolutions: [],
    resolution: v.int('sample_size', 32), // diffusers has no ddconfig `resolution` (it changes no key or shape)
    videoKernelSize: [3, 1, 1],
  };
  const c = field('image_encoder');
  const width = c.int('hidden_size', 768);
  return {
    unet,
    firstStage: dims,
    condEncoder: { embedDim: dims.zChannels, dims },
    clip: {
      imageSize: c.int('image_size', 224),
      patchSize: c.int('patch_size', 32),
      width,
      layers: c.int('num_hidden_layers', 12),
      heads: c.int('num_attention_heads', 12),
      mlpRatio: c.int('intermediate_size', 3072) / width,
      embedDim: c.int('projection_dim', 512),
      text: undefined,
    },
    scaleFactor: v.num('scaling_factor', 0.18215),
    microCondDim: u.int('addition_time_embed_dim', 256),
    numFrames: u.int('num_frames', 25),
    sampleSize: dims.resolution,
  };
}

class Fields {
  constructor(
    readonly value: JsonObject,
    readonly label: string,
  ) {}

  fail(problem: string): never {
    throw new CheckpointFormatError(this.label, 'bad-config', problem);
  }

  /** The field, or `fallback` (the class default) when it is absent or null. */
  private get(key: string, fallback: unknown): unknown {
    const v = this.value[key];
    return v === undefined || v === null ? fallback : v;
  }

  num(key: string, fallback: number): number {
    const v = this.get(key, fallback);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`"${key}" must be a number`);
    return v;
  }

  int(key: string, fallback: number): number {
    const v = this.num(key, fallback);
    if (!Number.isInteger(v)) this.fail(`"${key}" must be an integer`);
    return v;
  }

  ints(key: string, fallback: readonly number[]): number[] {
    const v = this.get(key, fallback);
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isInteger(x))) {
      this.fail(`"${key}" must be a non-empty list of integers`);
    }
    return [...v] as number[];
  }

  strings(key: string, n: number, fallback: readonly string[]): string[] {
    const v = this.get(key, fallback);
    if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === 'string')) {
      this.fail(`"${key}" must be a list of ${n} strings (one per block_out_channels entry)`);
    }
    return [...v] as string[];
  }

  perLevel(key: string, n: number, fallback: number | readonly number[]): number[] {
    const v = this.get(key, fallback);
    if (Number.isInteger(v)) return Array(n).fill(v);
    if (!Array.isArray(v) || v.length !== n || !v.every((x) => Number.isInteger(x))) {
      this.fail(`"${key}" must be an integer or a list of ${n} integers`);
    }
    return [...v] as number[];
  }
}

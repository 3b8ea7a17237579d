/**
 * A model description ⇄ the `config.json` of each diffusers sub-folder, and the diffusers key layout of a model.
 * Fields are those of diffusers `UNetSpatioTemporalConditionModel` and `AutoencoderKLTemporalDecoder` and of
 * transformers `CLIPVisionConfig` (`CLIPVisionModelWithProjection`), as in the HF `stable-video-diffusion-img2vid*`
 * repositories. A diffusers SVD folder has SVD's layout (the svd conditioner order, an `Encoder` + temporal
 * `VideoDecoder` first stage), so reading configs back gives an svd-shaped model with the folder's dimensions.
 */
import { CheckpointFormatError } from '../weights/checkpoint-errors.ts';
import {
  DiffusersConfigFields,
  type DiffusersConfigs,
  UNET_DEFAULT_LAYERS_PER_BLOCK,
  unetLevels,
  VAE_DEFAULT_BLOCK_OUT_CHANNELS,
} from '../weights/layouts/diffusers-config-json.ts';
import { type DiffusersKeyLayout, SVD_DIFFUSERS_PREFIXES } from '../weights/layouts/diffusers-layout.ts';
import { type ClipVisionConfig, clipMlpWidth, validateClipVisionConfig } from './clip/config.ts';
import { FIRST_STAGE_PREFIX } from './declare-params.ts';
import {
  clipVisualPrefix,
  condEncoderPrefix,
  type EmbedderSpec,
  type FirstStageSpec,
  findEmbedder,
  type SvdModel,
} from './description.ts';
import { presetWithSameNetwork } from './preset-network.ts';
import { PRESETS } from './presets.ts';
import { UNET_PREFIX } from './svd-network.ts';
import { attentionHeads, type VideoUNetConfig, validateVideoUNetConfig } from './unet/config.ts';
import {
  type AutoencoderConfig,
  type AutoencoderKLConfig,
  VAE_DEFAULT_NORM_GROUPS,
  videoKernel,
} from './vae/config.ts';

/** The diffusers version written to `_diffusers_version` (the release that added SVD). */
export const DIFFUSERS_VERSION = '0.24.0';
/** The transformers version written to the image encoder config. */
export const TRANSFORMERS_VERSION = '4.35.2';

/** The image size of the HF `stable-video-diffusion-img2vid*` configs (VAE `sample_size`; UNet `sample_size` · 8). */
export const HF_SVD_SAMPLE_SIZE = 768;

export interface DiffusersConfigOptions {
  /** Written as the image encoder's `torch_dtype` (default `float32`). */
  readonly clipDtype?: string;
  /** Names the model in errors (e.g. the `--config` path). */
  readonly label?: string;
  /** UNet `num_frames`; default the model's sampling default (14 for svd, as HF img2vid; 25 for svd-xt). */
  readonly numFrames?: number;
  /**
   * Image size in pixels (VAE `sample_size`; the UNet's is this over the VAE's downsampling); default 768, the HF
   * configs' value, for a model trained at the released 1024×576, else the longer side of the model's own size.
   */
  readonly sampleSize?: number;
}

/** The block structure and the sgm prefixes of a model's pieces, for the sgm ⇄ diffusers key rules. */
export function keyLayoutForModel(model: SvdModel): DiffusersKeyLayout {
  const u = model.unet;
  const levels = u.channelMult.length;
  return {
    unet: {
      numResBlocks: Array(levels).fill(u.numResBlocks),
      attention: Array.from({ length: levels }, (_, l) => u.attentionResolutions.includes(2 ** l)),
    },
    vae: { numLevels: firstStageDecoder(model.firstStage).chMult.length },
    prefixes: {
      unet: UNET_PREFIX,
      clipVisual: clipVisualPrefix(model),
      condEncoder: condEncoderPrefix(model),
      firstStageDecoder: `${FIRST_STAGE_PREFIX}.decoder`,
    },
  };
}

function firstStageDecoder(fs: FirstStageSpec): AutoencoderConfig {
  return fs.kind === 'autoencoding-engine' ? fs.decoder : fs.kl.ddconfig;
}

/**
 * The three configs of a model. Throws a CheckpointFormatError ('bad-config', labelled `label`) when the model cannot
 * be expressed by the diffusers SVD classes and folder layout (e.g. a UNet without a label embedding, conv
 * `proj_in`, a per-frame image decoder, a conditioning encoder of another shape than the decoder, another
 * conditioner order than SVD's, VAE GroupNorms of other than 32 groups: `AutoencoderKLTemporalDecoder` has no
 * `norm_num_groups` and hard-codes 32, as sgm).
 */
export function diffusersConfigs(model: SvdModel, options: DiffusersConfigOptions = {}): DiffusersConfigs {
  function fail(problem: string): never {
    throw new CheckpointFormatError(
      options.label ?? model.name,
      'bad-config',
      `cannot be written as diffusers: ${problem}`,
    );
  }
  const u = model.unet;
  const levels = u.channelMult.length;
  const channels = u.channelMult.map((m) => m * u.modelChannels);
  const heads = channels.map((c) => {
    const { heads: h, dimHead } = attentionHeads(u, c);
    if (h * dimHead !== c) fail(`UNet attention over ${c} channels has ${h} heads of ${dimHead}`);
    return h;
  });
  const attention = keyLayoutForModel(model).unet.attention;
  if (u.numClasses !== 'sequential' || u.admInChannels === undefined) {
    fail('the UNet has no label embedding (num_classes "sequential")');
  }
  if (!u.useLinearInTransformer) fail('the UNet transformers use 1×1 conv proj_in/proj_out');
  if (!u.extraFfMixLayer) fail('the UNet temporal blocks have no ff_in (extra_ff_mix_layer false)');
  if (!isKernel311(u.videoKernelSize)) fail(`temporal kernel ${u.videoKernelSize.join('×')} is not 3×1×1`);
  if (u.transformerDepthMiddle !== u.transformerDepth[levels - 1]) {
    fail('the middle block transformer depth differs from the deepest level');
  }

  const fs = model.firstStage;
  if (fs.kind !== 'autoencoding-engine' || !fs.videoDecoder) {
    fail('the first stage decoder is not the temporal VideoDecoder (diffusers AutoencoderKLTemporalDecoder)');
  }
  const decoder = firstStageDecoder(fs);
  if (decoder.attnResolutions.length > 0) fail('the VAE has attention inside its levels (attn_resolutions)');
  if (!isKernel311(videoKernel(decoder))) fail(`VAE temporal kernel ${videoKernel(decoder).join('×')} is not 3×1×1`);
  const cond = findEmbedder(model, 'cond-frames-encoder');
  if (!cond) fail('no conditioning-frame encoder (diffusers takes the VAE encoder from it)');
  const enc = cond.autoencoder;
  if (!sameAutoencoder(decoder, enc.ddconfig)) {
    fail('the conditioning encoder and the first-stage decoder differ in shape');
  }
  if (enc.embedDim !== enc.ddconfig.zChannels || !enc.ddconfig.doubleZ) fail('the quant_conv is not 2·z → 2·z');
  for (const vae of [fs.encoder, decoder, enc.ddconfig]) {
    const groups = vae?.normGroups ?? VAE_DEFAULT_NORM_GROUPS;
    if (groups !== VAE_DEFAULT_NORM_GROUPS) {
      fail(
        `the VAE's GroupNorms have ${groups} groups (normGroups); diffusers AutoencoderKLTemporalDecoder has no ` +
          `norm_num_groups field and always builds ${VAE_DEFAULT_NORM_GROUPS}`,
      );
    }
  }
  if (!findEmbedder(model, 'clip-image')) fail('no CLIP image embedder');
  const prefixes = keyLayoutForModel(model).prefixes;
  for (const part of ['clipVisual', 'condEncoder'] as const) {
    if (prefixes[part] !== SVD_DIFFUSERS_PREFIXES[part]) {
      fail(
        `a diffusers SVD folder has SVD's conditioner order (${SVD_DIFFUSERS_PREFIXES[part]}); ` +
          `this model has ${prefixes[part]}`,
      );
    }
  }
  const microDims = [...new Set(model.embedders.flatMap((e) => (e.kind === 'timestep' ? [e.outdim] : [])))];
  if (microDims.length !== 1) {
    fail(
      `the micro-conditioning embedders must share one width (addition_time_embed_dim), got ${microDims.join(', ')}`,
    );
  }

  const c = model.clip;
  const [w, h] = model.sampling.size;
  const sampleSize = options.sampleSize ?? (w === 1024 && h === 576 ? HF_SVD_SAMPLE_SIZE : Math.max(w, h));
  const vaeScale = 2 ** (decoder.chMult.length - 1);
  return {
    unet: {
      _class_name: 'UNetSpatioTemporalConditionModel',
      _diffusers_version: DIFFUSERS_VERSION,
      addition_time_embed_dim: microDims[0],
      block_out_channels: channels,
      cross_attention_dim: u.contextDim,
      down_block_types: attention.map((a) => (a ? 'CrossAttnDownBlockSpatioTemporal' : 'DownBlockSpatioTemporal')),
      in_channels: u.inChannels,
      layers_per_block: u.numResBlocks,
      num_attention_heads: heads,
      num_frames: options.numFrames ?? model.sampling.numFrames,
      out_channels: u.outChannels,
      projection_class_embeddings_input_dim: u.admInChannels,
      sample_size: Math.floor(sampleSize / vaeScale),
      transformer_layers_per_block: intOrList(u.transformerDepth),
      up_block_types: [...attention]
        .reverse()
        .map((a) => (a ? 'CrossAttnUpBlockSpatioTemporal' : 'UpBlockSpatioTemporal')),
    },
    vae: {
      _class_name: 'AutoencoderKLTemporalDecoder',
      _diffusers_version: DIFFUSERS_VERSION,
      block_out_channels: decoder.chMult.map((m) => m * decoder.ch),
      down_block_types: decoder.chMult.map(() => 'DownEncoderBlock2D'),
      force_upcast: true,
      in_channels: decoder.inChannels,
      latent_channels: decoder.zChannels,
      layers_per_block: decoder.numResBlocks,
      out_channels: decoder.outCh,
      sample_size: sampleSize,
      scaling_factor: model.scaleFactor,
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
      intermediate_size: clipMlpWidth(c),
      layer_norm_eps: c.layerNormEps,
      model_type: 'clip_vision_model',
      num_attention_heads: c.heads,
      num_channels: 3,
      num_hidden_layers: c.layers,
      patch_size: c.patchSize,
      projection_dim: c.outputDim,
      torch_dtype: options.clipDtype ?? 'float32',
      transformers_version: TRANSFORMERS_VERSION,
    },
  };
}

function isKernel311(k: readonly number[]): boolean {
  return k[0] === 3 && k[1] === 1 && k[2] === 1;
}

function sameAutoencoder(a: AutoencoderConfig, b: AutoencoderConfig): boolean {
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

/** Runs a model-side validation, reporting its failure as a 'bad-config' error on the config file. */
function validated<T>(fields: DiffusersConfigFields, value: T, validate: (v: T) => void): T {
  try {
    validate(value);
  } catch (e) {
    fields.fail((e as Error).message);
  }
  return value;
}

/**
 * The model a diffusers SVD folder's three configs describe: the svd preset (conditioner order, first stage kinds,
 * flags diffusers does not record, sampling defaults) with the folder's dimensions. An absent field takes the class
 * default, as `from_pretrained` would. The default output size is the trained size of the preset with the same
 * network (1024×576 for the released SVD), else the VAE's `sample_size`, square. The ddconfig `resolution` is not in diffusers (it only places level attention,
 * which diffusers' VAE has none of) and stays svd's. `label` names the folder in errors (CheckpointFormatError
 * 'bad-config' on `<label>/<part>/config.json`).
 */
export function modelFromDiffusersConfigs(configs: DiffusersConfigs, label = '<diffusers>'): SvdModel {
  const svd = PRESETS.svd;
  const u = DiffusersConfigFields.of(configs, 'unet', label);
  const { channels, attention } = unetLevels(u);
  const levels = channels.length;
  const mc = channels[0];
  const heads = u.perLevel('num_attention_heads', levels, [5, 10, 20, 20]);
  const headChannels = channels.map((c, l) => c / heads[l]);
  let numHeadChannels = -1;
  let numHeads = -1;
  if (headChannels.every((d) => d === headChannels[0] && Number.isInteger(d))) numHeadChannels = headChannels[0];
  else if (heads.every((h) => h === heads[0])) numHeads = heads[0];
  else u.fail('num_attention_heads has neither a constant head width nor a constant head count');
  const resBlocks = u.perLevel('layers_per_block', levels, UNET_DEFAULT_LAYERS_PER_BLOCK);
  if (resBlocks.some((n) => n !== resBlocks[0])) {
    u.fail('"layers_per_block" differs between levels (the VideoUNet has one num_res_blocks)');
  }
  const depth = u.perLevel('transformer_layers_per_block', levels, 1);
  const unet: VideoUNetConfig = validated(
    u,
    {
      ...svd.unet,
      inChannels: u.int('in_channels', 8),
      outChannels: u.int('out_channels', 4),
      modelChannels: mc,
      channelMult: channels.map((c) => {
        if (c % mc !== 0) u.fail('block_out_channels are not multiples of the first entry');
        return c / mc;
      }),
      numResBlocks: resBlocks[0],
      attentionResolutions: attention.flatMap((a, l) => (a ? [2 ** l] : [])).reverse(), // sgm lists them deepest first
      numHeadChannels,
      numHeads,
      transformerDepth: depth,
      transformerDepthMiddle: depth[levels - 1],
      contextDim: u.int('cross_attention_dim', 1024),
      numClasses: 'sequential',
      admInChannels: u.int('projection_class_embeddings_input_dim', 768),
    },
    validateVideoUNetConfig,
  );

  const v = DiffusersConfigFields.of(configs, 'vae', label);
  const vboc = v.ints('block_out_channels', VAE_DEFAULT_BLOCK_OUT_CHANNELS);
  const ch = vboc[0];
  const svdFirstStage = svd.firstStage as Extract<FirstStageSpec, { kind: 'autoencoding-engine' }>;
  const ddconfig: AutoencoderConfig = {
    ...(svdFirstStage.encoder as AutoencoderConfig),
    ch,
    chMult: vboc.map((c) => {
      if (c % ch !== 0) v.fail('block_out_channels are not multiples of the first entry');
      return c / ch;
    }),
    numResBlocks: v.int('layers_per_block', 1),
    zChannels: v.int('latent_channels', 4),
    inChannels: v.int('in_channels', 3),
    outCh: v.int('out_channels', 3),
  };
  const firstStage: FirstStageSpec = {
    ...svdFirstStage,
    encoder: ddconfig,
    decoder: { ...svdFirstStage.decoder, ...ddconfig },
  };
  const microDim = u.int('addition_time_embed_dim', 256);
  const embedders = svd.embedders.map((e): EmbedderSpec => {
    if (e.kind === 'timestep') return { ...e, outdim: microDim };
    if (e.kind === 'cond-frames-encoder') {
      const autoencoder: AutoencoderKLConfig = {
        embedDim: ddconfig.zChannels,
        ddconfig: { ...e.autoencoder.ddconfig, ...ddconfig, attnType: e.autoencoder.ddconfig.attnType },
      };
      return { ...e, autoencoder };
    }
    return e;
  });

  const c = DiffusersConfigFields.of(configs, 'image_encoder', label);
  const width = c.int('hidden_size', 768);
  const clip: ClipVisionConfig = validated(
    c,
    {
      imageSize: c.int('image_size', 224),
      patchSize: c.int('patch_size', 32),
      width,
      layers: c.int('num_hidden_layers', 12),
      heads: c.int('num_attention_heads', 12),
      mlpRatio: c.int('intermediate_size', 3072) / width,
      outputDim: c.int('projection_dim', 512),
      layerNormEps: c.num('layer_norm_eps', 1e-5),
    },
    validateClipVisionConfig,
  );
  const model: SvdModel = {
    name: label,
    description: `diffusers folder ${label}`,
    unet,
    firstStage,
    embedders,
    clip,
    scaleFactor: v.num('scaling_factor', 0.18215),
    sampling: { ...svd.sampling, numFrames: u.int('num_frames', 25) },
  };
  const sampleSize = v.int('sample_size', HF_SVD_SAMPLE_SIZE);
  const size = presetWithSameNetwork(model)?.sampling.size ?? ([sampleSize, sampleSize] as const);
  return { ...model, sampling: { ...model.sampling, size } };
}

/**
 * The dimensions of an SVD checkpoint that decide its key names and shapes: the VideoUNet, the first stage
 * (encoder + temporal decoder), the conditioning image encoder (`conditioner.embedders.3`), and the open_clip image
 * tower. This is a layout description for checkpoint I/O, independent of the model code under `src/models/`.
 *
 * `checkpointConfigFromReference` reads the reference's own parameter names: `{ engine_config, clip_arch }` where
 * `engine_config` is the sgm YAML `model:` section as JSON (`target: sgm.models.diffusion.DiffusionEngine`,
 * `params: { network_config, first_stage_config, conditioner_config, … }`) and `clip_arch` the ViT dims
 * (as in `test/fixtures/golden/pipeline-tiny/config.json`).
 */

export interface VideoUNetDims {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly modelChannels: number;
  readonly channelMult: readonly number[];
  /** Res blocks per level. */
  readonly numResBlocks: readonly number[];
  /** Downsampling factors (1, 2, 4, …) whose level has a SpatialVideoTransformer. */
  readonly attentionResolutions: readonly number[];
  /** Channels per head (−1: use `numHeads`). */
  readonly numHeadChannels: number;
  /** Heads per attention (−1: use `numHeadChannels`). */
  readonly numHeads: number;
  /** Transformer blocks per level, and in the middle block. */
  readonly transformerDepth: readonly number[];
  readonly transformerDepthMiddle: number;
  readonly contextDim: number;
  /** Input width of `label_emb` (`num_classes: sequential`); undefined when the UNet has no label embedding. */
  readonly admInChannels: number | undefined;
  /** `proj_in` / `proj_out` are linear layers (true) or 1×1 convs. */
  readonly useLinearInTransformer: boolean;
  /** Temporal blocks start with a feed-forward (`ff_in`, `norm_in`). */
  readonly extraFfMixLayer: boolean;
  /** Kernel of the temporal convolutions, [T, H, W]. */
  readonly videoKernelSize: readonly [number, number, number];
}

/** The `ddconfig` of `sgm.modules.diffusionmodules.model.Encoder` / `Decoder` / `temporal_ae.VideoDecoder`. */
export interface AutoencoderDims {
  readonly ch: number;
  readonly chMult: readonly number[];
  readonly numResBlocks: number;
  readonly zChannels: number;
  readonly doubleZ: boolean;
  readonly inChannels: number;
  readonly outCh: number;
  /** Must be empty: SVD's autoencoders have no attention inside the resolution levels. */
  readonly attnResolutions: readonly number[];
  readonly resolution: number;
  /** Temporal kernel of the VideoDecoder, [T, H, W]. */
  readonly videoKernelSize: readonly [number, number, number];
}

/** open_clip `VisionTransformer` dims, plus the text-side leftovers sgm does not delete. */
export interface ClipDims {
  readonly imageSize: number;
  readonly patchSize: number;
  readonly width: number;
  readonly layers: number;
  readonly heads: number;
  readonly mlpRatio: number;
  /** Output width of `visual.proj` (the image embedding). */
  readonly embedDim: number;
  /** Text tower dims, for the leftover `token_embedding`, `positional_embedding`, `ln_final`, `text_projection`. */
  readonly text: { readonly width: number; readonly contextLength: number; readonly vocabSize: number } | undefined;
}

export interface SvdCheckpointConfig {
  readonly unet: VideoUNetDims;
  /** `first_stage_model`: encoder and VideoDecoder (same ddconfig). */
  readonly firstStage: AutoencoderDims;
  /** `conditioner.embedders.3.encoder` (AutoencoderKLModeOnly): `embed_dim` and its ddconfig. */
  readonly condEncoder: { readonly embedDim: number; readonly dims: AutoencoderDims };
  readonly clip: ClipDims;
  /** `DiffusionEngine.scale_factor`. */
  readonly scaleFactor: number;
  /** Width of each micro-conditioning embedding (`ConcatTimestepEmbedderND.outdim`; diffusers `addition_time_embed_dim`). */
  readonly microCondDim: number;
  /** Default frame count written to the diffusers UNet config. */
  readonly numFrames: number;
  /** Default image size in pixels written to the diffusers configs. */
  readonly sampleSize: number;
}

const SVD_AUTOENCODER: AutoencoderDims = {
  ch: 128,
  chMult: [1, 2, 4, 4],
  numResBlocks: 2,
  zChannels: 4,
  doubleZ: true,
  inChannels: 3,
  outCh: 3,
  attnResolutions: [],
  resolution: 256,
  videoKernelSize: [3, 1, 1],
};

/** open_clip ViT-H-14 (width 1280, 32 layers, head width 80 → 16 heads, output 1024) and its text-side leftovers. */
export const VIT_H_14: ClipDims = {
  imageSize: 224,
  patchSize: 14,
  width: 1280,
  layers: 32,
  heads: 16,
  mlpRatio: 4,
  embedDim: 1024,
  text: { width: 1024, contextLength: 77, vocabSize: 49408 },
};

/**
 * The released SVD / SVD-XT checkpoints (`scripts/sampling/configs/svd.yaml`; the xt configs differ only in the
 * guider). `numFrames` 14 and `sampleSize` 768 are the values of the HF `stable-video-diffusion-img2vid` configs.
 */
export const SVD_CHECKPOINT_CONFIG: SvdCheckpointConfig = {
  unet: {
    inChannels: 8,
    outChannels: 4,
    modelChannels: 320,
    channelMult: [1, 2, 4, 4],
    numResBlocks: [2, 2, 2, 2],
    attentionResolutions: [4, 2, 1],
    numHeadChannels: 64,
    numHeads: -1,
    transformerDepth: [1, 1, 1, 1],
    transformerDepthMiddle: 1,
    contextDim: 1024,
    admInChannels: 768,
    useLinearInTransformer: true,
    extraFfMixLayer: true,
    videoKernelSize: [3, 1, 1],
  },
  firstStage: SVD_AUTOENCODER,
  condEncoder: { embedDim: 4, dims: SVD_AUTOENCODER },
  clip: VIT_H_14,
  scaleFactor: 0.18215,
  microCondDim: 256,
  numFrames: 14,
  sampleSize: 768,
};

/** Whether UNet level `level` has attention (its downsampling factor 2^level is in `attentionResolutions`). */
export function unetLevelHasAttention(unet: VideoUNetDims, level: number): boolean {
  return unet.attentionResolutions.includes(2 ** level);
}

/** Heads and channels per head of an attention over `channels` channels (sgm VideoUNet rule). */
export function unetAttentionHeads(unet: VideoUNetDims, channels: number): { heads: number; dimHead: number } {
  if (unet.numHeadChannels === -1) return { heads: unet.numHeads, dimHead: Math.floor(channels / unet.numHeads) };
  return { heads: Math.floor(channels / unet.numHeadChannels), dimHead: unet.numHeadChannels };
}

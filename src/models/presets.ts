/**
 * The released models as typed descriptions (svd-spec.md §1.1–§1.9): the sgm sampling YAMLs
 * (Stability-AI/generative-models `scripts/sampling/configs/{svd,svd_xt,svd_xt_1_1,svd_image_decoder,
 * svd_xt_image_decoder,sv3d_u,sv3d_p}.yaml`) written as `SvdModel` values, plus the sampling defaults of
 * `simple_video_sample.py`. Any other size is a JSON config in the reference's structure (./reference/model-config.ts).
 */
import { type ClipVisionConfig, VIT_H_14 } from './clip/config.ts';
import type { EmbedderSpec, FirstStageSpec, SamplingDefaults, SvdModel } from './description.ts';
import { SVD_UNET_CONFIG } from './unet/config.ts';
import {
  type AutoencoderConfig,
  SVD_CONDITIONING_AUTOENCODER,
  SVD_DDCONFIG,
  SVD_SCALE_FACTOR,
  SVD_VIDEO_DECODER_CONFIG,
} from './vae/config.ts';

/** The svd.yaml VideoUNet with another `adm_in_channels` (sv3d: 256 / 1280). */
const unet = (admInChannels: number) => Object.freeze({ ...SVD_UNET_CONFIG, admInChannels });

const clipEmbedder = (index: number): EmbedderSpec => ({
  kind: 'clip-image',
  index,
  inputKey: 'cond_frames_without_noise',
  ucgRate: 0,
  nCondFrames: 1,
  nCopies: 1,
});
const timestepEmbedder = (index: number, inputKey: string, outdim: number): EmbedderSpec => ({
  kind: 'timestep',
  index,
  inputKey,
  ucgRate: 0,
  outdim,
});
const condFramesEmbedder = (index: number): EmbedderSpec => ({
  kind: 'cond-frames-encoder',
  index,
  inputKey: 'cond_frames',
  ucgRate: 0,
  autoencoder: SVD_CONDITIONING_AUTOENCODER,
  nCopies: 1,
});

/** svd.yaml: CLIP image (crossattn), fps_id, motion_bucket_id, the cond_frames encoder (concat), cond_aug. */
const SVD_EMBEDDERS: readonly EmbedderSpec[] = Object.freeze([
  clipEmbedder(0),
  timestepEmbedder(1, 'fps_id', 256),
  timestepEmbedder(2, 'motion_bucket_id', 256),
  condFramesEmbedder(3),
  timestepEmbedder(4, 'cond_aug', 256),
]);

/** `AutoencodingEngine` with `Encoder` + temporal `VideoDecoder` (svd, svd-xt). */
const VIDEO_FIRST_STAGE: FirstStageSpec = Object.freeze({
  kind: 'autoencoding-engine',
  encoder: SVD_DDCONFIG,
  decoder: SVD_VIDEO_DECODER_CONFIG,
  videoDecoder: true,
});

/** `AutoencoderKL` (per-frame image decoder: the *_image_decoder configs). */
const IMAGE_FIRST_STAGE: FirstStageSpec = Object.freeze({
  kind: 'autoencoder-kl',
  kl: { embedDim: 4, ddconfig: { ...SVD_DDCONFIG, attnType: 'vanilla-xformers' } satisfies AutoencoderConfig },
});

/**
 * sv3d_u.yaml and sv3d_p.yaml (the SV3D release b4b7b64, unchanged at HEAD): no first-stage encoder
 * (`torch.nn.Identity`) and the per-frame image `Decoder` (attention `vanilla-xformers`). A pre-release sv3d_p.yaml
 * (b41860f, on a branch) used the temporal VideoDecoder; the release removed it ("Removes SV3D video_decoder").
 */
const SV3D_FIRST_STAGE: FirstStageSpec = Object.freeze({
  kind: 'autoencoding-engine',
  decoder: { ...SVD_DDCONFIG, attnType: 'vanilla-xformers' } satisfies AutoencoderConfig,
  videoDecoder: false,
});

const videoSampling = (numFrames: number, numSteps: number, minCfg: number, maxCfg: number): SamplingDefaults =>
  Object.freeze({
    numFrames,
    numSteps,
    guider: 'linear' as const,
    minCfg,
    maxCfg,
    sigmaMin: 0.002,
    sigmaMax: 700,
    rho: 7,
    fpsId: 6,
    motionBucketId: 127,
    condAug: 0.02,
    decodeChunk: 14,
    size: [1024, 576] as const,
  });

/** svd: 14 frames, 25 steps, cfg 1.0 → 2.5 (the defaults a JSON config starts from). */
export const SVD_SAMPLING: SamplingDefaults = videoSampling(14, 25, 1.0, 2.5);
const SVD_XT_SAMPLING: SamplingDefaults = videoSampling(25, 30, 1.5, 3.0);
/**
 * AnimateLCM-SVD-xt (Wang et al. 2024, arXiv 2402.00769; G-U-N/AnimateLCM `animatelcm_svd/app.py`): svd-xt's network
 * distilled for few-step consistency sampling — 4 steps of its scheduler (`--sampler lcm`), guidance 1 → 1.2, motion
 * bucket 80, 4 frames per decoder call; diffusers' SVD pipeline defaults otherwise (fps 7 → fps_id 6, cond_aug 0.02).
 */
const ANIMATELCM_SVD_XT_SAMPLING: SamplingDefaults = Object.freeze({
  ...videoSampling(25, 4, 1.0, 1.2),
  sampler: 'lcm' as const,
  motionBucketId: 80,
  decodeChunk: 4,
});
/** sv3d: 21 views at 576×576, 50 steps, triangle guidance 1 → 2.5, cond_aug 1e-5 (the script forces 21 and 1e-5). */
export const SV3D_SAMPLING: SamplingDefaults = Object.freeze({
  ...videoSampling(21, 50, 1.0, 2.5),
  guider: 'triangle' as const,
  condAug: 1e-5,
  size: [576, 576] as const,
});

const model = (
  name: string,
  description: string,
  parts: Pick<SvdModel, 'unet' | 'firstStage' | 'embedders' | 'sampling'>,
): SvdModel => Object.freeze({ name, description, clip: VIT_H_14, scaleFactor: SVD_SCALE_FACTOR, ...parts });

const svd = (name: string, description: string, firstStage: FirstStageSpec, sampling: SamplingDefaults) =>
  model(name, description, { unet: unet(768), firstStage, embedders: SVD_EMBEDDERS, sampling });

/**
 * svd-mini: the project's own small model (issue 11; trained by scripts/train-svd-mini.sh, model card in
 * models/svd-mini/): every part of the released SVD family at a small size — the VideoUNet with temporal layers and
 * the same micro-conditioning (fps, motion bucket, cond_aug as 256-d sinusoids), the VAE with the temporal video
 * decoder (8× downsampling; 16 latent channels, see MINI_LATENT_CHANNELS), and an open_clip ViT image embedder feeding cross-attention and the
 * conditioning-frame encoder feeding the concat input. 14 frames at 128×128, 8 fps.
 */
const MINI_CLIP: ClipVisionConfig = Object.freeze({
  imageSize: 112,
  patchSize: 16,
  width: 128,
  layers: 4,
  heads: 4,
  mlpRatio: 4,
  outputDim: 128,
  layerNormEps: 1e-5,
});

/**
 * svd-mini's first-stage encoder (also the conditioning-frame encoder): 32 channels widening to 128 at 16×16. The
 * encoder ends in GroupNorm → SiLU → conv_out (sgm `Encoder.norm_out`) at ch × chMult[-1] channels; a first
 * version with chMult [1, 1, 2, 2] and GroupNorm(32) ended at 64 channels, two per group, and its latent carried
 * almost no colour: after 650 steps a held-out photo's channel means, scaled from 0.6× to 1.4× or tinted (R×1.3,
 * B×0.7), came back nearly the same grey-yellow (red mean in 67…156 → out 88…131; blue 27…64 → out 63…103), 15.6 dB.
 * The widening to 128 channels costs at 16×16 and 32×32 only.
 *
 * Every VAE GroupNorm of svd-mini (encoder, conditioning encoder, decoder with its time stacks) has 16 groups
 * (`normGroups`), a deliberate deviation from sgm's hard-coded 32 (`model.py::Normalize`) for the small model only —
 * every released preset keeps 32. At the encoder's last level 128 channels give 8 per group; for the decoder see
 * MINI_DECODER_CONFIG.
 */
/**
 * svd-mini's latent: 16 channels at 8× downsampling where the released models have 4 — the other deliberate
 * deviation. On the held-out photos at 128×128 even a linear code of 8×8×3 pixel patches (PCA fitted on the training
 * photos) gives 20.1 dB with 4 components and 24.8 dB with 16; svd-mini's 4-channel autoencoder reached 16.2 dB after
 * 2000 steps (2.5 h on 2 cores), below the linear code and below the 20 dB the first frame must reach. The UNet's
 * cost does not change (only its first and last convolutions see the latent's width).
 */
export const MINI_LATENT_CHANNELS = 16;

const MINI_DDCONFIG: AutoencoderConfig = Object.freeze({
  ...SVD_DDCONFIG,
  zChannels: MINI_LATENT_CHANNELS,
  ch: 32,
  chMult: Object.freeze([1, 2, 2, 4]),
  numResBlocks: 1,
  resolution: 128,
  normGroups: 16,
});

/**
 * svd-mini's first-stage decoder: 64 channels at every level (twice the encoder's width; one width throughout keeps
 * the shipped model inside its 40 MB), with MINI_DDCONFIG's 16 GroupNorm groups. The decoder ends in GroupNorm →
 * SiLU → conv_out (sgm `Decoder.norm_out`), and that norm takes each group's mean and scale over the whole image away
 * right before the output. At 32 channels with sgm's 32 groups every group was one channel and the output's colour
 * could not follow the input's (measured: 15 dB on held-out photos after 1000 steps, colours washed to grey, below an
 * 8× box downsample's 19.5 dB); at 64 channels with 32 groups, two per group, tinted or brightened inputs still came
 * back the same colour. With 16 groups norm_out has 4 channels per group, as the released decoder's norm_out
 * (128 channels / 32) — the deliberate deviation from sgm's hard-coded 32 described at MINI_DDCONFIG.
 */
const MINI_DECODER_CONFIG: AutoencoderConfig = Object.freeze({
  ...MINI_DDCONFIG,
  ch: 64,
  chMult: Object.freeze([1, 1, 1, 1]),
  // svd.yaml's VideoDecoder: temporal convs of kernel [3, 1, 1] (sgm's default 3 would be 3×3×3: an earlier svd-mini
  // had that by omission, and its 27-tap time-stack convs took 37 % of a 14-frame decode)
  videoKernelSize: SVD_VIDEO_DECODER_CONFIG.videoKernelSize,
  mergeStrategy: SVD_VIDEO_DECODER_CONFIG.mergeStrategy,
});

const MINI_EMBEDDERS: readonly EmbedderSpec[] = Object.freeze([
  clipEmbedder(0),
  timestepEmbedder(1, 'fps_id', 256),
  timestepEmbedder(2, 'motion_bucket_id', 256),
  {
    ...condFramesEmbedder(3),
    autoencoder: { embedDim: MINI_LATENT_CHANNELS, ddconfig: MINI_DDCONFIG },
  } as EmbedderSpec,
  timestepEmbedder(4, 'cond_aug', 256),
]);

/**
 * svd-mini's progress previews: the least-squares map from its scaled latent pixel to the mean colour in [−1, 1] of
 * the 8×8 block above it, fitted on the training photos (scripts/svd-mini/latent-scale.ts, 2026-12-04).
 */
const MINI_LATENT_RGB: readonly (readonly number[])[] = Object.freeze([
  [-0.1016, 0.0308, 0.0459],
  [0.078, 0.0076, 0.0172],
  [-0.125, -0.0679, -0.0517],
  [0.0515, 0.0333, 0.0306],
  [-0.2231, -0.1097, 0.0015],
  [-0.0238, 0.0298, -0.0181],
  [0.0783, 0.0219, -0.0016],
  [-0.0445, -0.025, -0.0158],
  [-0.1461, -0.1225, -0.1331],
  [0.0654, -0.0709, 0.0094],
  [0.1217, -0.1353, -0.0666],
  [-0.0479, 0.0532, 0.0346],
  [0.0343, -0.0392, 0.0479],
  [0.0645, 0.0164, 0.0106],
  [0.0057, -0.0076, -0.0669],
  [-0.0219, -0.0298, 0.1267],
]);

export const SVD_MINI: SvdModel = Object.freeze({
  name: 'svd-mini',
  description: "svd-ts's own small image-to-video model, 14 frames at 128×128 (models/svd-mini/)",
  clip: MINI_CLIP,
  // 1 / std of the trained autoencoder's latents over the 33 training photos (scripts/svd-mini/latent-scale.ts:
  // std 1.3860, 2026-12-04), as LDM measured the SD VAE's 0.18215: the diffusion stages then see unit-variance latents
  scaleFactor: 0.7215,
  latentRgb: MINI_LATENT_RGB,
  unet: Object.freeze({
    ...SVD_UNET_CONFIG,
    inChannels: 2 * MINI_LATENT_CHANNELS, // noisy latent + concat conditioning latent
    outChannels: MINI_LATENT_CHANNELS,
    modelChannels: 64,
    channelMult: Object.freeze([1, 2, 2]),
    numResBlocks: 1,
    attentionResolutions: Object.freeze([2, 4]),
    numHeads: -1,
    numHeadChannels: 32,
    transformerDepth: Object.freeze([1, 1, 1]),
    transformerDepthMiddle: 1,
    contextDim: MINI_CLIP.outputDim,
    admInChannels: 768,
  }),
  firstStage: Object.freeze({
    kind: 'autoencoding-engine',
    encoder: MINI_DDCONFIG,
    decoder: MINI_DECODER_CONFIG,
    videoDecoder: true,
  }),
  embedders: MINI_EMBEDDERS,
  sampling: Object.freeze({
    ...videoSampling(14, 15, 1.0, 2.5),
    fpsId: 7,
    decodeChunk: 14,
    size: [128, 128] as const,
  }),
});

/** The released models, keyed by preset name. */
export const PRESETS: Readonly<Record<string, SvdModel>> = Object.freeze({
  svd: svd('svd', 'SVD image-to-video, 14 frames (svd.safetensors)', VIDEO_FIRST_STAGE, SVD_SAMPLING),
  'svd-xt': svd('svd-xt', 'SVD-XT image-to-video, 25 frames (svd_xt.safetensors)', VIDEO_FIRST_STAGE, SVD_XT_SAMPLING),
  'svd-xt-1.1': svd(
    'svd-xt-1.1',
    'SVD-XT 1.1, 25 frames (svd_xt_1_1.safetensors); same network as svd-xt',
    VIDEO_FIRST_STAGE,
    SVD_XT_SAMPLING,
  ),
  'animatelcm-svd-xt': svd(
    'animatelcm-svd-xt',
    "AnimateLCM-SVD-xt, svd-xt's network for 4-step consistency sampling (its UNet in a diffusers svd-xt folder)",
    VIDEO_FIRST_STAGE,
    ANIMATELCM_SVD_XT_SAMPLING,
  ),
  'svd-image-decoder': svd(
    'svd-image-decoder',
    'SVD with the per-frame image decoder (svd_image_decoder.safetensors), 14 frames',
    IMAGE_FIRST_STAGE,
    SVD_SAMPLING,
  ),
  'svd-xt-image-decoder': svd(
    'svd-xt-image-decoder',
    'SVD-XT with the per-frame image decoder (svd_xt_image_decoder.safetensors), 25 frames',
    IMAGE_FIRST_STAGE,
    SVD_XT_SAMPLING,
  ),
  'svd-mini': SVD_MINI,
  'sv3d-u': model('sv3d-u', 'SV3D_u orbital multi-view (sv3d_u.safetensors), 21 views, cond_aug only', {
    unet: unet(256),
    firstStage: SV3D_FIRST_STAGE,
    embedders: [clipEmbedder(0), condFramesEmbedder(1), timestepEmbedder(2, 'cond_aug', 256)],
    sampling: SV3D_SAMPLING,
  }),
  'sv3d-p': model('sv3d-p', 'SV3D_p multi-view with camera poses (sv3d_p.safetensors), 21 views', {
    unet: unet(1280),
    firstStage: SV3D_FIRST_STAGE,
    embedders: [
      clipEmbedder(0),
      condFramesEmbedder(1),
      timestepEmbedder(2, 'cond_aug', 256),
      timestepEmbedder(3, 'polars_rad', 512),
      timestepEmbedder(4, 'azimuths_rad', 512),
    ],
    sampling: SV3D_SAMPLING,
  }),
});

export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

export function getPreset(name: string): SvdModel {
  const p = PRESETS[name];
  if (!p) throw new Error(`unknown preset "${name}"; expected one of ${PRESET_NAMES.join(', ')}`);
  return p;
}

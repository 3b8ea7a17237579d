/**
 * Model presets in the reference's own structure: `engineConfig` is the `model:` section of the sgm sampling YAML as
 * JSON (Stability-AI/generative-models `scripts/sampling/configs/*.yaml`), `clipArch` the OpenCLIP tower's dimensions
 * (the format of `golden/pipeline-tiny/config.json`), plus the sampling defaults of `simple_video_sample.py`
 * (svd-spec.md §1.1–§1.9). A JSON file in the same structure (`--config`) describes any other size.
 */

import { SVD_UNET_SGM_PARAMS } from './unet/config.ts';

/** Dimensions of the OpenCLIP vision tower (`clip_arch`), as in pipeline-tiny/config.json. */
export interface ClipArch {
  name: string;
  embed_dim: number;
  vision: { image_size: number; patch_size: number; width: number; layers: number; heads: number; mlp_ratio: number };
}

export interface SamplingDefaults {
  numFrames: number;
  numSteps: number;
  /** Guider: LinearPredictionGuider (svd) or TrianglePredictionGuider (sv3d). */
  guider: 'linear' | 'triangle';
  minCfg: number;
  maxCfg: number;
  sigmaMin: number;
  sigmaMax: number;
  rho: number;
  fpsId: number;
  motionBucketId: number;
  condAug: number;
  decodeChunk: number;
  /** [width, height] of the released models' training resolution. */
  size: readonly [number, number];
}

// biome-ignore lint/suspicious/noExplicitAny: the reference's YAML structure, validated by the component converters
export type SgmConfig = Record<string, any>;

export interface ModelSpec {
  name: string;
  description: string;
  engineConfig: SgmConfig;
  clipArch: ClipArch;
  sampling: SamplingDefaults;
}

export const VIT_H_14_ARCH: ClipArch = {
  name: 'ViT-H-14',
  embed_dim: 1024,
  vision: { image_size: 224, patch_size: 14, width: 1280, layers: 32, heads: 16, mlp_ratio: 4 },
};

const ddconfig = (attnType: 'vanilla' | 'vanilla-xformers', video = false): SgmConfig => ({
  attn_type: attnType,
  double_z: true,
  z_channels: 4,
  resolution: 256,
  in_channels: 3,
  out_ch: 3,
  ch: 128,
  ch_mult: [1, 2, 4, 4],
  num_res_blocks: 2,
  attn_resolutions: [],
  dropout: 0.0,
  ...(video ? { video_kernel_size: [3, 1, 1] } : {}),
});

/** The svd.yaml VideoUNet params with another `adm_in_channels` (sv3d: 256 / 1280). */
const unetParams = (admInChannels: number): SgmConfig => ({ ...SVD_UNET_SGM_PARAMS, adm_in_channels: admInChannels });

const clipEmbedder = (): SgmConfig => ({
  is_trainable: false,
  input_key: 'cond_frames_without_noise',
  target: 'sgm.modules.encoders.modules.FrozenOpenCLIPImagePredictionEmbedder',
  params: {
    n_cond_frames: 1,
    n_copies: 1,
    open_clip_embedding_config: {
      target: 'sgm.modules.encoders.modules.FrozenOpenCLIPImageEmbedder',
      params: { freeze: true },
    },
  },
});

const timestepEmbedder = (key: string, outdim: number): SgmConfig => ({
  input_key: key,
  is_trainable: false,
  target: 'sgm.modules.encoders.modules.ConcatTimestepEmbedderND',
  params: { outdim },
});

const condFramesEmbedder = (): SgmConfig => ({
  input_key: 'cond_frames',
  is_trainable: false,
  target: 'sgm.modules.encoders.modules.VideoPredictionEmbedderWithEncoder',
  params: {
    disable_encoder_autocast: true,
    n_cond_frames: 1,
    n_copies: 1,
    is_ae: true,
    encoder_config: {
      target: 'sgm.models.autoencoder.AutoencoderKLModeOnly',
      params: {
        embed_dim: 4,
        monitor: 'val/rec_loss',
        ddconfig: ddconfig('vanilla-xformers'),
        lossconfig: { target: 'torch.nn.Identity' },
      },
    },
  },
});

const videoFirstStage = (): SgmConfig => ({
  target: 'sgm.models.autoencoder.AutoencodingEngine',
  params: {
    loss_config: { target: 'torch.nn.Identity' },
    regularizer_config: { target: 'sgm.modules.autoencoding.regularizers.DiagonalGaussianRegularizer' },
    encoder_config: { target: 'sgm.modules.diffusionmodules.model.Encoder', params: ddconfig('vanilla') },
    decoder_config: { target: 'sgm.modules.autoencoding.temporal_ae.VideoDecoder', params: ddconfig('vanilla', true) },
  },
});

const imageFirstStage = (): SgmConfig => ({
  target: 'sgm.models.autoencoder.AutoencoderKL',
  params: {
    embed_dim: 4,
    monitor: 'val/rec_loss',
    ddconfig: ddconfig('vanilla-xformers'),
    lossconfig: { target: 'torch.nn.Identity' },
  },
});

/** sv3d: no first-stage encoder (`torch.nn.Identity`), a decoder only. */
const decoderOnlyFirstStage = (video: boolean): SgmConfig => ({
  target: 'sgm.models.autoencoder.AutoencodingEngine',
  params: {
    loss_config: { target: 'torch.nn.Identity' },
    regularizer_config: { target: 'sgm.modules.autoencoding.regularizers.DiagonalGaussianRegularizer' },
    encoder_config: { target: 'torch.nn.Identity' },
    decoder_config: video
      ? { target: 'sgm.modules.autoencoding.temporal_ae.VideoDecoder', params: ddconfig('vanilla', true) }
      : { target: 'sgm.modules.diffusionmodules.model.Decoder', params: ddconfig('vanilla-xformers') },
  },
});

function engine(admInChannels: number, embedders: SgmConfig[], firstStage: SgmConfig, guider: SgmConfig): SgmConfig {
  return {
    target: 'sgm.models.diffusion.DiffusionEngine',
    params: {
      scale_factor: 0.18215,
      disable_first_stage_autocast: true,
      denoiser_config: {
        target: 'sgm.modules.diffusionmodules.denoiser.Denoiser',
        params: { scaling_config: { target: 'sgm.modules.diffusionmodules.denoiser_scaling.VScalingWithEDMcNoise' } },
      },
      network_config: {
        target: 'sgm.modules.diffusionmodules.video_model.VideoUNet',
        params: unetParams(admInChannels),
      },
      conditioner_config: { target: 'sgm.modules.GeneralConditioner', params: { emb_models: embedders } },
      first_stage_config: firstStage,
      sampler_config: {
        target: 'sgm.modules.diffusionmodules.sampling.EulerEDMSampler',
        params: {
          discretization_config: {
            target: 'sgm.modules.diffusionmodules.discretizer.EDMDiscretization',
            params: { sigma_max: 700.0 },
          },
          guider_config: guider,
        },
      },
    },
  };
}

const svdEmbedders = () => [
  clipEmbedder(),
  timestepEmbedder('fps_id', 256),
  timestepEmbedder('motion_bucket_id', 256),
  condFramesEmbedder(),
  timestepEmbedder('cond_aug', 256),
];

const linearGuider = (min: number, max: number): SgmConfig => ({
  target: 'sgm.modules.diffusionmodules.guiders.LinearPredictionGuider',
  params: { max_scale: max, min_scale: min },
});

const triangleGuider = (max: number): SgmConfig => ({
  target: 'sgm.modules.diffusionmodules.guiders.TrianglePredictionGuider',
  params: { max_scale: max },
});

const videoSampling = (frames: number, steps: number, minCfg: number, maxCfg: number): SamplingDefaults => ({
  numFrames: frames,
  numSteps: steps,
  guider: 'linear',
  minCfg,
  maxCfg,
  sigmaMin: 0.002,
  sigmaMax: 700,
  rho: 7,
  fpsId: 6,
  motionBucketId: 127,
  condAug: 0.02,
  decodeChunk: 14,
  size: [1024, 576],
});

const sv3dSampling: SamplingDefaults = {
  ...videoSampling(21, 50, 1.0, 2.5),
  guider: 'triangle',
  condAug: 1e-5,
  size: [576, 576],
};

/** The released models, keyed by preset name. */
export const PRESETS: Readonly<Record<string, ModelSpec>> = {
  svd: {
    name: 'svd',
    description: 'SVD image-to-video, 14 frames (svd.safetensors)',
    engineConfig: engine(768, svdEmbedders(), videoFirstStage(), linearGuider(1.0, 2.5)),
    clipArch: VIT_H_14_ARCH,
    sampling: videoSampling(14, 25, 1.0, 2.5),
  },
  'svd-xt': {
    name: 'svd-xt',
    description: 'SVD-XT image-to-video, 25 frames (svd_xt.safetensors)',
    engineConfig: engine(768, svdEmbedders(), videoFirstStage(), linearGuider(1.5, 3.0)),
    clipArch: VIT_H_14_ARCH,
    sampling: videoSampling(25, 30, 1.5, 3.0),
  },
  'svd-xt-1.1': {
    name: 'svd-xt-1.1',
    description: 'SVD-XT 1.1, 25 frames (svd_xt_1_1.safetensors); same network as svd-xt',
    engineConfig: engine(768, svdEmbedders(), videoFirstStage(), linearGuider(1.5, 3.0)),
    clipArch: VIT_H_14_ARCH,
    sampling: videoSampling(25, 30, 1.5, 3.0),
  },
  'svd-image-decoder': {
    name: 'svd-image-decoder',
    description: 'SVD with the per-frame image decoder (svd_image_decoder.safetensors), 14 frames',
    engineConfig: engine(768, svdEmbedders(), imageFirstStage(), linearGuider(1.0, 2.5)),
    clipArch: VIT_H_14_ARCH,
    sampling: videoSampling(14, 25, 1.0, 2.5),
  },
  'svd-xt-image-decoder': {
    name: 'svd-xt-image-decoder',
    description: 'SVD-XT with the per-frame image decoder (svd_xt_image_decoder.safetensors), 25 frames',
    engineConfig: engine(768, svdEmbedders(), imageFirstStage(), linearGuider(1.5, 3.0)),
    clipArch: VIT_H_14_ARCH,
    sampling: videoSampling(25, 30, 1.5, 3.0),
  },
  'sv3d-u': {
    name: 'sv3d-u',
    description: 'SV3D_u orbital multi-view (sv3d_u.safetensors), 21 views, cond_aug only',
    engineConfig: engine(
      256,
      [clipEmbedder(), condFramesEmbedder(), timestepEmbedder('cond_aug', 256)],
      decoderOnlyFirstStage(false),
      triangleGuider(2.5),
    ),
    clipArch: VIT_H_14_ARCH,
    sampling: sv3dSampling,
  },
  'sv3d-p': {
    name: 'sv3d-p',
    description: 'SV3D_p multi-view with camera poses (sv3d_p.safetensors), 21 views',
    // The stored sv3d_p.yaml (generative-models b41860f) decodes with the temporal VideoDecoder, unlike sv3d_u.yaml.
    engineConfig: engine(
      1280,
      [
        clipEmbedder(),
        condFramesEmbedder(),
        timestepEmbedder('cond_aug', 256),
        timestepEmbedder('polars_rad', 512),
        timestepEmbedder('azimuths_rad', 512),
      ],
      decoderOnlyFirstStage(true),
      triangleGuider(2.5),
    ),
    clipArch: VIT_H_14_ARCH,
    sampling: sv3dSampling,
  },
};

export const PRESET_NAMES = Object.keys(PRESETS);

export function getPreset(name: string): ModelSpec {
  const p = PRESETS[name];
  if (!p) throw new Error(`unknown preset "${name}"; expected one of ${PRESET_NAMES.join(', ')}`);
  return p;
}

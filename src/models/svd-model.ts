/**
 * A whole SVD model description: the components read from a ModelSpec (a preset or a JSON config in the reference's
 * own structure: `engine_config` = the sgm YAML `model:` section, `clip_arch` = the CLIP tower's dimensions) and the
 * shape-only declaration of every parameter under the sgm single-file key layout (`model.diffusion_model.*`,
 * `first_stage_model.*`, `conditioner.embedders.N.*`).
 */
import { readFileSync } from 'node:fs';
import { declareConditioner } from '../conditioning/conditioner.ts';
import { type EmbedderSpec, embeddersFromSgm } from '../conditioning/conditioner-config.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { Params, ParamTree } from '../nn/params.ts';
import { type ClipVisionConfig, clipVisionConfigFromArch } from './clip/config.ts';
import { getPreset, type ModelSpec, PRESETS, type SamplingDefaults, type SgmConfig } from './presets.ts';
import { declareVideoUNetParams, type VideoUNetConfig, videoUNetConfigFromSgm } from './unet/index.ts';
import {
  type AutoencoderConfig,
  type AutoencoderKLConfig,
  autoencoderKLFromSgm,
  ddconfigFromSgm,
} from './vae/config.ts';
import { declareAutoencoderKL, declareDecoder, declareEncoder, declareVideoDecoder } from './vae/declarations.ts';

/** The first stage: which decoder, and whether the checkpoint holds an encoder / quant convs. */
export type FirstStageSpec =
  | { kind: 'autoencoding-engine'; encoder?: AutoencoderConfig; decoder: AutoencoderConfig; videoDecoder: boolean }
  | { kind: 'autoencoder-kl'; kl: AutoencoderKLConfig };

export interface SvdModel {
  name: string;
  spec: ModelSpec;
  unet: VideoUNetConfig;
  embedders: EmbedderSpec[];
  clip: ClipVisionConfig;
  firstStage: FirstStageSpec;
  /** `scale_factor` of DiffusionEngine (0.18215): latents are divided by it before decoding. */
  scaleFactor: number;
  sampling: SamplingDefaults;
}

const ENGINE = 'sgm.models.diffusion.DiffusionEngine';

function firstStageFromSgm(cfg: SgmConfig): FirstStageSpec {
  switch (cfg?.target) {
    case 'sgm.models.autoencoder.AutoencodingEngine': {
      const enc = cfg.params?.encoder_config;
      const dec = cfg.params?.decoder_config;
      const videoDecoder = dec?.target === 'sgm.modules.autoencoding.temporal_ae.VideoDecoder';
      if (!videoDecoder && dec?.target !== 'sgm.modules.diffusionmodules.model.Decoder') {
        throw new Error(`first_stage_config: decoder ${dec?.target} is not supported`);
      }
      let encoder: AutoencoderConfig | undefined;
      if (enc?.target === 'sgm.modules.diffusionmodules.model.Encoder') encoder = ddconfigFromSgm(enc.params);
      else if (enc?.target !== 'torch.nn.Identity')
        throw new Error(`first_stage_config: encoder ${enc?.target} is not supported`);
      return { kind: 'autoencoding-engine', encoder, decoder: ddconfigFromSgm(dec.params), videoDecoder };
    }
    case 'sgm.models.autoencoder.AutoencoderKL':
      return { kind: 'autoencoder-kl', kl: autoencoderKLFromSgm(cfg.params) };
    default:
      throw new Error(`first_stage_config: ${cfg?.target} is not supported`);
  }
}

/** Reads a ModelSpec into typed component configs (throws a clear error on anything unsupported). */
export function svdModelFromSpec(spec: ModelSpec): SvdModel {
  const e = spec.engineConfig;
  if (e?.target !== ENGINE) throw new Error(`engine_config.target must be ${ENGINE}, got ${e?.target}`);
  const params = e.params ?? {};
  const scaling = params.denoiser_config?.params?.scaling_config?.target;
  if (scaling !== 'sgm.modules.diffusionmodules.denoiser_scaling.VScalingWithEDMcNoise') {
    throw new Error(`denoiser scaling ${scaling} is not supported (VScalingWithEDMcNoise only)`);
  }
  if (params.network_config?.target !== 'sgm.modules.diffusionmodules.video_model.VideoUNet') {
    throw new Error(`network_config.target ${params.network_config?.target} is not supported (VideoUNet only)`);
  }
  return {
    name: spec.name,
    spec,
    unet: videoUNetConfigFromSgm(params.network_config.params),
    embedders: embeddersFromSgm(params.conditioner_config),
    clip: clipVisionConfigFromArch(spec.clipArch),
    firstStage: firstStageFromSgm(params.first_stage_config),
    scaleFactor: params.scale_factor ?? 0.18215,
    sampling: spec.sampling,
  };
}

/**
 * A ModelSpec from a JSON file in the reference structure (`{ engine_config, clip_arch }`, optionally `sampling`
 * overrides); sampling defaults come from the guider in the config and the svd preset otherwise.
 */
export function modelSpecFromJson(json: SgmConfig, name = 'custom'): ModelSpec {
  if (!json.engine_config || !json.clip_arch) throw new Error('a model config needs "engine_config" and "clip_arch"');
  const base = getPreset('svd').sampling;
  const guider = json.engine_config.params?.sampler_config?.params?.guider_config;
  const sampling: SamplingDefaults = { ...base, ...(json.sampling ?? {}) };
  if (guider?.params) {
    sampling.maxCfg = guider.params.max_scale ?? sampling.maxCfg;
    sampling.minCfg = guider.params.min_scale ?? 1.0;
    sampling.guider = String(guider.target).endsWith('TrianglePredictionGuider') ? 'triangle' : 'linear';
  }
  return {
    name,
    description: `model config ${name}`,
    engineConfig: json.engine_config,
    clipArch: json.clip_arch,
    sampling,
  };
}

export function loadModelSpec(path: string): ModelSpec {
  let json: SgmConfig;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read model config ${path}: ${(e as Error).message}`);
  }
  return modelSpecFromJson(json, path);
}

/** Every parameter of the model (shape-only), under the sgm single-file keys. */
export function declareModelParams(model: SvdModel): ParamTree {
  const tree = new ParamTree();
  const b = new GraphBuilder('declare');
  const root = new Params(b, '', tree);
  declareVideoUNetParams(root.pp('model').pp('diffusion_model'), model.unet);
  const fs = model.firstStage;
  const first = root.pp('first_stage_model');
  if (fs.kind === 'autoencoding-engine') {
    if (fs.encoder) declareEncoder(first.pp('encoder'), fs.encoder);
    if (fs.videoDecoder) declareVideoDecoder(first.pp('decoder'), fs.decoder);
    else declareDecoder(first.pp('decoder'), fs.decoder);
  } else {
    declareAutoencoderKL(first, fs.kl);
  }
  declareConditioner(b, root, model.embedders, model.clip);
  return tree;
}

export { PRESETS };

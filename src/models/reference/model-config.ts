/**
 * The one edge adapter from the reference's own model description to the typed `SvdModel`: `{ engine_config,
 * clip_arch }`, where `engine_config` is the `model:` section of an sgm YAML as JSON (`sgm.models.diffusion.
 * DiffusionEngine`: `network_config` → VideoUNet, `first_stage_config`, `conditioner_config`, `denoiser_config`,
 * `sampler_config`, `scale_factor`) and `clip_arch` the open_clip tower's dimensions (the format of
 * golden `pipeline-tiny/config.json`; an `arch: "ViT-H-14"` embedder needs none). An optional `sampling` object
 * overrides the sampling defaults. `svd generate --config` and `svd convert --config` both read configs here.
 * Every `target` string of the reference is dispatched in this folder and nowhere else.
 */
import { readFileSync } from 'node:fs';
import { type ClipVisionConfig, clipVisionConfigFromArch, type OpenClipArch, VIT_H_14 } from '../clip/config.ts';
import { type FirstStageSpec, isMultiViewModel, type SamplingDefaults, type SvdModel } from '../description.ts';
import { presetWithSameNetwork } from '../preset-network.ts';
import { SV3D_SAMPLING, SVD_SAMPLING } from '../presets.ts';
import { videoUNetConfigFromSgm } from '../unet/config.ts';
import { type AutoencoderConfig, autoencoderKLFromSgm, ddconfigFromSgm } from '../vae/config.ts';
import { embeddersFromSgm } from './conditioner.ts';
import { type Json, ModelConfigError } from './errors.ts';

const ENGINE = 'sgm.models.diffusion.DiffusionEngine';
const MODULES = 'sgm.modules.diffusionmodules';

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Runs a component converter, prefixing its message with the JSON path. */
function at<R>(path: string, read: () => R): R {
  try {
    return read();
  } catch (e) {
    if (e instanceof ModelConfigError) throw e;
    throw new ModelConfigError(`${path}: ${(e as Error).message}`);
  }
}

function firstStageFromSgm(cfg: Json | undefined): FirstStageSpec {
  const where = 'engine_config.params.first_stage_config';
  switch (cfg?.target) {
    case 'sgm.models.autoencoder.AutoencodingEngine': {
      const enc = cfg.params?.encoder_config;
      const dec = cfg.params?.decoder_config;
      const videoDecoder = dec?.target === 'sgm.modules.autoencoding.temporal_ae.VideoDecoder';
      if (!videoDecoder && dec?.target !== `${MODULES}.model.Decoder`) {
        throw new ModelConfigError(`${where}: decoder ${dec?.target} is not supported`);
      }
      let encoder: AutoencoderConfig | undefined;
      if (enc?.target === `${MODULES}.model.Encoder`) {
        encoder = at(`${where}.encoder_config`, () => ddconfigFromSgm(enc.params));
      } else if (enc?.target !== 'torch.nn.Identity') {
        throw new ModelConfigError(`${where}: encoder ${enc?.target} is not supported`);
      }
      const decoder = at(`${where}.decoder_config`, () => ddconfigFromSgm(dec.params));
      return { kind: 'autoencoding-engine', encoder, decoder, videoDecoder };
    }
    case 'sgm.models.autoencoder.AutoencoderKL':
      return { kind: 'autoencoder-kl', kl: at(where, () => autoencoderKLFromSgm(cfg.params)) };
    default:
      throw new ModelConfigError(`${where}: ${cfg?.target} is not supported`);
  }
}

/**
 * The default output size of a config that gives no `sampling.size`: that of the preset whose UNet and first stage
 * it describes, weight for weight (a released model's config: 1024×576, or 576×576 for SV3D), else the first
 * stage's nominal `resolution`, square (64×64 for the tiny golden model) — never the released models' 1024×576 for
 * a model of another size.
 */
function defaultSize(model: SvdModel): readonly [number, number] {
  const preset = presetWithSameNetwork(model);
  if (preset) return preset.sampling.size;
  const fs = model.firstStage;
  const ddconfig = fs.kind === 'autoencoder-kl' ? fs.kl.ddconfig : (fs.encoder ?? fs.decoder);
  return [ddconfig.resolution, ddconfig.resolution];
}

/**
 * The sampling defaults a config implies: its sampler config's guider and schedule, else the svd preset's (the sv3d
 * presets' for a multi-view conditioner: 21 views at 576×576, 50 steps, cond_aug 1e-5, as the script forces); the
 * size from the model (`defaultSize`); then the config's own `sampling` object.
 */
function samplingFromSgm(
  samplerConfig: Json | undefined,
  overrides: Json | undefined,
  base: SamplingDefaults,
  size: readonly [number, number],
): SamplingDefaults {
  const p = samplerConfig?.params ?? {};
  const guider = p.guider_config;
  const disc = p.discretization_config?.params ?? {};
  const sampling: Record<string, unknown> = { ...base, size };
  if (Number.isInteger(p.num_steps)) sampling.numSteps = p.num_steps;
  if (guider?.params) {
    const g = guider.params;
    if (Number.isInteger(g.num_frames)) sampling.numFrames = g.num_frames;
    if (typeof g.max_scale === 'number') sampling.maxCfg = g.max_scale;
    sampling.minCfg = typeof g.min_scale === 'number' ? g.min_scale : 1.0;
    const target = String(guider.target);
    sampling.guider = target.endsWith('TrianglePredictionGuider')
      ? 'triangle'
      : target.endsWith('VanillaCFG')
        ? 'vanilla'
        : 'linear';
    if (target.endsWith('VanillaCFG') && typeof g.scale === 'number') sampling.maxCfg = g.scale;
  }
  if (typeof disc.sigma_min === 'number') sampling.sigmaMin = disc.sigma_min;
  if (typeof disc.sigma_max === 'number') sampling.sigmaMax = disc.sigma_max;
  if (typeof disc.rho === 'number') sampling.rho = disc.rho;
  if (overrides !== undefined) {
    if (!isObject(overrides)) throw new ModelConfigError('"sampling" must be an object');
    for (const [k, v] of Object.entries(overrides)) {
      if (!(k in SVD_SAMPLING)) throw new ModelConfigError(`sampling.${k} is not a sampling default`);
      sampling[k] = v;
    }
  }
  return sampling as unknown as SamplingDefaults;
}

function clipFrom(json: Json, embedderArch: string | undefined): ClipVisionConfig {
  if (json.clip_arch !== undefined) {
    if (!isObject(json.clip_arch)) throw new ModelConfigError('"clip_arch" must be an object');
    return at('clip_arch', () => clipVisionConfigFromArch(json.clip_arch as OpenClipArch));
  }
  if ((embedderArch ?? 'ViT-H-14') === 'ViT-H-14') return VIT_H_14;
  throw new ModelConfigError(`open_clip arch "${embedderArch}" needs a "clip_arch" entry with its dimensions`);
}

/**
 * The typed model of a config in the reference's structure (`{ engine_config, clip_arch, sampling? }`, or a bare
 * `engine_config`). `name` labels it. Throws a ModelConfigError naming the JSON path of the first problem.
 */
export function modelFromReferenceConfig(json: unknown, name = 'custom'): SvdModel {
  if (!isObject(json)) throw new ModelConfigError('a model config must be a JSON object');
  const engine: Json = isObject(json.engine_config) ? json.engine_config : json;
  if (engine.target !== ENGINE) {
    throw new ModelConfigError(`engine_config.target must be ${ENGINE}, got ${JSON.stringify(engine.target)}`);
  }
  const params: Json = isObject(engine.params) ? engine.params : {};
  const scaling = params.denoiser_config?.params?.scaling_config?.target;
  if (scaling !== `${MODULES}.denoiser_scaling.VScalingWithEDMcNoise`) {
    throw new ModelConfigError(`denoiser scaling ${scaling} is not supported (VScalingWithEDMcNoise only)`);
  }
  const network = params.network_config;
  if (network?.target !== `${MODULES}.video_model.VideoUNet`) {
    throw new ModelConfigError(`network_config.target ${network?.target} is not supported (VideoUNet only)`);
  }
  const embedders = embeddersFromSgm(params.conditioner_config, 'engine_config.params.conditioner_config');
  const clipModel = params.conditioner_config?.params?.emb_models?.find(
    (m: Json) => m?.target === 'sgm.modules.encoders.modules.FrozenOpenCLIPImagePredictionEmbedder',
  );
  const scaleFactor = params.scale_factor ?? 1.0; // sgm DiffusionEngine default
  if (typeof scaleFactor !== 'number' || !(scaleFactor > 0)) {
    throw new ModelConfigError('engine_config.params.scale_factor must be a positive number');
  }
  const base = isMultiViewModel({ embedders }) ? SV3D_SAMPLING : SVD_SAMPLING;
  const model: SvdModel = {
    name,
    description: `model config ${name}`,
    unet: at('engine_config.params.network_config.params', () => videoUNetConfigFromSgm(network.params ?? {})),
    firstStage: firstStageFromSgm(params.first_stage_config),
    embedders,
    clip: clipFrom(json, clipModel?.params?.open_clip_embedding_config?.params?.arch),
    scaleFactor,
    sampling: base,
  };
  const size = json.sampling?.size === undefined ? defaultSize(model) : base.size;
  return { ...model, sampling: samplingFromSgm(params.sampler_config, json.sampling, base, size) };
}

/** Reads a config file (or inline JSON starting with `{`) into the typed model; errors name the file. */
export function loadModelConfig(pathOrJson: string): SvdModel {
  const inline = pathOrJson.trimStart().startsWith('{');
  const label = inline ? '--config' : pathOrJson;
  let text = pathOrJson;
  if (!inline) {
    try {
      text = readFileSync(pathOrJson, 'utf8');
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      throw new ModelConfigError(`${label}: ${missing ? 'no such config file' : (e as Error).message}`, 'unreadable');
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelConfigError(`${label}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return modelFromReferenceConfig(json, label);
  } catch (e) {
    if (e instanceof ModelConfigError) throw new ModelConfigError(`${label}: ${e.message}`);
    throw e;
  }
}

/**
 * Sampling configuration as typed values, and its converter from the reference's own structure: the
 * `sampler_config` and `denoiser_config` sections of an sgm YAML (`configs/inference/svd.yaml`), with sgm's defaults
 * for whatever they leave out. `num_steps` and the guider's `num_frames` are injected by the sampling script in the
 * reference; here they are arguments of the converter.
 */
import type { Denoiser } from './denoiser.ts';
import {
  type CfgDenoiser,
  conditionalDenoiser,
  type Guider,
  guidedDenoiser,
  linearPredictionGuider,
  type PeriodFusing,
  trianglePredictionGuider,
  vanillaCfg,
} from './guiders.ts';
import { type EdmSamplerOptions, sampleDpmpp2m, sampleEuler, sampleHeun } from './samplers.ts';
import { edmScaling, type Scaling, vScalingEdmCNoise } from './scalings.ts';
import { edmSigmas } from './schedule.ts';

export type SamplerKind = 'euler' | 'heun' | 'dpmpp2m';

export interface EdmDiscretizationConfig {
  sigmaMin: number;
  sigmaMax: number;
  rho: number;
}

export type GuiderConfig =
  | { kind: 'identity' }
  | { kind: 'vanilla'; scale: number }
  | { kind: 'linear'; minScale: number; maxScale: number; numFrames: number; additionalCondKeys: string[] }
  | {
      kind: 'triangle';
      minScale: number;
      maxScale: number;
      numFrames: number;
      period: number[];
      periodFusing: PeriodFusing;
      additionalCondKeys: string[];
    };

export interface SamplerConfig {
  kind: SamplerKind;
  numSteps: number;
  discretization: EdmDiscretizationConfig;
  guider: GuiderConfig;
  /** EDM churn (Euler and Heun only). */
  sChurn: number;
  sTmin: number;
  sTmax: number;
  sNoise: number;
}

// biome-ignore lint/suspicious/noExplicitAny: the reference's YAML structure
type Sgm = Record<string, any>;

const MODULE = 'sgm.modules.diffusionmodules';
const SAMPLERS: Record<string, SamplerKind> = {
  [`${MODULE}.sampling.EulerEDMSampler`]: 'euler',
  [`${MODULE}.sampling.HeunEDMSampler`]: 'heun',
  [`${MODULE}.sampling.DPMPP2MSampler`]: 'dpmpp2m',
};

/** A number of the YAML (`inf`/`.inf` included); `fallback` when absent, an error when absent and required. */
function num(value: unknown, fallback: number | undefined, what: string): number {
  if (value === undefined || value === null) {
    if (fallback === undefined) throw new Error(`${what} must be given`);
    return fallback;
  }
  const text = String(value).trim().toLowerCase();
  const v = text === 'inf' || text === '.inf' ? Number.POSITIVE_INFINITY : Number(value);
  if (Number.isNaN(v)) throw new Error(`${what}: not a number: ${String(value)}`);
  return v;
}

function periodFusing(value: unknown): PeriodFusing {
  const v = value ?? 'max';
  if (v !== 'max' && v !== 'mean' && v !== 'multiply') throw new Error(`period_fusing: unknown mode ${String(v)}`);
  return v;
}

function keys(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** `discretization_config` (EDMDiscretization only; sgm defaults sigma_min 0.002, sigma_max 80, rho 7). */
export function discretizationFromSgm(config: Sgm): EdmDiscretizationConfig {
  if (config?.target !== `${MODULE}.discretizer.EDMDiscretization`) {
    throw new Error(`discretization ${config?.target} is not supported (EDMDiscretization only)`);
  }
  const p = config.params ?? {};
  return {
    sigmaMin: num(p.sigma_min, 0.002, 'sigma_min'),
    sigmaMax: num(p.sigma_max, 80.0, 'sigma_max'),
    rho: num(p.rho, 7.0, 'rho'),
  };
}

/** `guider_config` (absent: IdentityGuider, sgm's default). `numFrames` is what the script injects. */
export function guiderFromSgm(config: Sgm | undefined, numFrames?: number): GuiderConfig {
  const target = config?.target ?? `${MODULE}.guiders.IdentityGuider`;
  const p = config?.params ?? {};
  const frames = (): number => {
    const t = num(p.num_frames ?? numFrames, undefined, `${target}: num_frames`);
    if (!Number.isInteger(t) || t < 1) throw new Error(`${target}: num_frames must be an integer ≥ 1, got ${t}`);
    return t;
  };
  switch (target) {
    case `${MODULE}.guiders.IdentityGuider`:
      return { kind: 'identity' };
    case `${MODULE}.guiders.VanillaCFG`:
      return { kind: 'vanilla', scale: num(p.scale, undefined, 'VanillaCFG scale') };
    case `${MODULE}.guiders.LinearPredictionGuider`:
      return {
        kind: 'linear',
        minScale: num(p.min_scale, 1.0, 'min_scale'),
        maxScale: num(p.max_scale, undefined, `${target}: max_scale`),
        numFrames: frames(),
        additionalCondKeys: keys(p.additional_cond_keys),
      };
    case `${MODULE}.guiders.TrianglePredictionGuider`:
      return {
        kind: 'triangle',
        minScale: num(p.min_scale, 1.0, 'min_scale'),
        maxScale: num(p.max_scale, undefined, `${target}: max_scale`),
        numFrames: frames(),
        period: (Array.isArray(p.period) ? p.period : [p.period ?? 1.0]).map((v: unknown) => num(v, 1.0, 'period')),
        periodFusing: periodFusing(p.period_fusing),
        additionalCondKeys: keys(p.additional_cond_keys),
      };
    default:
      throw new Error(`guider ${target} is not supported`);
  }
}

/** `sampler_config` of the sgm YAML; `inject` supplies what the script sets (`num_steps`, the guider's frames). */
export function samplerConfigFromSgm(
  config: Sgm,
  inject: { numSteps?: number; numFrames?: number } = {},
): SamplerConfig {
  const kind = SAMPLERS[config?.target];
  if (!kind)
    throw new Error(`sampler ${config?.target} is not supported (EulerEDMSampler, HeunEDMSampler, DPMPP2MSampler)`);
  const p = config.params ?? {};
  const numSteps = num(inject.numSteps ?? p.num_steps, undefined, 'sampler: num_steps');
  if (!Number.isInteger(numSteps) || numSteps < 1)
    throw new Error(`sampler: num_steps must be an integer ≥ 1, got ${numSteps}`);
  return {
    kind,
    numSteps,
    discretization: discretizationFromSgm(p.discretization_config),
    guider: guiderFromSgm(p.guider_config, inject.numFrames),
    sChurn: num(p.s_churn, 0.0, 's_churn'),
    sTmin: num(p.s_tmin, 0.0, 's_tmin'),
    sTmax: num(p.s_tmax, Number.POSITIVE_INFINITY, 's_tmax'),
    sNoise: num(p.s_noise, 1.0, 's_noise'),
  };
}

/** `denoiser_config` (a plain `Denoiser`) → its scaling. */
export function scalingFromSgm(config: Sgm): Scaling {
  if (config?.target !== `${MODULE}.denoiser.Denoiser`) {
    throw new Error(`denoiser ${config?.target} is not supported (sgm Denoiser only)`);
  }
  const scaling = config.params?.scaling_config;
  switch (scaling?.target) {
    case `${MODULE}.denoiser_scaling.VScalingWithEDMcNoise`:
      return vScalingEdmCNoise;
    case `${MODULE}.denoiser_scaling.EDMScaling`: {
      const sigmaData = num(scaling.params?.sigma_data, 0.5, 'sigma_data');
      return (sigma) => edmScaling(sigma, sigmaData);
    }
    default:
      throw new Error(`denoiser scaling ${scaling?.target} is not supported (VScalingWithEDMcNoise, EDMScaling)`);
  }
}

/** The guider of a config; `null` for the identity guider (no CFG batch). */
export function makeGuider(config: GuiderConfig): Guider | null {
  switch (config.kind) {
    case 'identity':
      return null;
    case 'vanilla':
      return vanillaCfg(config.scale);
    case 'linear':
      return linearPredictionGuider(config.minScale, config.maxScale, config.numFrames);
    case 'triangle':
      return trianglePredictionGuider(
        config.minScale,
        config.maxScale,
        config.numFrames,
        config.period,
        config.periodFusing,
      );
  }
}

export interface RunSamplerOptions extends Omit<EdmSamplerOptions, 'sChurn' | 'sTmin' | 'sTmax' | 'sNoise'> {
  /** Evaluate the CFG halves in two calls (see `guidedDenoiser`). */
  splitCfg?: boolean;
}

/**
 * The whole sgm sampler call for a config: the schedule, the guided denoiser around `batchDenoiser` and the loop,
 * from the starting latent x (already multiplied by √(1+σ₀²)). Returns the final latent.
 */
export function runSampler(
  config: SamplerConfig,
  batchDenoiser: CfgDenoiser,
  x: Float32Array,
  options: RunSamplerOptions = {},
): Promise<Float32Array> {
  const sigmas = edmSigmas(config.numSteps, config.discretization);
  const guider = makeGuider(config.guider);
  const denoiser: Denoiser = guider
    ? guidedDenoiser(batchDenoiser, guider, { split: options.splitCfg })
    : conditionalDenoiser(batchDenoiser);
  const { splitCfg: _, ...loop } = options;
  switch (config.kind) {
    case 'euler':
      return sampleEuler(denoiser, x, sigmas, { ...loop, ...churn(config) });
    case 'heun':
      return sampleHeun(denoiser, x, sigmas, { ...loop, ...churn(config) });
    case 'dpmpp2m':
      return sampleDpmpp2m(denoiser, x, sigmas, loop);
  }
}

function churn(config: SamplerConfig): Pick<EdmSamplerOptions, 'sChurn' | 'sTmin' | 'sTmax' | 'sNoise'> {
  return { sChurn: config.sChurn, sTmin: config.sTmin, sTmax: config.sTmax, sNoise: config.sNoise };
}

/**
 * Sampling configuration as typed values: the sampler and guider kinds of the whole project, `samplerConfig` (the one
 * place that turns plain choices — from the CLI, the pipeline or an sgm YAML — into a `SamplerConfig`), the converters
 * from the reference's own structure (the `sampler_config`, `denoiser_config` and `loss_fn_config` sections of an sgm
 * YAML, with sgm's defaults for whatever they leave out; `num_steps` and the guider's `num_frames` are injected by the
 * sampling script in the reference, here they are arguments of the converter), and `runSampler`.
 */
import { ANIMATELCM_SVD_SCHEDULE, consistencySchedule, sampleConsistency } from './consistency.ts';
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
import type { LossWeightingConfig } from './loss-weighting.ts';
import { type ChurnOptions, type SamplerOptions, sampleDpmpp2m, sampleEuler, sampleHeun } from './samplers.ts';
import type { ScalingConfig } from './scalings.ts';
import { edmSigmas } from './schedule.ts';

/**
 * The samplers, spelled as the CLI spells them (`--sampler`): sgm's EDM samplers and `lcm`, AnimateLCM-SVD's
 * multistep consistency sampler (src/diffusion/consistency.ts; its own schedule over 40 training timesteps).
 */
export const SAMPLER_KINDS = ['euler', 'heun', 'dpmpp-2m', 'lcm'] as const;
export type SamplerKind = (typeof SAMPLER_KINDS)[number];

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

/** The guiders: `IdentityGuider` (no CFG), `VanillaCFG`, `LinearPredictionGuider`, `TrianglePredictionGuider`. */
export type GuiderKind = GuiderConfig['kind'];
const GUIDER_KIND_SET: Record<GuiderKind, true> = { identity: true, vanilla: true, linear: true, triangle: true };
export const GUIDER_KINDS = Object.freeze(Object.keys(GUIDER_KIND_SET) as GuiderKind[]);

export interface SamplerConfig {
  kind: SamplerKind;
  numSteps: number;
  discretization: EdmDiscretizationConfig;
  guider: GuiderConfig;
  /** EDM churn (Euler and Heun only; 0 for DPM++(2M) and LCM). */
  sChurn: number;
  sTmin: number;
  sTmax: number;
  sNoise: number;
}

/** The guider as plain choices; what a kind does not use is ignored. */
export interface GuiderChoice {
  kind: GuiderKind;
  /** vanilla: the CFG scale (default: `maxScale`, so the CLI's `--max-cfg` serves every guider). */
  scale?: number;
  /** linear, triangle: the scale at the ends (sgm default 1). */
  minScale?: number;
  /** linear, triangle: the largest scale (required). */
  maxScale?: number;
  /** linear, triangle: the frames per video, T (required). */
  numFrames?: number;
  /** triangle: the period(s) of the wave (sgm default 1). */
  period?: number | readonly number[];
  /** triangle: how several periods combine (sgm default 'max'). */
  periodFusing?: PeriodFusing;
  /** linear, triangle: sgm's `additional_cond_keys` (default none). */
  additionalCondKeys?: readonly string[];
}

/** EDM churn (Karras et al. 2022, Alg. 2); sgm's defaults: off (s_churn 0, s_tmin 0, s_tmax ∞, s_noise 1). */
export interface ChurnChoice {
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
}

export interface SamplerChoices {
  sampler: SamplerKind;
  numSteps: number;
  /** The EDM schedule (SVD: σ_min 0.002, σ_max 700, ρ 7). */
  discretization: EdmDiscretizationConfig;
  /** Default: no guidance (`identity`). */
  guider?: GuiderChoice;
  /** Euler and Heun only. */
  churn?: ChurnChoice;
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${what} must be an integer ≥ 1, got ${value}`);
  return value;
}

function finite(value: number | undefined, fallback: number | undefined, what: string): number {
  const v = value ?? fallback;
  if (v === undefined) throw new Error(`${what} must be given`);
  if (!Number.isFinite(v)) throw new Error(`${what} must be a finite number, got ${v}`);
  return v;
}

function guiderConfig(choice: GuiderChoice): GuiderConfig {
  const what = `${choice.kind} guider`;
  const perFrame = () => ({
    minScale: finite(choice.minScale, 1.0, `${what}: minScale`),
    maxScale: finite(choice.maxScale, undefined, `${what}: maxScale`),
    numFrames: positiveInteger(finite(choice.numFrames, undefined, `${what}: numFrames`), `${what}: numFrames`),
    additionalCondKeys: [...(choice.additionalCondKeys ?? [])],
  });
  switch (choice.kind) {
    case 'identity':
      return { kind: 'identity' };
    case 'vanilla':
      return { kind: 'vanilla', scale: finite(choice.scale ?? choice.maxScale, undefined, `${what}: scale`) };
    case 'linear':
      return { kind: 'linear', ...perFrame() };
    case 'triangle': {
      const { additionalCondKeys, ...scales } = perFrame();
      const period = typeof choice.period === 'number' ? [choice.period] : [...(choice.period ?? [1.0])];
      if (period.length === 0 || period.some((p) => !(p > 0 && Number.isFinite(p)))) {
        throw new Error(`${what}: period must be one or more positive numbers, got [${period}]`);
      }
      const periodFusing = choice.periodFusing ?? 'max';
      if (periodFusing !== 'max' && periodFusing !== 'mean' && periodFusing !== 'multiply') {
        throw new Error(`${what}: unknown periodFusing ${String(periodFusing)}`);
      }
      return { kind: 'triangle', ...scales, period, periodFusing, additionalCondKeys };
    }
    default:
      throw new Error(`unknown guider ${String((choice as { kind: unknown }).kind)} (${GUIDER_KINDS.join(', ')})`);
  }
}

/**
 * Plain choices → a validated `SamplerConfig`, with sgm's defaults for what is left out: the one place that chooses
 * the sampler and the guider (the CLI/pipeline and `samplerConfigFromSgm` both come through here).
 */
export function samplerConfig(choices: SamplerChoices): SamplerConfig {
  const { sampler, discretization: d, churn = {} } = choices;
  if (!SAMPLER_KINDS.includes(sampler)) {
    throw new Error(`unknown sampler ${String(sampler)} (${SAMPLER_KINDS.join(', ')})`);
  }
  const numSteps = positiveInteger(choices.numSteps, 'sampler: numSteps');
  const sigmaMin = finite(d.sigmaMin, undefined, 'sigmaMin');
  const sigmaMax = finite(d.sigmaMax, undefined, 'sigmaMax');
  const rho = finite(d.rho, undefined, 'rho');
  if (!(sigmaMin > 0 && sigmaMax > sigmaMin && rho > 0)) {
    throw new Error(`discretization: need 0 < sigmaMin < sigmaMax and rho > 0, got ${sigmaMin}, ${sigmaMax}, ${rho}`);
  }
  const sChurn = finite(churn.sChurn, 0.0, 'sChurn');
  const sTmin = churn.sTmin ?? 0.0;
  const sTmax = churn.sTmax ?? Number.POSITIVE_INFINITY;
  const sNoise = finite(churn.sNoise, 1.0, 'sNoise');
  if (sChurn < 0 || Number.isNaN(sTmin) || Number.isNaN(sTmax)) {
    throw new Error(`churn: need sChurn ≥ 0 and numeric sTmin/sTmax, got ${sChurn}, ${sTmin}, ${sTmax}`);
  }
  if ((sampler === 'dpmpp-2m' || sampler === 'lcm') && sChurn !== 0) {
    throw new Error(`${sampler} has no churn (sChurn must be 0)`);
  }
  const lcmMax = ANIMATELCM_SVD_SCHEDULE.numTrainTimesteps;
  if (sampler === 'lcm' && numSteps > lcmMax) {
    throw new Error(
      `lcm: at most ${lcmMax} steps (its schedule picks from ${lcmMax} training timesteps), got ${numSteps}`,
    );
  }
  return {
    kind: sampler,
    numSteps,
    discretization: { sigmaMin, sigmaMax, rho },
    guider: guiderConfig(choices.guider ?? { kind: 'identity' }),
    sChurn,
    sTmin,
    sTmax,
    sNoise,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the reference's YAML structure
type Sgm = Record<string, any>;

const MODULE = 'sgm.modules.diffusionmodules';
const SAMPLERS: Record<string, SamplerKind> = {
  [`${MODULE}.sampling.EulerEDMSampler`]: 'euler',
  [`${MODULE}.sampling.HeunEDMSampler`]: 'heun',
  [`${MODULE}.sampling.DPMPP2MSampler`]: 'dpmpp-2m',
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

/** `guider_config` as choices (sgm names checked here, so errors speak the YAML's language). */
function guiderChoiceFromSgm(config: Sgm | undefined, numFrames?: number): GuiderChoice {
  const target = config?.target ?? `${MODULE}.guiders.IdentityGuider`;
  const p = config?.params ?? {};
  const frames = (): number => {
    const t = num(p.num_frames ?? numFrames, undefined, `${target}: num_frames`);
    if (!Number.isInteger(t) || t < 1) throw new Error(`${target}: num_frames must be an integer ≥ 1, got ${t}`);
    return t;
  };
  const perFrame = () => ({
    minScale: num(p.min_scale, 1.0, `${target}: min_scale`),
    maxScale: num(p.max_scale, undefined, `${target}: max_scale`),
    numFrames: frames(),
    additionalCondKeys: keys(p.additional_cond_keys),
  });
  switch (target) {
    case `${MODULE}.guiders.IdentityGuider`:
      return { kind: 'identity' };
    case `${MODULE}.guiders.VanillaCFG`:
      return { kind: 'vanilla', scale: num(p.scale, undefined, 'VanillaCFG scale') };
    case `${MODULE}.guiders.LinearPredictionGuider`:
      return { kind: 'linear', ...perFrame() };
    case `${MODULE}.guiders.TrianglePredictionGuider`:
      return {
        kind: 'triangle',
        ...perFrame(),
        period: (Array.isArray(p.period) ? p.period : [p.period ?? 1.0]).map((v: unknown) => num(v, 1.0, 'period')),
        periodFusing: periodFusing(p.period_fusing),
      };
    default:
      throw new Error(`guider ${target} is not supported`);
  }
}

/** `guider_config` (absent: IdentityGuider, sgm's default). `numFrames` is what the script injects. */
export function guiderFromSgm(config: Sgm | undefined, numFrames?: number): GuiderConfig {
  return guiderConfig(guiderChoiceFromSgm(config, numFrames));
}

/** `sampler_config` of the sgm YAML; `inject` supplies what the script sets (`num_steps`, the guider's frames). */
export function samplerConfigFromSgm(
  config: Sgm,
  inject: { numSteps?: number; numFrames?: number } = {},
): SamplerConfig {
  const sampler = SAMPLERS[config?.target];
  if (!sampler)
    throw new Error(`sampler ${config?.target} is not supported (EulerEDMSampler, HeunEDMSampler, DPMPP2MSampler)`);
  const p = config.params ?? {};
  const numSteps = num(inject.numSteps ?? p.num_steps, undefined, 'sampler: num_steps');
  if (!Number.isInteger(numSteps) || numSteps < 1)
    throw new Error(`sampler: num_steps must be an integer ≥ 1, got ${numSteps}`);
  return samplerConfig({
    sampler,
    numSteps,
    discretization: discretizationFromSgm(p.discretization_config),
    guider: guiderChoiceFromSgm(p.guider_config, inject.numFrames),
    churn: {
      sChurn: num(p.s_churn, 0.0, 's_churn'),
      sTmin: num(p.s_tmin, 0.0, 's_tmin'),
      sTmax: num(p.s_tmax, Number.POSITIVE_INFINITY, 's_tmax'),
      sNoise: num(p.s_noise, 1.0, 's_noise'),
    },
  });
}

/** `denoiser_config` (a plain `Denoiser`) → its scaling. */
export function scalingFromSgm(config: Sgm): ScalingConfig {
  if (config?.target !== `${MODULE}.denoiser.Denoiser`) {
    throw new Error(`denoiser ${config?.target} is not supported (sgm Denoiser only)`);
  }
  const scaling = config.params?.scaling_config;
  switch (scaling?.target) {
    case `${MODULE}.denoiser_scaling.VScalingWithEDMcNoise`:
      return { kind: 'v-edm-c-noise' };
    case `${MODULE}.denoiser_scaling.EDMScaling`:
      return { kind: 'edm', sigmaData: num(scaling.params?.sigma_data, 0.5, 'sigma_data') };
    default:
      throw new Error(`denoiser scaling ${scaling?.target} is not supported (VScalingWithEDMcNoise, EDMScaling)`);
  }
}

/** `loss_weighting_config` of a `StandardDiffusionLoss` (`loss_fn_config.params`) → its weighting. */
export function lossWeightingFromSgm(config: Sgm): LossWeightingConfig {
  switch (config?.target) {
    case `${MODULE}.loss_weighting.VWeighting`:
      return { kind: 'v' };
    case `${MODULE}.loss_weighting.EDMWeighting`:
      return { kind: 'edm', sigmaData: num(config.params?.sigma_data, 0.5, 'sigma_data') };
    case `${MODULE}.loss_weighting.EpsWeighting`:
      return { kind: 'eps' };
    case `${MODULE}.loss_weighting.UnitWeighting`:
      return { kind: 'unit' };
    default:
      throw new Error(
        `loss weighting ${config?.target} is not supported (VWeighting, EDMWeighting, EpsWeighting, UnitWeighting)`,
      );
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

/**
 * The noise levels of a config, n + 1 values ending in 0 (σ_0 scales the initial noise): its EDM schedule, or for
 * `lcm` the consistency schedule over AnimateLCM-SVD's 40 training timesteps with the same σ range and ρ (σ_0 = σ_max,
 * so the initial noise factor √(1 + σ_0²) is the reference's `init_noise_sigma`).
 */
export function samplerSigmas(config: SamplerConfig): Float32Array {
  if (config.kind === 'lcm') return consistencySchedule(config.numSteps, config.discretization).sigmas;
  return edmSigmas(config.numSteps, config.discretization);
}

export interface RunSamplerOptions extends SamplerOptions {
  /**
   * The N(0, I) draw of step i, shaped like x: ε for the churn (Euler and Heun, only at steps with γ > 0; required
   * there; the churn parameters themselves come from the config), or z for LCM's re-noising to σ_{i+1} (every step
   * but the last).
   */
  noise?: ChurnOptions['noise'];
  /** Evaluate the CFG halves in two calls (see `guidedDenoiser`). */
  splitCfg?: boolean;
}

/**
 * The whole sgm sampler call for a config: the schedule, the guided denoiser around `batchDenoiser` and the loop,
 * from the starting latent x (already multiplied by √(1+σ₀²), see `scaleInitialNoise` and `samplerSigmas`). Returns
 * the final latent. `rows` is the number of samples in x (T frames for one video); `onStep` sees every step.
 */
export function runSampler(
  config: SamplerConfig,
  batchDenoiser: CfgDenoiser,
  x: Float32Array,
  options: RunSamplerOptions = {},
): Promise<Float32Array> {
  const sigmas = samplerSigmas(config);
  const guider = makeGuider(config.guider);
  const denoiser: Denoiser = guider
    ? guidedDenoiser(batchDenoiser, guider, { split: options.splitCfg })
    : conditionalDenoiser(batchDenoiser);
  const { splitCfg: _, noise, ...loop } = options;
  const churn = { sChurn: config.sChurn, sTmin: config.sTmin, sTmax: config.sTmax, sNoise: config.sNoise, noise };
  switch (config.kind) {
    case 'euler':
      return sampleEuler(denoiser, x, sigmas, { ...loop, ...churn });
    case 'heun':
      return sampleHeun(denoiser, x, sigmas, { ...loop, ...churn });
    case 'dpmpp-2m':
      return sampleDpmpp2m(denoiser, x, sigmas, loop);
    case 'lcm':
      return sampleConsistency(denoiser, x, sigmas, {
        ...loop,
        noise,
        sNoise: config.sNoise,
        sigmaMax: config.discretization.sigmaMax,
      });
  }
}

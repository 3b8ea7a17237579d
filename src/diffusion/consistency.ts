/**
 * Few-step consistency sampling for AnimateLCM-SVD-xt (Wang et al. 2024, "AnimateLCM: Computation-Efficient
 * Personalized Style Video Generation without Personalized Video Data", arXiv 2402.00769). Reference: G-U-N/AnimateLCM
 * `animatelcm_svd/animatelcm_scheduler.py::AnimateLCMSVDStochasticIterativeScheduler` (diffusers'
 * CMStochasticIterativeScheduler — Song et al. 2023, "Consistency Models", Alg. 1, multistep sampling — with SVD's
 * parameterisation), configured as its `animatelcm_svd/app.py`: 40 training timesteps, Karras σ from 700 down to
 * 0.002, ρ 7, σ_data 1, s_noise 1, no clipping of the denoised estimate.
 *
 * With σ_data = 1 its boundary-condition scalings are SVD's own (c_skip = 1/(σ²+1), c_out = −σ/√(σ²+1), network input
 * x/√(σ²+1), noise input 0.25·ln σ), so the denoiser is the usual `makeVDenoiser`; what differs is the schedule (a
 * Karras ramp over the training timesteps that `set_timesteps` picks, not over the inference steps) and the update:
 * each step jumps to the denoised estimate and re-noises it to the next level, x ← D(x, σ_i) + s_noise·z·σ_{i+1}
 * with fresh z ~ N(0, I), so the last step (σ_{i+1} = 0) returns D itself. One network call per step.
 *
 * Checked against vectors made by running the reference code (scripts/make-animatelcm-vectors.py).
 */
import type { Denoiser } from './denoiser.ts';
import { f32 } from './float32.ts';
import type { SamplerOptions, StepInfo } from './samplers.ts';

export interface ConsistencyScheduleOptions {
  /** `num_train_timesteps` (AnimateLCM-SVD: 40). */
  numTrainTimesteps?: number;
  sigmaMin?: number;
  sigmaMax?: number;
  rho?: number;
}

/** AnimateLCM-SVD-xt's scheduler settings (`animatelcm_svd/app.py`). */
export const ANIMATELCM_SVD_SCHEDULE: Required<ConsistencyScheduleOptions> = Object.freeze({
  numTrainTimesteps: 40,
  sigmaMin: 0.002,
  sigmaMax: 700,
  rho: 7,
});

export interface ConsistencySchedule {
  /** σ_0 > … > σ_{n−1} and a final 0 (n + 1 values), float32 as the reference stores them. */
  sigmas: Float32Array;
  /** The timesteps the reference passes to the network: 0.25·ln(σ + 1e−44) of the float64 σ (n values). */
  timesteps: Float64Array;
}

/**
 * `set_timesteps(n)`: the integer timesteps `arange(n)·⌊T/n⌋` in reverse order, mapped back to a ramp
 * `t/(T − 1)` in increasing order and through the Karras formula `(σ_max^(1/ρ) + ramp·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ`
 * in float64 (numpy), then stored as float32 with a 0 appended. With T = 40 and n = 4 the ramp is 0, 10/39, 20/39,
 * 30/39: σ = 700, 128.56, 13.678, 0.49688, 0 (the last level is not σ_min).
 */
export function consistencySchedule(steps: number, options: ConsistencyScheduleOptions = {}): ConsistencySchedule {
  const { numTrainTimesteps: total, sigmaMin, sigmaMax, rho } = { ...ANIMATELCM_SVD_SCHEDULE, ...options };
  if (!Number.isInteger(total) || total < 2) {
    throw new RangeError(`consistencySchedule: numTrainTimesteps must be an integer ≥ 2, got ${total}`);
  }
  if (!Number.isInteger(steps) || steps < 1 || steps > total) {
    throw new RangeError(`consistencySchedule: steps must be an integer from 1 to ${total}, got ${steps}`);
  }
  if (!(sigmaMin > 0 && sigmaMax > sigmaMin && rho > 0)) {
    throw new RangeError(`consistencySchedule: need 0 < sigmaMin < sigmaMax and rho > 0`);
  }
  const ratio = Math.floor(total / steps);
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  const sigmas = new Float32Array(steps + 1); // the last entry stays 0
  const timesteps = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    const ramp = (i * ratio) / (total - 1); // the reversed descending timesteps: i·⌊T/n⌋ in increasing order
    const sigma = (maxInvRho + ramp * (minInvRho - maxInvRho)) ** rho;
    sigmas[i] = sigma;
    timesteps[i] = 0.25 * Math.log(sigma + 1e-44);
  }
  return { sigmas, timesteps };
}

/** `init_noise_sigma` = √(σ_max² + 1) in float32: the factor the pipeline multiplies the initial N(0, I) latent by. */
export function consistencyInitNoiseSigma(sigmaMax = ANIMATELCM_SVD_SCHEDULE.sigmaMax): number {
  return f32(Math.sqrt(sigmaMax ** 2 + 1));
}

export interface ConsistencySamplerOptions extends SamplerOptions {
  /** The N(0, I) draw z for step i, shaped like x; asked for on every step whose next level σ_{i+1} is above 0. */
  noise?: (step: number) => Float32Array;
  /** `s_noise` (default 1). */
  sNoise?: number;
  /** σ_{i+1} is clamped to [0, σ_max] before re-noising (default 700). */
  sigmaMax?: number;
  /** `clip_denoised`: clamp D to [−1, 1] (AnimateLCM-SVD: off). */
  clipDenoised?: boolean;
}

/**
 * The multistep consistency loop over `sigmas` (n + 1 levels, the last 0): n denoiser calls, `x ← D(x, σ_i) +
 * (s_noise·z_i)·clamp(σ_{i+1}, 0, σ_max)`, each product and the sum rounded to float32 as torch does. `x0` is the
 * starting latent (N(0, I)·`consistencyInitNoiseSigma()`), not modified.
 */
export async function sampleConsistency(
  denoiser: Denoiser,
  x0: Float32Array,
  sigmas: ArrayLike<number>,
  options: ConsistencySamplerOptions = {},
): Promise<Float32Array> {
  const { rows = 1, onStep, signal, noise, sNoise = 1, sigmaMax = ANIMATELCM_SVD_SCHEDULE.sigmaMax } = options;
  if (!Number.isInteger(rows) || rows < 1 || x0.length % rows !== 0) {
    throw new RangeError(`consistency sampler: x has ${x0.length} elements, not a whole number of rows for ${rows}`);
  }
  if (sigmas.length < 2)
    throw new RangeError(`consistency sampler: need at least 2 noise levels, got ${sigmas.length}`);
  const n = sigmas.length - 1;
  const scale = f32(sNoise);
  let x = x0;
  for (let i = 0; i < n; i++) {
    const sigma = f32(sigmas[i]);
    const sigmaNext = f32(sigmas[i + 1]);
    signal?.throwIfAborted();
    const denoised = await denoiser(x, new Float32Array(rows).fill(sigma));
    if (denoised.length !== x.length) {
      throw new RangeError(`consistency sampler: the denoiser returned ${denoised.length} elements for ${x.length}`);
    }
    if (options.clipDenoised)
      for (let j = 0; j < denoised.length; j++) denoised[j] = Math.min(1, Math.max(-1, denoised[j]));
    const sigmaHat = Math.min(Math.max(sigmaNext, 0), f32(sigmaMax));
    const next = new Float32Array(x.length);
    if (sigmaHat > 0) {
      if (!noise)
        throw new Error(`consistency sampler: step ${i} re-noises to σ ${sigmaHat} but no noise source was given`);
      const z = noise(i);
      if (z.length !== x.length) {
        throw new RangeError(
          `consistency sampler: noise for step ${i} has ${z.length} elements, the latent ${x.length}`,
        );
      }
      for (let j = 0; j < x.length; j++) next[j] = denoised[j] + f32(f32(z[j] * scale) * sigmaHat);
    } else {
      next.set(denoised);
    }
    x = next;
    const info: StepInfo = { i, n, sigma, sigmaHat: sigma, sigmaNext, x, denoised };
    await onStep?.(info);
  }
  return x;
}

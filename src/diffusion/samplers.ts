/**
 * Samplers: plain loops over a `Denoiser` and a precomputed schedule (k-diffusion's `sample_*(model, x, sigmas)` shape).
 * Latents are Float32Arrays and every update is rounded to float32 in the reference's operation order, so a sampler
 * fed the reference's denoiser outputs reproduces its trajectory.
 *
 * - `sampleEuler`: sgm `sampling.py::EulerEDMSampler` (Karras et al. 2022, Alg. 2 without the 2nd-order correction).
 * - `sampleHeun`: sgm `HeunEDMSampler` (Karras et al. 2022, Alg. 2).
 * - `sampleDpmpp2m`: DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
 *   Probabilistic Models"), as k-diffusion `sample_dpmpp_2m` and sgm `DPMPP2MSampler`.
 *
 * The starting latent is the caller's (for SVD: noise·√(1+σ₀²), see `scaleInitialNoise`); it is not modified.
 */
import type { Denoiser } from './denoiser.ts';
import { f32 } from './float32.ts';

/** What `onStep` receives after step i (of n) is complete. */
export interface StepInfo {
  i: number;
  n: number;
  /** σ_i of the schedule. */
  sigma: number;
  /** The noise level the denoiser was evaluated at (σ_i·(γ+1); σ_i without churn). */
  sigmaHat: number;
  /** σ_{i+1}: the noise level of `x`. */
  sigmaNext: number;
  /** The latent after the step (a fresh array the sampler does not touch again). */
  x: Float32Array;
  /** The denoised estimate the step used (for Heun, the first of its two evaluations). */
  denoised: Float32Array;
  /**
   * Euler and Heun: the latent the denoiser was evaluated at, x̂ = x + ε·s_noise·√(σ̂² − σ²) after the churn noise
   * (the previous step's x when γ = 0).
   */
  xHat?: Float32Array;
  /** Heun, on a step with a second evaluation: the Euler predictor x̂ + (σ_{i+1} − σ̂)·d, its input. */
  xEuler?: Float32Array;
  /** Heun, on a step with a second evaluation: the denoised estimate D(x_euler, σ_{i+1}). */
  denoised2?: Float32Array;
}

export interface SamplerOptions {
  /** Samples in x (its leading dimension N): the denoiser gets one σ per sample. Default 1. */
  rows?: number;
  /** Called after every step (n times), awaited. */
  onStep?: (info: StepInfo) => void | Promise<void>;
  /** Checked (`throwIfAborted`) before every denoiser call. */
  signal?: AbortSignal;
}

/** Stochastic churn of the EDM samplers (Karras et al. 2022, Alg. 2; sgm `EDMSampler`). Off by default. */
export interface ChurnOptions {
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
  /** The N(0, I) draw ε for step i, shaped like x; needed only for steps with γ > 0. */
  noise?: (step: number) => Float32Array;
}

export type EdmSamplerOptions = SamplerOptions & ChurnOptions;

/** Euler steps over `sigmas` (n + 1 levels, the last normally 0): n denoiser calls. */
export function sampleEuler(
  denoiser: Denoiser,
  x: Float32Array,
  sigmas: ArrayLike<number>,
  options: EdmSamplerOptions = {},
): Promise<Float32Array> {
  return sampleEdm(denoiser, x, sigmas, options, false);
}

/**
 * Heun's 2nd-order method: each Euler step is corrected with the trapezoidal rule on a second denoiser call at
 * σ_{i+1}, except where σ_{i+1} = 0 (the last step stays an Euler step): 2n − 1 calls for a schedule ending in 0.
 */
export function sampleHeun(
  denoiser: Denoiser,
  x: Float32Array,
  sigmas: ArrayLike<number>,
  options: EdmSamplerOptions = {},
): Promise<Float32Array> {
  return sampleEdm(denoiser, x, sigmas, options, true);
}

function checkInputs(x: Float32Array, sigmas: ArrayLike<number>, rows: number): number {
  if (!Number.isInteger(rows) || rows < 1 || x.length % rows !== 0) {
    throw new RangeError(`sampler: x has ${x.length} elements, not a whole number of rows for rows = ${rows}`);
  }
  if (sigmas.length < 2) throw new RangeError(`sampler: need at least 2 noise levels, got ${sigmas.length}`);
  return sigmas.length - 1;
}

async function denoise(
  denoiser: Denoiser,
  x: Float32Array,
  sigma: number,
  rows: number,
  signal: AbortSignal | undefined,
): Promise<Float32Array> {
  signal?.throwIfAborted();
  const denoised = await denoiser(x, new Float32Array(rows).fill(sigma));
  if (denoised.length !== x.length) {
    throw new RangeError(`sampler: the denoiser returned ${denoised.length} elements for a latent of ${x.length}`);
  }
  return denoised;
}

/** `torch.sum(next_sigma) < 1e-14` over the per-sample copies of σ_{i+1}: the reference's "all noise levels are 0". */
function allZero(sigma: number, rows: number): boolean {
  let sum = 0;
  for (let r = 0; r < rows; r++) sum = f32(sum + sigma);
  return sum < f32(1e-14);
}

async function sampleEdm(
  denoiser: Denoiser,
  x0: Float32Array,
  sigmas: ArrayLike<number>,
  options: EdmSamplerOptions,
  heun: boolean,
): Promise<Float32Array> {
  const { rows = 1, onStep, signal, sChurn = 0, sTmin = 0, sTmax = Number.POSITIVE_INFINITY, sNoise = 1 } = options;
  const n = checkInputs(x0, sigmas, rows);
  // The reference compares the float32 sigma with the Python floats s_tmin/s_tmax as float32 values.
  const tmin = f32(sTmin);
  const tmax = f32(sTmax);
  const noiseScale = f32(sNoise);
  let x = x0;
  for (let i = 0; i < n; i++) {
    const sigma = f32(sigmas[i]);
    const sigmaNext = f32(sigmas[i + 1]);
    const gamma = tmin <= sigma && sigma <= tmax ? Math.min(sChurn / n, Math.SQRT2 - 1) : 0; // Python float64
    const sigmaHat = f32(sigma * f32(gamma + 1));
    if (gamma > 0) x = addChurnNoise(x, sigma, sigmaHat, noiseScale, options.noise, i);

    const denoised = await denoise(denoiser, x, sigmaHat, rows, signal);
    const dt = f32(sigmaNext - sigmaHat);
    const d = new Float32Array(x.length); // (x − D)/σ̂: the ODE's derivative dx/dσ
    const euler = new Float32Array(x.length);
    for (let j = 0; j < x.length; j++) {
      d[j] = f32(x[j] - denoised[j]) / sigmaHat;
      euler[j] = x[j] + f32(dt * d[j]);
    }
    const xHat = x;
    let next = euler;
    let denoised2: Float32Array | undefined;
    if (heun && !allZero(sigmaNext, rows) && sigmaNext > 0) {
      denoised2 = await denoise(denoiser, euler, sigmaNext, rows, signal);
      next = new Float32Array(x.length);
      for (let j = 0; j < x.length; j++) {
        const dNext = f32(f32(euler[j] - denoised2[j]) / sigmaNext);
        const dMean = f32(f32(d[j] + dNext) / 2);
        next[j] = x[j] + f32(dMean * dt);
      }
    }
    x = next;
    const second = denoised2 ? { xEuler: euler, denoised2 } : {};
    await onStep?.({ i, n, sigma, sigmaHat, sigmaNext, x, denoised, xHat, ...second });
  }
  return x;
}

/** `x + ε·s_noise·√(σ̂² − σ²)`, float32 in sgm's order. */
function addChurnNoise(
  x: Float32Array,
  sigma: number,
  sigmaHat: number,
  noiseScale: number,
  noise: ((step: number) => Float32Array) | undefined,
  step: number,
): Float32Array {
  if (!noise) throw new Error(`sampler: step ${step} has churn (γ > 0) but no noise source was given`);
  const eps = noise(step);
  if (eps.length !== x.length) {
    throw new RangeError(`sampler: noise for step ${step} has ${eps.length} elements, the latent ${x.length}`);
  }
  const std = f32(Math.sqrt(f32(f32(sigmaHat * sigmaHat) - f32(sigma * sigma))));
  const out = new Float32Array(x.length);
  for (let j = 0; j < x.length; j++) out[j] = x[j] + f32(f32(eps[j] * noiseScale) * std);
  return out;
}

/** t = −ln σ in float32 (`sigma.log().neg()`); +∞ for σ = 0. */
function negLogSigma(sigma: number): number {
  return -f32(Math.log(sigma));
}

/**
 * DPM-Solver++(2M): with t = −ln σ and h = t_{i+1} − t_i, `x ← (σ_{i+1}/σ_i)·x − (e^{−h} − 1)·D'` where D' is the
 * denoised estimate, extrapolated from the previous one, `D' = (1 + 1/(2r))·D_i − (1/(2r))·D_{i−1}` with
 * r = h_{i−1}/h_i, except on the first step and on a step to σ = 0 (first order, D' = D_i). n denoiser calls.
 */
export async function sampleDpmpp2m(
  denoiser: Denoiser,
  x0: Float32Array,
  sigmas: ArrayLike<number>,
  options: SamplerOptions = {},
): Promise<Float32Array> {
  const { rows = 1, onStep, signal } = options;
  const n = checkInputs(x0, sigmas, rows);
  let x = x0;
  let previous: Float32Array | undefined;
  for (let i = 0; i < n; i++) {
    const sigma = f32(sigmas[i]);
    const sigmaNext = f32(sigmas[i + 1]);
    const denoised = await denoise(denoiser, x, sigma, rows, signal);
    const t = negLogSigma(sigma);
    const tNext = negLogSigma(sigmaNext);
    const h = f32(tNext - t);
    // sigma_fn(t_next) / sigma_fn(t) with sigma_fn(t) = exp(−t): 0 for a step to σ = 0.
    const ratio = f32(f32(Math.exp(-tNext)) / f32(Math.exp(-t)));
    const expm1 = f32(Math.expm1(-h)); // −1 for a step to σ = 0
    const out = new Float32Array(x.length);
    if (previous === undefined || sigmaNext === 0) {
      for (let j = 0; j < x.length; j++) out[j] = f32(ratio * x[j]) - f32(expm1 * denoised[j]);
    } else {
      const hLast = f32(t - negLogSigma(f32(sigmas[i - 1])));
      const r = f32(hLast / h);
      const oldWeight = f32(1 / f32(2 * r)); // 1 / (2 r)
      const newWeight = f32(1 + oldWeight);
      for (let j = 0; j < x.length; j++) {
        const extrapolated = f32(f32(newWeight * denoised[j]) - f32(oldWeight * previous[j]));
        out[j] = f32(ratio * x[j]) - f32(expm1 * extrapolated);
      }
    }
    previous = denoised;
    x = out;
    await onStep?.({ i, n, sigma, sigmaHat: sigma, sigmaNext, x, denoised });
  }
  return x;
}

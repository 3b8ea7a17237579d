/**
 * Noise-level schedules: sgm `sgm/modules/diffusionmodules/discretizer.py::EDMDiscretization` (Karras et al. 2022,
 * eq. 5) and the sampler's initial-noise scaling (`sampling.py::BaseDiffusionSampler.prepare_sampling_loop`).
 */
import { f32 } from './float32.ts';
import { torchLinspaceF32 } from './linspace.ts';

export interface EdmScheduleOptions {
  /** σ_min (sgm default 0.002). */
  sigmaMin?: number;
  /** σ_max: SVD's configs set 700 (sgm's own default is 80). */
  sigmaMax?: number;
  /** ρ (sgm default 7). */
  rho?: number;
}

/**
 * The n noise levels σ_0 > … > σ_{n−1} of the EDM schedule followed by 0 (n + 1 values), in float32 exactly as sgm
 * computes them: `ramp = torch.linspace(0, 1, n)`, `(max_inv_rho + ramp·(min_inv_rho − max_inv_rho)) ** rho`, where
 * `min_inv_rho = sigma_min ** (1/rho)` and `max_inv_rho` are Python floats that torch rounds to float32 before each op.
 * For σ_max = 700 the first level is 700.0001220703125 (float32 rounding of the ρ-th power), the last 0.0020000036.
 */
export function edmSigmas(n: number, options: EdmScheduleOptions = {}): Float32Array {
  const { sigmaMin = 0.002, sigmaMax = 700, rho = 7 } = options;
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`edmSigmas: the number of steps must be an integer ≥ 1, got ${n}`);
  if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) {
    throw new RangeError(`edmSigmas: need 0 < sigmaMin < sigmaMax, got sigmaMin ${sigmaMin}, sigmaMax ${sigmaMax}`);
  }
  const minInvRho = sigmaMin ** (1 / rho); // Python float64
  const maxInvRho = sigmaMax ** (1 / rho);
  const span = f32(minInvRho - maxInvRho); // cast to float32 by the tensor op
  const offset = f32(maxInvRho);
  const power = f32(rho);
  const ramp = torchLinspaceF32(0, 1, n);
  const sigmas = new Float32Array(n + 1); // the last entry stays 0 (`append_zero`)
  for (let i = 0; i < n; i++) sigmas[i] = f32(offset + f32(ramp[i] * span)) ** power;
  return sigmas;
}

/** √(1 + σ_0²) in float32: the factor sgm multiplies the initial N(0, 1) noise by (not σ_0). */
export function initNoiseMultiplier(sigma0: number): number {
  const s = f32(sigma0);
  return f32(Math.sqrt(f32(1 + f32(s * s))));
}

/** The sampler's starting latent: `noise · √(1 + σ_0²)` in float32 (`x *= torch.sqrt(1.0 + sigmas[0] ** 2.0)`). */
export function scaleInitialNoise(noise: Float32Array, sigma0: number): Float32Array {
  const m = initNoiseMultiplier(sigma0);
  const x = new Float32Array(noise.length);
  for (let i = 0; i < noise.length; i++) x[i] = noise[i] * m;
  return x;
}

/**
 * Per-sample loss weights λ(σ) of the diffusion loss `mean(λ(σ)·(D − x)²)`: sgm
 * `sgm/modules/diffusionmodules/loss_weighting.py`, float32 in the reference's operation order.
 */
import { f32 } from './float32.ts';

export type LossWeighting = (sigma: ArrayLike<number>) => Float32Array;

/** `EDMWeighting(sigma_data)`: `(σ² + σ_d²) / (σ·σ_d)²` (Karras et al. 2022). */
export function edmWeighting(sigma: ArrayLike<number>, sigmaData = 0.5): Float32Array {
  const out = new Float32Array(sigma.length);
  const sd = f32(sigmaData);
  const sd2 = f32(sigmaData ** 2);
  for (let i = 0; i < sigma.length; i++) {
    const s = f32(sigma[i]);
    const scaled = f32(s * sd);
    out[i] = f32(f32(s * s) + sd2) / f32(scaled * scaled);
  }
  return out;
}

/** `VWeighting` = EDM weighting with σ_d = 1: `(σ² + 1)/σ²`, the weighting that matches `VScalingWithEDMcNoise`. */
export function vWeighting(sigma: ArrayLike<number>): Float32Array {
  return edmWeighting(sigma, 1);
}

/** `EpsWeighting`: `σ^−2` (torch computes `1/(σ·σ)`). */
export function epsWeighting(sigma: ArrayLike<number>): Float32Array {
  const out = new Float32Array(sigma.length);
  for (let i = 0; i < sigma.length; i++) {
    const s = f32(sigma[i]);
    out[i] = 1 / f32(s * s);
  }
  return out;
}

/** `UnitWeighting`: 1. */
export function unitWeighting(sigma: ArrayLike<number>): Float32Array {
  return new Float32Array(sigma.length).fill(1);
}

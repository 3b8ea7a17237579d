/**
 * Denoiser preconditioning: sgm `sgm/modules/diffusionmodules/denoiser_scaling.py`. For a noise level σ (one per
 * sample) a scaling gives the factors of `D(x, σ) = F(c_in·x, c_noise)·c_out + x·c_skip`.
 *
 * Each scaling exists once, in two forms side by side: the host form (Float32Arrays, used by the samplers through
 * `makeVDenoiser`) and the graph form (SymTensors, used by the training loss and any graph that wraps the network),
 * selected by one descriptor, `ScalingConfig`.
 *
 * Host forms are float32 in the reference's operation order (σ is a float32 tensor, Python-float constants are rounded
 * to float32 by each op). Two torch details matter: `a / tensor` with a Python float `a` is `tensor.reciprocal() * a`
 * (`Tensor.__rtruediv__`), and `tensor ** 0.5` is `sqrt` (no reciprocal square root). Graph forms apply the same
 * formulas in the same order, each op rounding in the graph's dtype.
 */
import type { SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';
import { f32 } from './float32.ts';

/** The preconditioning of a denoiser (sgm `denoiser_config.params.scaling_config`). */
export type ScalingConfig =
  /** `VScalingWithEDMcNoise`: SVD's. */
  | { kind: 'v-edm-c-noise' }
  /** `EDMScaling(sigma_data)` (sgm default σ_d = 0.5). */
  | { kind: 'edm'; sigmaData: number };

export type ScalingKind = ScalingConfig['kind'];

export const SCALING_KINDS: readonly ScalingKind[] = ['v-edm-c-noise', 'edm'];

/** SVD's scaling (`VScalingWithEDMcNoise`), the default everywhere. */
export const SVD_SCALING: ScalingConfig = Object.freeze({ kind: 'v-edm-c-noise' });

/** The four per-sample factors, each [N]. */
export interface Scalings {
  cSkip: Float32Array;
  cOut: Float32Array;
  cIn: Float32Array;
  /** The network's noise input. */
  cNoise: Float32Array;
}

/** Host form: one σ per sample → the factors. */
export type Scaling = (sigma: ArrayLike<number>) => Scalings;

/** The four factors as graph values, each with the shape of σ (e.g. [N, 1, 1, 1] to broadcast over x). */
export interface SymScalings {
  cSkip: SymTensor;
  cOut: SymTensor;
  cIn: SymTensor;
  /** The network's noise input (reshape to [N] before feeding it). */
  cNoise: SymTensor;
}

/** Graph form: σ (any shape, typically [N, 1, …]) → the factors, elementwise. */
export type GraphScaling = (sigma: SymTensor) => SymScalings;

function allocate(n: number): Scalings {
  return {
    cSkip: new Float32Array(n),
    cOut: new Float32Array(n),
    cIn: new Float32Array(n),
    cNoise: new Float32Array(n),
  };
}

/** `c_noise = 0.25 · ln σ` (EDM's noise conditioning), float32 log then an exact scaling. */
function edmCNoise(s: number): number {
  return f32(0.25 * f32(Math.log(s)));
}

function edmCNoiseGraph(sigma: SymTensor): SymTensor {
  return op.mul(op.log(sigma), 0.25);
}

// --- VScalingWithEDMcNoise ------------------------------------------------------------------------------------------

/**
 * `VScalingWithEDMcNoise` (SVD's denoiser): v-prediction with unit data variance,
 * `c_skip = 1/(σ²+1)`, `c_out = −σ/√(σ²+1)`, `c_in = 1/√(σ²+1)`, `c_noise = 0.25·ln σ`.
 */
export function vScalingEdmCNoise(sigma: ArrayLike<number>): Scalings {
  const out = allocate(sigma.length);
  for (let i = 0; i < sigma.length; i++) {
    const s = f32(sigma[i]);
    const v = f32(f32(s * s) + 1); // sigma**2 + 1.0
    const root = f32(Math.sqrt(v)); // (sigma**2 + 1.0) ** 0.5
    out.cSkip[i] = 1 / v; // 1.0 / v = reciprocal(v) * 1.0
    out.cOut[i] = -s / root;
    out.cIn[i] = 1 / root;
    out.cNoise[i] = edmCNoise(s);
  }
  return out;
}

/** Graph form of `vScalingEdmCNoise`. */
export function vScalingEdmCNoiseGraph(sigma: SymTensor): SymScalings {
  const v = op.add(op.mul(sigma, sigma), 1);
  const root = op.sqrt(v);
  return {
    cSkip: op.div(1, v),
    cOut: op.div(op.neg(sigma), root),
    cIn: op.div(1, root),
    cNoise: edmCNoiseGraph(sigma),
  };
}

// --- EDMScaling -----------------------------------------------------------------------------------------------------

/**
 * `EDMScaling(sigma_data)` (Karras et al. 2022, Table 1): `c_skip = σ_d²/(σ²+σ_d²)`, `c_out = σ·σ_d/√(σ²+σ_d²)`,
 * `c_in = 1/√(σ²+σ_d²)`, `c_noise = 0.25·ln σ`.
 */
export function edmScaling(sigma: ArrayLike<number>, sigmaData = 0.5): Scalings {
  const out = allocate(sigma.length);
  const sd = f32(sigmaData);
  const sd2 = f32(sigmaData ** 2); // Python float sigma_data**2, rounded by the tensor op
  for (let i = 0; i < sigma.length; i++) {
    const s = f32(sigma[i]);
    const v = f32(f32(s * s) + sd2);
    const root = f32(Math.sqrt(v));
    out.cSkip[i] = f32(1 / v) * sd2; // sigma_data**2 / v = reciprocal(v) * sigma_data**2
    out.cOut[i] = f32(s * sd) / root;
    out.cIn[i] = 1 / root; // 1 / v**0.5 = reciprocal(root) * 1
    out.cNoise[i] = edmCNoise(s);
  }
  return out;
}

/** Graph form of `edmScaling`. */
export function edmScalingGraph(sigma: SymTensor, sigmaData = 0.5): SymScalings {
  const sd2 = sigmaData ** 2;
  const v = op.add(op.mul(sigma, sigma), sd2);
  const root = op.sqrt(v);
  return {
    cSkip: op.mul(op.div(1, v), sd2),
    cOut: op.div(op.mul(sigma, sigmaData), root),
    cIn: op.div(1, root),
    cNoise: edmCNoiseGraph(sigma),
  };
}

// --- The descriptor -------------------------------------------------------------------------------------------------

/** The host form of a scaling. */
export function hostScaling(config: ScalingConfig): Scaling {
  switch (config.kind) {
    case 'v-edm-c-noise':
      return vScalingEdmCNoise;
    case 'edm':
      return (sigma) => edmScaling(sigma, config.sigmaData);
  }
}

/** The graph form of a scaling. */
export function graphScaling(config: ScalingConfig): GraphScaling {
  switch (config.kind) {
    case 'v-edm-c-noise':
      return vScalingEdmCNoiseGraph;
    case 'edm':
      return (sigma) => edmScalingGraph(sigma, config.sigmaData);
  }
}

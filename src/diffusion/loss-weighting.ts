/**
 * Per-sample loss weights λ(σ) of the diffusion loss `mean(λ(σ)·(D − x)²)`: sgm
 * `sgm/modules/diffusionmodules/loss_weighting.py`. Each weighting exists once, as a host form (float32 in the
 * reference's operation order) and a graph form (the same formula on SymTensors, used by `standardDiffusionLoss`),
 * selected by one descriptor, `LossWeightingConfig`.
 */
import type { SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';
import { f32 } from './float32.ts';

/** The loss weighting (sgm `loss_fn_config.params.loss_weighting_config`). */
export type LossWeightingConfig =
  /** `VWeighting` (= EDM with σ_d = 1): the weighting that matches `VScalingWithEDMcNoise`, SVD's. */
  | { kind: 'v' }
  /** `EDMWeighting(sigma_data)` (sgm default σ_d = 0.5). */
  | { kind: 'edm'; sigmaData: number }
  /** `EpsWeighting`: σ^−2. */
  | { kind: 'eps' }
  /** `UnitWeighting`: 1. */
  | { kind: 'unit' };

export type LossWeightingKind = LossWeightingConfig['kind'];

export const LOSS_WEIGHTING_KINDS: readonly LossWeightingKind[] = ['v', 'edm', 'eps', 'unit'];

/** SVD's weighting (`VWeighting`), the default of `standardDiffusionLoss`. */
export const SVD_LOSS_WEIGHTING: LossWeightingConfig = Object.freeze({ kind: 'v' });

/** Host form: one σ per sample → one weight per sample. */
export type LossWeighting = (sigma: ArrayLike<number>) => Float32Array;

/** Graph form: σ (any shape, typically [N, 1, …]) → the weights, same shape. */
export type GraphLossWeighting = (sigma: SymTensor) => SymTensor;

// --- EDMWeighting / VWeighting --------------------------------------------------------------------------------------

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

/** Graph form of `edmWeighting`. */
export function edmWeightingGraph(sigma: SymTensor, sigmaData = 0.5): SymTensor {
  const scaled = sigmaData === 1 ? sigma : op.mul(sigma, sigmaData); // σ·1 is exact: skip the node
  return op.div(op.add(op.mul(sigma, sigma), sigmaData ** 2), op.mul(scaled, scaled));
}

/** `VWeighting` = EDM weighting with σ_d = 1: `(σ² + 1)/σ²`, the weighting that matches `VScalingWithEDMcNoise`. */
export function vWeighting(sigma: ArrayLike<number>): Float32Array {
  return edmWeighting(sigma, 1);
}

/** Graph form of `vWeighting`. */
export function vWeightingGraph(sigma: SymTensor): SymTensor {
  return edmWeightingGraph(sigma, 1);
}

// --- EpsWeighting ---------------------------------------------------------------------------------------------------

/** `EpsWeighting`: `σ^−2` (torch computes `1/(σ·σ)`). */
export function epsWeighting(sigma: ArrayLike<number>): Float32Array {
  const out = new Float32Array(sigma.length);
  for (let i = 0; i < sigma.length; i++) {
    const s = f32(sigma[i]);
    out[i] = 1 / f32(s * s);
  }
  return out;
}

/** Graph form of `epsWeighting`. */
export function epsWeightingGraph(sigma: SymTensor): SymTensor {
  return op.div(1, op.mul(sigma, sigma));
}

// --- UnitWeighting --------------------------------------------------------------------------------------------------

/** `UnitWeighting`: 1. */
export function unitWeighting(sigma: ArrayLike<number>): Float32Array {
  return new Float32Array(sigma.length).fill(1);
}

/** Graph form of `unitWeighting`: ones with the shape of σ. */
export function unitWeightingGraph(sigma: SymTensor): SymTensor {
  return op.expand(sigma.builder.constant(1, sigma.dtype), sigma.shape);
}

// --- The descriptor -------------------------------------------------------------------------------------------------

/** The host form of a weighting. */
export function hostLossWeighting(config: LossWeightingConfig): LossWeighting {
  switch (config.kind) {
    case 'v':
      return vWeighting;
    case 'edm':
      return (sigma) => edmWeighting(sigma, config.sigmaData);
    case 'eps':
      return epsWeighting;
    case 'unit':
      return unitWeighting;
  }
}

/** The graph form of a weighting. */
export function graphLossWeighting(config: LossWeightingConfig): GraphLossWeighting {
  switch (config.kind) {
    case 'v':
      return vWeightingGraph;
    case 'edm':
      return (sigma) => edmWeightingGraph(sigma, config.sigmaData);
    case 'eps':
      return epsWeightingGraph;
    case 'unit':
      return unitWeightingGraph;
  }
}

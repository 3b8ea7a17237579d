/**
 * sgm `sgm/modules/diffusionmodules/loss.py::StandardDiffusionLoss` (L2) as a graph, from the graph forms of the
 * scaling (./scalings.ts, via `denoiseGraph`) and the loss weighting (./loss-weighting.ts):
 *   x_noisy = x0 + noise·σ;  D = F(c_in·x_noisy, c_noise)·c_out + x_noisy·c_skip;  w = λ(σ);
 *   loss_per_sample = mean over the non-batch dims of w·(D − x0)²;  loss = mean over the batch (DiffusionEngine.forward).
 * SVD's defaults: `VScalingWithEDMcNoise` and `VWeighting`. σ is drawn by the caller (see `edmSigmaSampling`).
 */
import type { SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';
import { denoiseGraph, type GraphNetwork } from './denoiser.ts';
import { graphLossWeighting, type LossWeightingConfig, SVD_LOSS_WEIGHTING } from './loss-weighting.ts';
import { type ScalingConfig, SVD_SCALING } from './scalings.ts';

export interface DiffusionLossInputs {
  /** Clean latents [N, …]. */
  x0: SymTensor;
  /** Noise levels [N]. */
  sigma: SymTensor;
  /** Gaussian noise like x0. */
  noise: SymTensor;
}

export interface DiffusionLossOptions {
  /** The denoiser's preconditioning (default SVD's `VScalingWithEDMcNoise`). */
  scaling?: ScalingConfig;
  /** λ(σ) (default SVD's `VWeighting`). */
  weighting?: LossWeightingConfig;
}

export interface DiffusionLossOutputs {
  /** Mean of `perSample` (a scalar). */
  loss: SymTensor;
  /** [N]. */
  perSample: SymTensor;
  /** D(x_noisy, σ) [N, …]. */
  denoised: SymTensor;
}

/**
 * The loss graph around `network(xScaled, cNoise)` (the wrapped UNet: it concatenates the conditioning latent and
 * takes the rest of the conditioning itself).
 */
export function standardDiffusionLoss(
  network: GraphNetwork,
  inputs: DiffusionLossInputs,
  options: DiffusionLossOptions = {},
): DiffusionLossOutputs {
  const { x0, sigma, noise } = inputs;
  const { scaling = SVD_SCALING, weighting = SVD_LOSS_WEIGHTING } = options;
  const n = x0.shape[0];
  const s = op.reshape(sigma, [n, ...new Array(x0.rank - 1).fill(1)]); // [N] -> [N, 1, …] (append_dims)
  const noisy = op.add(x0, op.mul(noise, s));
  const denoised = denoiseGraph(network, noisy, sigma, scaling);
  const w = graphLossWeighting(weighting)(s);
  const diff = op.sub(denoised, x0);
  const perSample = op.mean(op.reshape(op.mul(w, op.mul(diff, diff)), [n, -1]), 1); // [N]
  return { loss: op.mean(perSample), perSample, denoised };
}

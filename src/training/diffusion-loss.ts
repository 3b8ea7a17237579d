/**
 * sgm `StandardDiffusionLoss` with `VScalingWithEDMcNoise` and `VWeighting`, as a graph (svd-spec.md §1.5, §4.1):
 *   x_noisy = x0 + noise·σ;  (c_skip, c_out, c_in, c_noise) = (1/(σ²+1), −σ/√(σ²+1), 1/√(σ²+1), ¼·ln σ);
 *   D = F(c_in·x_noisy, c_noise)·c_out + x_noisy·c_skip;  w = (σ²+1)/σ²;
 *   loss_per_sample = mean over non-batch dims of w·(D − x0)²;  loss = mean over the batch (DiffusionEngine.forward).
 * `network(xScaled, cNoise)` builds the wrapped UNet (OpenAIWrapper concatenates the conditioning latent itself).
 */
import type { SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';

export interface DiffusionLossInputs {
  /** Clean latents [N, C, h, w]. */
  x0: SymTensor;
  /** Noise levels [N]. */
  sigma: SymTensor;
  /** Gaussian noise like x0. */
  noise: SymTensor;
}

export interface DiffusionLossOutputs {
  loss: SymTensor;
  perSample: SymTensor;
  denoised: SymTensor;
}

export function vScalingEdmCNoise(sigma: SymTensor) {
  const s2p1 = op.add(op.mul(sigma, sigma), 1);
  const root = op.sqrt(s2p1);
  return {
    cSkip: op.div(1, s2p1),
    cOut: op.div(op.neg(sigma), root),
    cIn: op.div(1, root),
    cNoise: op.mul(op.log(sigma), 0.25),
  };
}

export function standardDiffusionLoss(
  network: (xScaled: SymTensor, cNoise: SymTensor) => SymTensor,
  inputs: DiffusionLossInputs,
): DiffusionLossOutputs {
  const { x0, sigma, noise } = inputs;
  const n = x0.shape[0];
  const dims = [n, ...new Array(x0.rank - 1).fill(1)];
  const s = op.reshape(sigma, dims); // [N] -> [N, 1, 1, 1]
  const noisy = op.add(x0, op.mul(noise, s));
  const c = vScalingEdmCNoise(s);
  const out = network(op.mul(noisy, c.cIn), op.reshape(c.cNoise, [n]));
  const denoised = op.add(op.mul(out, c.cOut), op.mul(noisy, c.cSkip));
  const s2 = op.mul(s, s);
  const w = op.div(op.add(s2, 1), s2); // VWeighting: (σ² + 1)/σ²
  const diff = op.sub(denoised, x0);
  const perSample = op.mean(op.reshape(op.mul(w, op.mul(diff, diff)), [n, -1]), 1); // [N]
  return { loss: op.mean(perSample), perSample, denoised };
}

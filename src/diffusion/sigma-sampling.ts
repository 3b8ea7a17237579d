/**
 * Training noise levels: sgm `sgm/modules/diffusionmodules/sigma_sampling.py::EDMSampling` (Karras et al. 2022:
 * ln σ ~ N(P_mean, P_std²)). The normals are an input (the caller draws them from its own RNG stream), as the reference
 * allows with its `rand` argument.
 */
import { f32 } from './float32.ts';

/** σ = exp(p_mean + p_std·z) per normal z, float32 (`(p_mean + p_std * rand).exp()`). */
export function edmSigmaSampling(normals: ArrayLike<number>, pMean = -1.2, pStd = 1.2): Float32Array {
  const out = new Float32Array(normals.length);
  const mean = f32(pMean);
  const std = f32(pStd);
  for (let i = 0; i < normals.length; i++) out[i] = Math.exp(f32(f32(std * f32(normals[i])) + mean));
  return out;
}

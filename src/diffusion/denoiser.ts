/**
 * The denoiser contract of k-diffusion (`layers.Denoiser`) and sgm (`sgm/modules/diffusionmodules/denoiser.py::
 * Denoiser`): a function of a noisy batch and its per-sample noise levels that returns the estimate of the clean data.
 * Samplers (./samplers.ts) and guiders (./guiders.ts) only see this contract; the network behind it is a callback.
 */
import type { SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';
import { graphScaling, hostScaling, type Scaling, type ScalingConfig, SVD_SCALING } from './scalings.ts';

/**
 * `D(x, σ)`: x is a batch of N samples stored row by row (`[N, …]` flattened, N = sigma.length), σ one noise level
 * per sample; returns the denoised estimate x̂₀ with the shape of x. It must not modify its arguments.
 */
export type Denoiser = (x: Float32Array, sigma: Float32Array) => Promise<Float32Array>;

/**
 * The raw network F: the preconditioned input `c_in·x` ([N, …]) and the noise input `c_noise` ([N]) to an output with
 * the shape of x (the v-prediction for SVD). `extra` carries whatever the caller passes through the denoiser (for the
 * CFG batch: the index of its first row, see ./guiders.ts).
 */
export type Network<Extra extends unknown[] = []> = (
  xScaled: Float32Array,
  cNoise: Float32Array,
  ...extra: Extra
) => Promise<Float32Array>;

/** Number of elements per sample of a batch x with one σ per sample. */
export function rowSize(x: Float32Array, sigma: ArrayLike<number>, what = 'denoiser'): number {
  const n = sigma.length;
  if (n === 0 || x.length % n !== 0) {
    throw new RangeError(`${what}: x has ${x.length} elements, not a whole number of rows for ${n} noise levels`);
  }
  return x.length / n;
}

/** The graph form of the network F: `c_in·x` ([N, …]) and `c_noise` ([N]) → an output with the shape of x. */
export type GraphNetwork = (xScaled: SymTensor, cNoise: SymTensor) => SymTensor;

/**
 * sgm `Denoiser.forward` around `network`: `network(x·c_in, c_noise)·c_out + x·c_skip`, with the factors of `scaling`
 * (a descriptor or a host form; default `VScalingWithEDMcNoise`, SVD's) broadcast per sample, each product and the sum
 * rounded to float32 as torch does. The host form; `denoiseGraph` is the graph form.
 */
export function makeVDenoiser<Extra extends unknown[] = []>(
  network: Network<Extra>,
  scaling: ScalingConfig | Scaling = SVD_SCALING,
): (x: Float32Array, sigma: Float32Array, ...extra: Extra) => Promise<Float32Array> {
  const factors = typeof scaling === 'function' ? scaling : hostScaling(scaling);
  return async (x, sigma, ...extra) => {
    const size = rowSize(x, sigma);
    const { cSkip, cOut, cIn, cNoise } = factors(sigma);
    const xScaled = new Float32Array(x.length);
    for (let r = 0, i = 0; r < sigma.length; r++) {
      const c = cIn[r];
      for (let end = i + size; i < end; i++) xScaled[i] = x[i] * c;
    }
    const raw = await network(xScaled, cNoise, ...extra);
    if (raw.length !== x.length) {
      throw new RangeError(`denoiser: the network returned ${raw.length} elements for an input of ${x.length}`);
    }
    const denoised = new Float32Array(x.length);
    for (let r = 0, i = 0; r < sigma.length; r++) {
      const out = cOut[r];
      const skip = cSkip[r];
      for (let end = i + size; i < end; i++) denoised[i] = Math.fround(raw[i] * out) + Math.fround(x[i] * skip);
    }
    return denoised;
  };
}

/**
 * The graph form of sgm `Denoiser.forward`: x [N, …] and σ [N] → `network(x·c_in, c_noise)·c_out + x·c_skip`, the
 * factors computed on σ reshaped to [N, 1, …] (`append_dims`) and c_noise fed as [N].
 */
export function denoiseGraph(
  network: GraphNetwork,
  x: SymTensor,
  sigma: SymTensor,
  scaling: ScalingConfig = SVD_SCALING,
): SymTensor {
  const n = x.shape[0];
  if (sigma.rank !== 1 || sigma.shape[0] !== n) {
    throw new RangeError(`denoiseGraph: σ must be [${n}] for x of shape [${x.shape}], got [${sigma.shape}]`);
  }
  const c = graphScaling(scaling)(op.reshape(sigma, [n, ...new Array(x.rank - 1).fill(1)]));
  const out = network(op.mul(x, c.cIn), op.reshape(c.cNoise, [n]));
  if (out.shape.length !== x.rank || out.shape.some((d, i) => d !== x.shape[i])) {
    throw new RangeError(`denoiseGraph: the network returned [${out.shape}] for an input of [${x.shape}]`);
  }
  return op.add(op.mul(out, c.cOut), op.mul(x, c.cSkip));
}

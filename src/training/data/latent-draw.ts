/**
 * Drawing a latent from cached VAE posterior moments, as sgm's `DiagonalGaussianDistribution` does it
 * (`sgm/modules/distributions/distributions.py`): logvar clamped to [−30, 20], std = exp(logvar/2),
 * z = mean + std·ε with ε ~ N(0, 1). Here ε comes from the project's Philox RNG, keyed by (seed, stream), so a run
 * that reads moments from the cache draws a new latent every epoch and the same one when it is resumed.
 * The result is the unscaled latent; the stage multiplies it by the first stage's scale factor (0.18215 for SVD).
 */
import { HostTensor } from '../../tensor/host-tensor.ts';
import { Rng } from '../../tensor/rng.ts';
import type { SamplePosition } from './sample-order.ts';

/** The RNG stream of the latent drawn for the sample at `position`. */
export function latentStream(position: SamplePosition): string {
  return `latent.${position.epoch}.${position.index}`;
}

/**
 * mean + exp(clamp(logvar, −30, 20)/2)·ε in float32, ε = standard normals 0… of `stream` under `seed` (a seed or an
 * `Rng`). `mean` and `logvar` must have the same shape.
 */
export function drawLatent(
  mean: HostTensor<'float32'>,
  logvar: HostTensor<'float32'>,
  seed: number | Rng,
  stream: string,
): HostTensor<'float32'> {
  if (mean.shape.join(',') !== logvar.shape.join(',')) {
    throw new RangeError(`mean [${mean.shape.join(', ')}] and logvar [${logvar.shape.join(', ')}] differ in shape`);
  }
  const rng = typeof seed === 'number' ? new Rng(seed) : seed;
  const eps = rng.normal(stream, mean.size);
  const m = mean.data;
  const lv = logvar.data;
  const out = new Float32Array(mean.size);
  for (let i = 0; i < out.length; i++) {
    const clamped = Math.min(20, Math.max(-30, lv[i]));
    const std = Math.fround(Math.exp(Math.fround(0.5 * clamped)));
    out[i] = m[i] + Math.fround(std * eps[i]);
  }
  return new HostTensor('float32', mean.shape, out);
}

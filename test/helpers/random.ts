/** Deterministic test data from the project's counter-based RNG. */
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { numel, type Shape } from '../../src/tensor/shape.ts';

let counter = 0;

/** N(0,1)·scale + shift, float32; each call draws a fresh stream. */
export function randn(shape: Shape, scale = 1, shift = 0, seed = 7): HostTensor<'float32'> {
  const t = new Rng(seed).randn(`test-${counter++}`, shape);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i] * scale + shift;
  return t;
}

/** Uniform in (lo, hi), float32. */
export function uniform(shape: Shape, lo = 0, hi = 1, seed = 7): HostTensor<'float32'> {
  const u = new Rng(seed).uniform(`test-${counter++}`, numel(shape));
  for (let i = 0; i < u.length; i++) u[i] = lo + (hi - lo) * u[i];
  return new HostTensor('float32', shape, u);
}

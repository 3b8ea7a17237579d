/**
 * sgm `diffusionmodules.util.timestep_embedding(t, dim, max_period=10000)`: cos first,
 * `[cos(t·f_0..f_{h−1}), sin(t·f_0..f_{h−1})]`, `f_j = exp(−ln(max_period)·j/h)`, h = dim/2, zero-padded when dim is
 * odd. The reference computes `freqs` and `t·freqs` in float32; so do we (frequencies rounded to float32 on the host,
 * the product in the graph), which keeps large arguments (fps and motion ids, frame indices) within 1e-6.
 */
import type { SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';
import { HostTensor } from '../tensor/host-tensor.ts';

/** The float32 frequencies of the reference: exp(−ln(maxPeriod)·j/half) for j < half. */
export function timestepFrequencies(half: number, maxPeriod = 10000): Float32Array {
  const f = new Float32Array(half);
  // torch: (−ln(max_period) · arange(half, float32)) / half, each step rounded to float32, then float32 exp.
  const negLog = Math.fround(-Math.log(maxPeriod));
  for (let j = 0; j < half; j++) f[j] = Math.exp(Math.fround(Math.fround(negLog * j) / half));
  return f;
}

/** t [N] (float32) → [N, dim]. */
export function timestepEmbedding(t: SymTensor, dim: number, maxPeriod = 10000): SymTensor {
  const half = Math.floor(dim / 2);
  const freqs = t.builder.constant(new HostTensor('float32', [1, half], timestepFrequencies(half, maxPeriod)));
  const args = op.mul(op.reshape(t, [t.shape[0], 1]), freqs); // [N, half]
  let emb = op.concat([op.cos(args), op.sin(args)], 1);
  if (dim % 2 === 1) emb = op.pad(emb, [0, 0, 0, 1]);
  return emb;
}

/**
 * Initial LoRA factors (Hu et al., arXiv 2106.09685, §4.1: "random Gaussian initialization for A and zero for B, so
 * ΔW = BA is zero at the beginning of training"). As in Microsoft's loralib and kohya's sd-scripts, A = `down` is
 * drawn from torch's `kaiming_uniform_(a=√5)`, i.e. U(−1/√fan_in, 1/√fan_in) with fan_in = in·∏k (the product of
 * down's dims after the first), and B = `up` is zero — so an untrained LoRA changes nothing, exactly.
 * Draws come from the project's Philox RNG (`src/tensor/rng.ts`), stream = the factor's name: a pure function of
 * (seed, name), whatever the order or number of adapters.
 */
import { HostTensor } from '../tensor/host-tensor.ts';
import { Rng } from '../tensor/rng.ts';
import { numel } from '../tensor/shape.ts';
import { type LoraSet, loraFactorShapes } from './lora.ts';

/** Factor name → initial value (float32) for every adapter of `set`. */
export function initLora(set: LoraSet, seed: number): Map<string, HostTensor> {
  const rng = new Rng(seed);
  const out = new Map<string, HostTensor>();
  for (const a of set.adapters) {
    const { down, up } = loraFactorShapes(a.shape, a.rank);
    const bound = 1 / Math.sqrt(numel(down) / a.rank);
    const t = rng.rand(a.down, down);
    for (let i = 0; i < t.data.length; i++) t.data[i] = (2 * t.data[i] - 1) * bound;
    out.set(a.down, t);
    out.set(a.up, HostTensor.zeros('float32', up));
  }
  return out;
}

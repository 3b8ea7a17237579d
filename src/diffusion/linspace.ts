/**
 * `torch.linspace(start, end, steps)` in float32, bit for bit as PyTorch 1.13 computes it on the CPU
 * (`aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp::linspace_kernel`). The reference golden vectors were made this
 * way, and both the EDM schedule (`EDMDiscretization`: its ramp) and the per-frame guidance scales
 * (`LinearPredictionGuider`, `TrianglePredictionGuider`) start from it.
 *
 * The kernel computes `step = (end − start) / (steps − 1)` in float32 and element i as `start + step·i` below
 * `halfway = ⌊steps/2⌋`, `end − step·(steps − 1 − i)` from there on (so both ends are exact). How each element is
 * rounded depends on the loop that produced it, as dispatched on an AVX2 machine:
 * - the vector loop (8 float lanes, two vectors per iteration, so the first 16·⌊steps/16⌋ elements) computes a base
 *   per 8-lane vector with the formula above and the lanes as `base + k·step` (k = 0..7), rounding the product and
 *   the sum separately (`Vectorized<float>::arange`);
 * - the scalar tail computes the formula with a fused multiply-add (one rounding).
 * These details were confirmed against `golden/schedules.json`: they reproduce all 4/25/30-step sigmas and all
 * linear and triangle guider scales bit for bit, while a plain `start + step·i` formula misses 3 of the 25-step
 * sigmas and 2 triangle scales.
 */
import { f32, fmaF32 } from './float32.ts';

const LANES = 8; // float32 lanes of an AVX2 vector
const UNROLL = 2; // vectors per iteration of ATen's vectorized_loop

export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  if (!Number.isInteger(steps) || steps < 0)
    throw new RangeError(`linspace: steps must be an integer ≥ 0, got ${steps}`);
  const out = new Float32Array(steps);
  const s = f32(start);
  const e = f32(end);
  if (steps === 0) return out;
  if (steps === 1) {
    out[0] = s; // torch fills with start
    return out;
  }
  const step = f32((e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  // The kernel's own formula, contracted to one rounding.
  const at = (i: number): number => (i < halfway ? fmaF32(step, i, s) : fmaF32(-step, steps - i - 1, e));

  const vectorEnd = steps - (steps % (LANES * UNROLL));
  for (let base = 0; base < vectorEnd; base += LANES) {
    const b = at(base);
    for (let k = 0; k < LANES; k++) out[base + k] = b + f32(k * step);
  }
  for (let i = vectorEnd; i < steps; i++) out[i] = at(i);
  return out;
}

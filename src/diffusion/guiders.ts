/**
 * Classifier-free guidance on the denoised estimate: sgm `sgm/modules/diffusionmodules/guiders.py`. A guider maps the
 * denoised CFG batch `[uncond; cond]` (2N rows, the unconditional half first, as `prepare_inputs` concatenates it)
 * to N rows `x_u + s·(x_c − x_u)`. `guidedDenoiser` turns a denoiser of that batch back into a plain `Denoiser`,
 * the way k-diffusion wraps one denoiser in another.
 */
import { type Denoiser, rowSize } from './denoiser.ts';
import { f32 } from './float32.ts';
import { torchLinspaceF32 } from './linspace.ts';

/** `guider(x, sigma)`: the denoised CFG batch [2N, …] and its noise levels [2N] → the guided estimate [N, …]. */
export type Guider = (denoised: Float32Array, sigma: Float32Array) => Float32Array;

/**
 * A denoiser of (part of) the CFG batch: x holds the rows `firstRow … firstRow + sigma.length − 1` of `[uncond; cond]`
 * (rows below N are unconditional, the others conditional), so the callback knows which conditioning each row takes.
 */
export type CfgDenoiser = (x: Float32Array, sigma: Float32Array, firstRow: number) => Promise<Float32Array>;

/** `x_u + scale_r·(x_c − x_u)` for every row r of the output, float32 in the reference's order. */
function combine(denoised: Float32Array, sigma: Float32Array, scaleOfRow: (row: number) => number): Float32Array {
  if (sigma.length % 2 !== 0)
    throw new RangeError(`guider: the CFG batch needs an even number of rows, got ${sigma.length}`);
  const size = rowSize(denoised, sigma, 'guider');
  const half = denoised.length / 2;
  const out = new Float32Array(half);
  for (let r = 0, i = 0; r < sigma.length / 2; r++) {
    const s = scaleOfRow(r);
    for (let end = i + size; i < end; i++) {
      const u = denoised[i];
      out[i] = u + f32(s * f32(denoised[half + i] - u));
    }
  }
  return out;
}

/** `VanillaCFG(scale)`: one scale for every row. */
export function vanillaCfg(scale: number): Guider {
  const s = f32(scale);
  return (denoised, sigma) => combine(denoised, sigma, () => s);
}

/**
 * A guider with one scale per frame: the N output rows are videos of T = scales.length frames, `(b t)` frame-major,
 * so row r takes `scales[r mod T]` (sgm `LinearPredictionGuider.__call__`).
 */
export function perFrameGuider(scales: Float32Array): Guider {
  const frames = scales.length;
  return (denoised, sigma) => {
    const rows = sigma.length / 2;
    if (frames === 0 || rows % frames !== 0) {
      throw new RangeError(`guider: ${rows} rows are not a whole number of ${frames}-frame videos`);
    }
    return combine(denoised, sigma, (r) => scales[r % frames]);
  };
}

/** `torch.linspace(min_scale, max_scale, num_frames)` in float32 (svd: 1.0 → 2.5 over 14; svd_xt: 1.5 → 3.0 over 25). */
export function linearGuiderScales(minScale: number, maxScale: number, numFrames: number): Float32Array {
  return torchLinspaceF32(minScale, maxScale, numFrames);
}

export type PeriodFusing = 'max' | 'mean' | 'multiply';

/**
 * `TrianglePredictionGuider` scales: `v = linspace(0, 1, T)`, per period p `tri = 2·|v/p − floor(v/p + 0.5)|`, the
 * periods fused (max by default), then `tri·(max − min) + min`; min at both ends and max in the middle for p = 1.
 */
export function triangleGuiderScales(
  minScale: number,
  maxScale: number,
  numFrames: number,
  period: number | readonly number[] = 1,
  periodFusing: PeriodFusing = 'max',
): Float32Array {
  const periods = typeof period === 'number' ? [period] : period;
  if (periods.length === 0) throw new RangeError('triangleGuiderScales: at least one period is needed');
  const values = torchLinspaceF32(0, 1, numFrames);
  const waves = periods.map((p) => {
    const pf = f32(p);
    return values.map((v) => {
      const q = f32(v / pf);
      return 2 * Math.abs(f32(q - Math.floor(f32(q + 0.5))));
    });
  });
  const fused = new Float32Array(numFrames);
  for (let t = 0; t < numFrames; t++) {
    let acc: number;
    if (periodFusing === 'max') {
      acc = waves[0][t];
      for (const w of waves) acc = Math.max(acc, w[t]);
    } else if (periodFusing === 'mean') {
      acc = 0; // Python's sum(scales) starts from 0, then divides by len(period)
      for (const w of waves) acc = f32(acc + w[t]);
      acc = f32(acc / waves.length);
    } else {
      acc = 1;
      for (const w of waves) acc = f32(acc * w[t]);
    }
    fused[t] = acc;
  }
  const range = f32(maxScale - minScale); // Python float, rounded by the tensor op
  const min = f32(minScale);
  return fused.map((tri) => f32(tri * range) + min);
}

/** `LinearPredictionGuider(max_scale, num_frames, min_scale)`: frame t of every video gets `linspace(min, max, T)[t]`. */
export function linearPredictionGuider(minScale: number, maxScale: number, numFrames: number): Guider {
  return perFrameGuider(linearGuiderScales(minScale, maxScale, numFrames));
}

/** `TrianglePredictionGuider(max_scale, num_frames, min_scale, period, period_fusing)` (SV3D). */
export function trianglePredictionGuider(
  minScale: number,
  maxScale: number,
  numFrames: number,
  period: number | readonly number[] = 1,
  periodFusing: PeriodFusing = 'max',
): Guider {
  return perFrameGuider(triangleGuiderScales(minScale, maxScale, numFrames, period, periodFusing));
}

export interface GuidedDenoiserOptions {
  /**
   * Evaluate the unconditional and the conditional half in two calls (N rows each) instead of one call on 2N rows.
   * The result is identical when the network treats rows (videos) independently, as the UNet does; it halves the
   * peak memory of a step.
   */
  split?: boolean;
}

/**
 * The sampler-side `denoise` of sgm (`BaseDiffusionSampler.denoise`): builds the batch `[x; x]` with noise levels
 * `[σ; σ]`, denoises it with `batchDenoiser` and applies `guider`.
 */
export function guidedDenoiser(
  batchDenoiser: CfgDenoiser,
  guider: Guider,
  options: GuidedDenoiserOptions = {},
): Denoiser {
  return async (x, sigma) => {
    rowSize(x, sigma, 'guidedDenoiser');
    const rows = sigma.length;
    const sigma2 = new Float32Array(2 * rows);
    sigma2.set(sigma);
    sigma2.set(sigma, rows);
    const denoised = new Float32Array(2 * x.length);
    if (options.split) {
      const uncond = await batchDenoiser(x, sigma, 0);
      checkLength(uncond, x.length);
      denoised.set(uncond);
      const cond = await batchDenoiser(x, sigma, rows);
      checkLength(cond, x.length);
      denoised.set(cond, x.length);
    } else {
      const batch = new Float32Array(2 * x.length);
      batch.set(x);
      batch.set(x, x.length);
      const both = await batchDenoiser(batch, sigma2, 0);
      checkLength(both, batch.length);
      denoised.set(both);
    }
    return guider(denoised, sigma2);
  };
}

/**
 * Without guidance (sgm `IdentityGuider`): only the conditional rows are evaluated, i.e. `batchDenoiser` is called on
 * x as rows N … 2N − 1 of the CFG batch.
 */
export function conditionalDenoiser(batchDenoiser: CfgDenoiser): Denoiser {
  return async (x, sigma) => {
    rowSize(x, sigma, 'conditionalDenoiser');
    const out = await batchDenoiser(x, sigma, sigma.length);
    checkLength(out, x.length);
    return out;
  };
}

function checkLength(out: Float32Array, expected: number): void {
  if (out.length !== expected) {
    throw new RangeError(`guidedDenoiser: the batch denoiser returned ${out.length} elements, expected ${expected}`);
  }
}

/**
 * The image pyramid of OpenCV's Farneback (`calcOpticalFlowFarneback`, modules/video/src/optflowgf.cpp): level k is
 * not built from level k−1 but from the full-resolution frame, smoothed with a Gaussian of σ = (1/scale − 1)/2 (kernel
 * size round(5σ) | 1, at least 3; σ = 0 at level 0 means OpenCV's fixed 3-tap kernel [¼ ½ ¼]) with reflect-101
 * borders, then resized bilinearly (half-pixel centres, edge-clamped) to round(size·scale).
 *
 * Both steps are separable linear filters, so each output axis is one precomputed sparse filter (an {@link AxisPlan}:
 * the bilinear taps composed with the Gaussian taps, borders folded in) and only the rows and columns the resize
 * reads are ever smoothed: level 3 (1/8 size, a 19-tap kernel) costs a few percent of a full-frame blur.
 */

/** Round half to even, as OpenCV's `cvRound` on x86 (SSE2 conversion in the default rounding mode). */
export function cvRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** One pyramid level: its size, the scale relative to the frame and the smoothing applied before the resize. */
export interface PyramidLevel {
  width: number;
  height: number;
  scale: number;
  /** Gaussian σ; 0 means OpenCV's fixed kernel for `ksize`. */
  sigma: number;
  ksize: number;
}

/** OpenCV stops adding levels once a side would fall below this many pixels. */
export const MIN_LEVEL_SIZE = 32;

/**
 * The levels Farneback uses on a width×height frame: index 0 is the full frame, the last the coarsest. At most
 * `levels` + 1 of them; fewer when a side would drop below {@link MIN_LEVEL_SIZE} (a 64-pixel frame gets 2).
 */
export function pyramidLevels(width: number, height: number, pyrScale: number, levels: number): PyramidLevel[] {
  let used = 0;
  for (let scale = 1; used < levels; used++) {
    scale *= pyrScale;
    if (width * scale < MIN_LEVEL_SIZE || height * scale < MIN_LEVEL_SIZE) break;
  }
  const out: PyramidLevel[] = [];
  for (let k = 0; k <= used; k++) {
    let scale = 1;
    for (let i = 0; i < k; i++) scale *= pyrScale;
    const sigma = (1 / scale - 1) * 0.5;
    const ksize = Math.max(cvRound(sigma * 5) | 1, 3);
    out.push({ width: cvRound(width * scale), height: cvRound(height * scale), scale, sigma, ksize });
  }
  return out;
}

/**
 * The separable Gaussian kernel OpenCV's `getGaussianKernel(ksize, sigma, CV_32F)` returns, as float32 values: the
 * fixed binomial kernels for σ ≤ 0 and ksize ≤ 7, else exp(−x²/2σ²) normalised in double, then rounded to float32.
 */
export function gaussianKernel(ksize: number, sigma: number): Float64Array {
  const k = new Float64Array(ksize);
  const fixed = FIXED_KERNELS[ksize];
  if (sigma <= 0 && fixed !== undefined) {
    k.set(fixed);
    return k;
  }
  const s = sigma > 0 ? sigma : ((ksize - 1) * 0.5 - 1) * 0.3 + 0.8;
  let sum = 0;
  for (let i = 0; i < ksize; i++) {
    const x = i - (ksize - 1) * 0.5;
    k[i] = Math.exp((-x * x) / (2 * s * s));
    sum += k[i];
  }
  for (let i = 0; i < ksize; i++) k[i] = Math.fround(k[i] / sum);
  return k;
}

const FIXED_KERNELS: Record<number, number[]> = {
  1: [1],
  3: [0.25, 0.5, 0.25],
  5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
  7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
};

/** Reflect-101 border (OpenCV's `BORDER_DEFAULT`): …, 2, 1 | 0, 1, …, n−1 | n−2, … */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/**
 * One output axis of a resize as a sparse filter over source indices: output d = Σ_t weight[d·taps + t] ·
 * source[index[d·taps + t]]. Unused trailing taps have weight 0 and index 0.
 */
export interface AxisPlan {
  size: number;
  taps: number;
  index: Int32Array;
  weight: Float64Array;
}

/**
 * The bilinear taps of OpenCV's `resize(INTER_LINEAR)` from `src` to `dst` samples: source position
 * s = (d + ½)·src/dst − ½ (in float32, as OpenCV), split into i₀ = ⌊s⌋ and the fraction f; a position before the
 * first or past the last sample is clamped to it. value[d] = (1 − f)·x[i₀] + f·x[i₁], i₁ = min(i₀ + 1, src − 1).
 * The same size is the identity (OpenCV copies).
 */
export interface BilinearTaps {
  i0: Int32Array;
  i1: Int32Array;
  f: Float64Array;
}

export function bilinearTaps(src: number, dst: number): BilinearTaps {
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const f = new Float64Array(dst);
  const scale = 1 / (dst / src);
  for (let d = 0; d < dst; d++) {
    let i = d;
    let frac = 0;
    if (src !== dst) {
      const s = Math.fround((d + 0.5) * scale - 0.5);
      i = Math.floor(s);
      frac = Math.fround(s - i);
      if (i < 0) {
        i = 0;
        frac = 0;
      }
      if (i >= src - 1) {
        i = src - 1;
        frac = 0;
      }
    }
    i0[d] = i;
    i1[d] = Math.min(i + 1, src - 1);
    f[d] = frac;
  }
  return { i0, i1, f };
}

/**
 * The plan of "smooth with `kernel` (reflect-101), then resize `src` → `dst` samples bilinearly". With src = dst the
 * resize is the identity (OpenCV copies); an empty kernel means no smoothing.
 */
export function axisPlan(src: number, dst: number, kernel: Float64Array | undefined): AxisPlan {
  const bilinear = bilinearTaps(src, dst);
  const k = kernel ?? Float64Array.of(1);
  const half = (k.length - 1) >> 1;
  const fractional = bilinear.f.some((f) => f !== 0);
  const taps = (fractional ? 2 : 1) * k.length;
  const index = new Int32Array(dst * taps);
  const weight = new Float64Array(dst * taps);
  for (let d = 0; d < dst; d++) {
    const f = bilinear.f[d];
    let t = d * taps;
    for (const [centre, w] of [
      [bilinear.i0[d], 1 - f],
      [bilinear.i1[d], f],
    ]) {
      if (w === 0) continue;
      for (let j = 0; j < k.length; j++) {
        index[t] = reflect101(centre + j - half, src);
        weight[t++] = w * k[j];
      }
    }
  }
  return { size: dst, taps, index, weight };
}

/**
 * out[dy·w + dx] = Σ_ty Σ_tx wy·wx·src[iy·W + ix]: a separable sparse filter of a W×H float image to w×h, rows first
 * (each output row is one weighted sum of source rows, then the columns of that row are gathered). `row` is scratch
 * of at least W values.
 */
export function applyPlans(
  src: ArrayLike<number>,
  srcWidth: number,
  xs: AxisPlan,
  ys: AxisPlan,
  out: Float32Array,
  row: Float64Array,
): void {
  const w = xs.size;
  for (let dy = 0; dy < ys.size; dy++) {
    row.fill(0, 0, srcWidth);
    for (let t = dy * ys.taps, end = t + ys.taps; t < end; t++) {
      const wt = ys.weight[t];
      if (wt === 0) continue;
      const base = ys.index[t] * srcWidth;
      for (let x = 0; x < srcWidth; x++) row[x] += wt * src[base + x];
    }
    const o = dy * w;
    for (let dx = 0; dx < w; dx++) {
      let s = 0;
      for (let t = dx * xs.taps, end = t + xs.taps; t < end; t++) s += xs.weight[t] * row[xs.index[t]];
      out[o + dx] = s;
    }
  }
}

/**
 * Bilinear resize of an interleaved 2-channel field (a flow) from sw×sh to dw×dh, multiplied by `factor`: OpenCV's
 * `resize(prevFlow, flow, size, 0, 0, INTER_LINEAR); flow *= 1/pyrScale` between pyramid levels.
 */
export function resizeFlow(
  src: Float32Array,
  sw: number,
  sh: number,
  dst: Float32Array,
  dw: number,
  dh: number,
  factor: number,
  xs: BilinearTaps = bilinearTaps(sw, dw),
  ys: BilinearTaps = bilinearTaps(sh, dh),
): void {
  for (let dy = 0; dy < dh; dy++) {
    const fy = ys.f[dy];
    const r0 = ys.i0[dy] * sw * 2;
    const r1 = ys.i1[dy] * sw * 2;
    let o = dy * dw * 2;
    for (let dx = 0; dx < dw; dx++, o += 2) {
      const fx = xs.f[dx];
      const c0 = xs.i0[dx] * 2;
      const c1 = xs.i1[dx] * 2;
      const a = r0 + c0;
      const b = r0 + c1;
      const c = r1 + c0;
      const d = r1 + c1;
      dst[o] = ((1 - fy) * ((1 - fx) * src[a] + fx * src[b]) + fy * ((1 - fx) * src[c] + fx * src[d])) * factor;
      dst[o + 1] =
        ((1 - fy) * ((1 - fx) * src[a + 1] + fx * src[b + 1]) + fy * ((1 - fx) * src[c + 1] + fx * src[d + 1])) *
        factor;
    }
  }
}

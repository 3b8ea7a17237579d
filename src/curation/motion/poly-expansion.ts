/**
 * Polynomial expansion (Farnebäck 2003, §2; his thesis, ch. 4): each pixel's neighbourhood is fitted, by weighted
 * least squares with a Gaussian applicability, by f(x, y) ≈ r₁ + r₂x + r₃y + r₄x² + r₅y² + r₆xy. With a separable
 * Gaussian the fit is a set of separable correlations (1, x, x² along each axis) followed by a fixed 6×6 linear map,
 * the inverse of the applicability's Gram matrix G; only four entries of G⁻¹ are needed because the constant term is
 * not used by the flow.
 *
 * Details matched to OpenCV's `FarnebackPolyExp` (modules/video/src/optflowgf.cpp): the applicability is
 * exp(−x²/2σ²) for |x| ≤ n, normalised, rounded to float32 (σ = 0.3·n when σ is ~0); the neighbourhood is **n
 * pixels on each side** (poly_n = 5 is an 11×11 window); borders replicate the edge pixel in both directions.
 */

import { invertSmall } from '../../tensor/small-matrix.ts';

/** The correlation filters and the needed entries of G⁻¹ for applicability half-width n and σ. */
export interface PolyFilters {
  n: number;
  /** g[k], k·g[k], k²·g[k] for k = 0…n (the filters are symmetric or antisymmetric). */
  g: Float64Array;
  xg: Float64Array;
  xxg: Float64Array;
  /** G⁻¹ entries (basis order 1, x, y, x², y², xy): (x, x), (1, x²), (x², x²), (xy, xy). */
  ig11: number;
  ig03: number;
  ig33: number;
  ig55: number;
}

/** The filters of {@link polyExpand} for half-width `n` and Gaussian σ `sigma`. */
export function polyFilters(n: number, sigma: number): PolyFilters {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`poly_n must be a positive integer, got ${n}`);
  const s = sigma < 1.1920929e-7 ? n * 0.3 : sigma; // FLT_EPSILON
  const raw = new Float64Array(2 * n + 1);
  let sum = 0;
  for (let x = -n; x <= n; x++) {
    raw[x + n] = Math.fround(Math.exp((-x * x) / (2 * s * s)));
    sum += raw[x + n];
  }
  const g = new Float64Array(n + 1);
  const xg = new Float64Array(n + 1);
  const xxg = new Float64Array(n + 1);
  const inv = 1 / sum;
  for (let k = 0; k <= n; k++) {
    g[k] = Math.fround(raw[k + n] * inv);
    xg[k] = Math.fround(k * g[k]);
    xxg[k] = Math.fround(k * k * g[k]);
  }
  // Gram matrix of the basis (1, x, y, x², y², xy) under the separable applicability g(x)·g(y).
  const gAt = (x: number) => g[Math.abs(x)];
  let m00 = 0;
  let m11 = 0;
  let m33 = 0;
  let m55 = 0;
  for (let y = -n; y <= n; y++) {
    for (let x = -n; x <= n; x++) {
      const w = gAt(y) * gAt(x);
      m00 += w;
      m11 += w * x * x;
      m33 += w * x * x * x * x;
      m55 += w * x * x * y * y;
    }
  }
  const G = [
    [m00, 0, 0, m11, m11, 0],
    [0, m11, 0, 0, 0, 0],
    [0, 0, m11, 0, 0, 0],
    [m11, 0, 0, m33, m55, 0],
    [m11, 0, 0, m55, m33, 0],
    [0, 0, 0, 0, 0, m55],
  ];
  const gi = invertSmall(G);
  return { n, g, xg, xxg, ig11: gi[1][1], ig03: gi[0][3], ig33: gi[3][3], ig55: gi[5][5] };
}

/** Scratch rows for {@link polyExpand}: three padded rows of the vertical pass. */
export interface PolyScratch {
  c0: Float64Array;
  c1: Float64Array;
  c2: Float64Array;
}

export function polyScratch(width: number, n: number): PolyScratch {
  const len = width + 2 * n;
  return { c0: new Float64Array(len), c1: new Float64Array(len), c2: new Float64Array(len) };
}

/**
 * Polynomial expansion of a width×height float image into `out` (5 float32 per pixel, interleaved, OpenCV's order):
 * [r₃ (y), r₂ (x), r₄ (x²), r₅ (y²), r₆ (xy)]. Separable: per row, a vertical pass (1, y, y² moments over rows
 * y−n…y+n, edge rows replicated) into three padded rows, then a horizontal pass (six moments) and the G⁻¹ map.
 */
export function polyExpand(
  src: Float32Array,
  width: number,
  height: number,
  f: PolyFilters,
  out: Float32Array,
  scratch: PolyScratch,
): void {
  const { n, g, xg, xxg, ig11, ig03, ig33, ig55 } = f;
  const { c0, c1, c2 } = scratch;
  const g0 = g[0];
  for (let y = 0; y < height; y++) {
    const row = y * width;
    // vertical moments: c0 = Σ g·I, c1 = Σ k·g·(I(y+k) − I(y−k)), c2 = Σ k²·g·(I(y+k) + I(y−k))
    for (let x = 0; x < width; x++) {
      c0[n + x] = src[row + x] * g0;
      c1[n + x] = 0;
      c2[n + x] = 0;
    }
    for (let k = 1; k <= n; k++) {
      const up = Math.max(y - k, 0) * width;
      const down = Math.min(y + k, height - 1) * width;
      const gk = g[k];
      const xgk = xg[k];
      const xxgk = xxg[k];
      for (let x = 0; x < width; x++) {
        const a = src[up + x];
        const b = src[down + x];
        const p = a + b;
        c0[n + x] += gk * p;
        c1[n + x] += xgk * (b - a);
        c2[n + x] += xxgk * p;
      }
    }
    // replicate the edge columns into the padding
    for (let k = 0; k < n; k++) {
      c0[k] = c0[n];
      c1[k] = c1[n];
      c2[k] = c2[n];
      c0[n + width + k] = c0[n + width - 1];
      c1[n + width + k] = c1[n + width - 1];
      c2[n + width + k] = c2[n + width - 1];
    }
    // horizontal moments and the G⁻¹ map
    for (let x = 0; x < width; x++) {
      const c = n + x;
      let b1 = c0[c] * g0; // 1
      let b2 = 0; // x
      let b3 = c1[c] * g0; // y
      let b4 = 0; // x²
      let b5 = c2[c] * g0; // y²
      let b6 = 0; // xy
      for (let k = 1; k <= n; k++) {
        const l = c - k;
        const r = c + k;
        const s0 = c0[r] + c0[l];
        b1 += s0 * g[k];
        b4 += s0 * xxg[k];
        b2 += (c0[r] - c0[l]) * xg[k];
        b3 += (c1[r] + c1[l]) * g[k];
        b6 += (c1[r] - c1[l]) * xg[k];
        b5 += (c2[r] + c2[l]) * g[k];
      }
      const o = (row + x) * 5;
      out[o] = b3 * ig11;
      out[o + 1] = b2 * ig11;
      out[o + 2] = b1 * ig03 + b4 * ig33;
      out[o + 3] = b1 * ig03 + b5 * ig33;
      out[o + 4] = b6 * ig55;
    }
  }
}

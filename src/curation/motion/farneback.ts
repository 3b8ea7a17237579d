/**
 * Dense optical flow by Farnebäck's two-frame method (G. Farnebäck, "Two-Frame Motion Estimation Based on Polynomial
 * Expansion", SCIA 2003), the algorithm of OpenCV's `calcOpticalFlowFarneback` that the curation anchors call.
 *
 * Both frames are expanded, at every pyramid level, into local quadratic polynomials f(x) ≈ xᵀAx + bᵀx + c
 * (poly-expansion.ts). A displacement d turns f₁ into f₂(x) = f₁(x − d), so b₂ = b₁ − 2A·d: per pixel,
 * A·d = ½(b₁ − b₂) (§3). With an a-priori displacement d̃ (the upsampled coarser level, then the previous iteration)
 * the right side is ½(b₁(x) − b₂(x + d̃)) + A·d̃, with A the mean of both frames' A at x and x + d̃ (§4, §5). The
 * equations are pooled over a window w (normal equations Σ w·AᵀA · d = Σ w·AᵀΔb, §4) and solved for each pixel;
 * coarse to fine over the pyramid, `iterations` times per level.
 *
 * Matched to OpenCV 4.x (modules/video/src/optflowgf.cpp, read for its constants and conventions; this is a separate
 * implementation): the pyramid of pyramid.ts; a pixel whose displaced position x + d̃ leaves the interior (its
 * bilinear 2×2 support) uses b₂ = 0 and A₁ alone; the equations of the 5 pixels nearest each border are weighted by
 * 0.14, 0.14, 0.4472, 0.4472, 0.4472 (per axis, multiplied); the box window is (2·⌊w/2⌋ + 1)² with replicated
 * borders and sums normalised by 1/w²; the 2×2 solve adds 1e-3 to the determinant. Flows agree with
 * OpenCV 4.6's to ~1e-6 px (test/curation/motion/vectors.test.ts).
 *
 * NOTE: the last row and column never have the 2×2 bilinear support, so they always take the "outside" branch: two
 * identical frames get a small flow along the bottom and right edges (max 0.05 px on an 80×64 texture, spread by the
 * window and the pyramid), and a static clip scores ~1e-5, not 0 — as in OpenCV 4.6.
 *
 * NOTE: the 2×2 solve is OpenCV's closed form adj(G)·h / (det G + 10⁻³), not a least-norm solution: where the
 * texture is one-dimensional (det G ≈ 0) the flow is ≈ 0 even along the direction that is determined, e.g. stripes
 * moving across themselves get no flow at all (OpenCV 4.6 does the same: the `stripes` vector).
 */

import { type PolyFilters, type PolyScratch, polyExpand, polyFilters, polyScratch } from './poly-expansion.ts';
import {
  type AxisPlan,
  applyPlans,
  axisPlan,
  type BilinearTaps,
  bilinearTaps,
  gaussianKernel,
  type PyramidLevel,
  pyramidLevels,
  resizeFlow,
} from './pyramid.ts';

/** The parameters of `calcOpticalFlowFarneback` (same names, camelCase). */
export interface FarnebackParams {
  /** Scale between pyramid levels (< 1). */
  pyrScale: number;
  /** Pyramid levels above the frame (0: the frame only); fewer where a side would drop below 32 pixels. */
  levels: number;
  /** Averaging window side in pixels. */
  winsize: number;
  /** Iterations per pyramid level. */
  iterations: number;
  /** Half-width of the polynomial-expansion neighbourhood: 5 means 11×11 pixels (OpenCV's `poly_n`). */
  polyN: number;
  /** σ of the expansion's Gaussian applicability. */
  polySigma: number;
  /** OpenCV's `OPTFLOW_FARNEBACK_GAUSSIAN` flag: a Gaussian window (σ = 0.3·⌊winsize/2⌋) instead of the box. */
  gaussianWindow: boolean;
}

/**
 * video2dataset's `Cv2Detector` (the optical-flow subsampler written by an SVD co-author, see curation.md §1.2):
 * `calcOpticalFlowFarneback(prev, next, None, pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5,
 * poly_sigma=1.2, flags=0)`. Data-Juicer's motion filter uses the same values.
 */
export const VIDEO2DATASET_FARNEBACK: Readonly<FarnebackParams> = Object.freeze({
  pyrScale: 0.5,
  levels: 3,
  winsize: 15,
  iterations: 3,
  polyN: 5,
  polySigma: 1.2,
  gaussianWindow: false,
});

/** One frame expanded at every pyramid level: 5 float32 coefficients per pixel per level (poly-expansion.ts order). */
export interface FarnebackPyramid {
  width: number;
  height: number;
  levels: Float32Array[];
}

/** Gray frame pixels, row-major: bytes as decoded, or floats. */
export type GrayPixels = Uint8Array | Uint8ClampedArray | Float32Array;

/**
 * Farneback flow for frames of one size. Buffers are allocated once per instance and reused; {@link expand} is
 * separate from {@link flow} so that a clip expands each frame once although it takes part in two pairs.
 */
export class FarnebackFlow {
  readonly params: Readonly<FarnebackParams>;
  readonly levels: readonly PyramidLevel[];
  private readonly plans: Array<{ x: AxisPlan; y: AxisPlan }>;
  /** Bilinear taps from level k + 1 up to level k (the flow's upsampling), per axis. */
  private readonly upsample: Array<{ x: BilinearTaps; y: BilinearTaps } | undefined>;
  private readonly poly: PolyFilters;
  private readonly polyRows: PolyScratch;
  private readonly planRow: Float64Array;
  private readonly image: Float32Array;
  private readonly matrices: Float32Array;
  private readonly flows: [Float32Array, Float32Array];
  private readonly window: WindowScratch;

  constructor(
    readonly width: number,
    readonly height: number,
    params: Partial<FarnebackParams> = {},
  ) {
    const p = { ...VIDEO2DATASET_FARNEBACK, ...params };
    checkParams(width, height, p);
    this.params = Object.freeze(p);
    this.levels = pyramidLevels(width, height, p.pyrScale, p.levels);
    this.plans = this.levels.map((l) => {
      const kernel = gaussianKernel(l.ksize, l.sigma);
      return { x: axisPlan(width, l.width, kernel), y: axisPlan(height, l.height, kernel) };
    });
    this.upsample = this.levels.map((l, k) => {
      const up = this.levels[k + 1];
      return up && { x: bilinearTaps(up.width, l.width), y: bilinearTaps(up.height, l.height) };
    });
    this.poly = polyFilters(p.polyN, p.polySigma);
    this.polyRows = polyScratch(width, p.polyN);
    this.planRow = new Float64Array(width);
    const pixels = width * height;
    this.image = new Float32Array(pixels);
    this.matrices = new Float32Array(pixels * 5);
    this.flows = [new Float32Array(pixels * 2), new Float32Array(pixels * 2)];
    this.window = windowScratch(width, p.winsize, p.gaussianWindow);
  }

  /** The polynomial expansion of one gray frame at every level (its share of the work of a pair, done once). */
  expand(gray: GrayPixels): FarnebackPyramid {
    if (gray.length !== this.width * this.height) {
      throw new RangeError(`Farneback: frame has ${gray.length} pixels, expected ${this.width}×${this.height}`);
    }
    const levels = this.levels.map((l, k) => {
      const { x, y } = this.plans[k];
      applyPlans(gray, this.width, x, y, this.image, this.planRow);
      const r = new Float32Array(l.width * l.height * 5);
      polyExpand(this.image, l.width, l.height, this.poly, r, this.polyRows);
      return r;
    });
    return { width: this.width, height: this.height, levels };
  }

  /**
   * The flow from `prev` to `next`: 2 float32 per pixel (dx, dy), interleaved, in pixels of this size — `next` at
   * (x + dx, y + dy) shows what `prev` shows at (x, y).
   */
  flow(
    prev: FarnebackPyramid,
    next: FarnebackPyramid,
    out: Float32Array = new Float32Array(this.width * this.height * 2),
  ): Float32Array {
    for (const f of [prev, next]) {
      if (f.width !== this.width || f.height !== this.height || f.levels.length !== this.levels.length) {
        throw new RangeError(
          `Farneback: a pyramid of ${f.width}×${f.height} does not belong to this ${this.width}×${this.height} flow`,
        );
      }
    }
    if (out.length !== this.width * this.height * 2)
      throw new RangeError(`Farneback: output holds ${out.length} values, expected ${this.width * this.height * 2}`);
    const { iterations, pyrScale } = this.params;
    let coarser: { flow: Float32Array; width: number; height: number } | undefined;
    for (let k = this.levels.length - 1; k >= 0; k--) {
      const { width: w, height: h } = this.levels[k];
      const flow = k === 0 ? out : this.flows[k % 2];
      if (coarser === undefined) flow.fill(0, 0, w * h * 2);
      else {
        const up = this.upsample[k]!;
        resizeFlow(coarser.flow, coarser.width, coarser.height, flow, w, h, 1 / pyrScale, up.x, up.y);
      }
      const r0 = prev.levels[k];
      const r1 = next.levels[k];
      updateMatrices(r0, r1, flow, this.matrices, w, h);
      for (let i = 0; i < iterations; i++) {
        solveWindowed(this.matrices, flow, w, h, this.params.winsize, this.window);
        if (i < iterations - 1) updateMatrices(r0, r1, flow, this.matrices, w, h);
      }
      coarser = { flow, width: w, height: h };
    }
    return out;
  }
}

/** One pair: `calcOpticalFlowFarneback(prev, next, None, …)` on two gray frames of width×height. */
export function farnebackFlow(
  prev: GrayPixels,
  next: GrayPixels,
  width: number,
  height: number,
  params: Partial<FarnebackParams> = {},
): Float32Array {
  const f = new FarnebackFlow(width, height, params);
  return f.flow(f.expand(prev), f.expand(next));
}

function checkParams(width: number, height: number, p: FarnebackParams): void {
  const bad = (what: string) => new RangeError(`Farneback: ${what}`);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1))
    throw bad(`frame size must be whole positive pixels, got ${width}×${height}`);
  if (!(p.pyrScale > 0 && p.pyrScale < 1)) throw bad(`pyrScale must be in (0, 1), got ${p.pyrScale}`);
  if (!(Number.isInteger(p.levels) && p.levels >= 0)) throw bad(`levels must be an integer ≥ 0, got ${p.levels}`);
  if (!(Number.isInteger(p.winsize) && p.winsize >= 1)) throw bad(`winsize must be an integer ≥ 1, got ${p.winsize}`);
  if (!(Number.isInteger(p.iterations) && p.iterations >= 1))
    throw bad(`iterations must be an integer ≥ 1, got ${p.iterations}`);
  if (!(Number.isInteger(p.polyN) && p.polyN >= 1)) throw bad(`polyN must be an integer ≥ 1, got ${p.polyN}`);
  if (!(p.polySigma >= 0 && Number.isFinite(p.polySigma))) throw bad(`polySigma must be ≥ 0, got ${p.polySigma}`);
}

const BORDER = [0.14, 0.14, 0.4472, 0.4472, 0.4472].map(Math.fround);
const B = BORDER.length;

/**
 * For every pixel, its own equations A·d = h at the current flow d̃, as the five distinct entries of the normal
 * equations AᵀA and Aᵀh in (d_y, d_x) order (G₁₁, G₁₂, G₂₂, h₁, h₂: OpenCV's layout) into `m`. A is the mean of
 * A₁(x) and A₂(x + d̃) (bilinear in R₁), h = ½(b₁(x) − b₂(x + d̃)) + A·d̃.
 */
function updateMatrices(
  r0: Float32Array,
  r1: Float32Array,
  flow: Float32Array,
  m: Float32Array,
  w: number,
  h: number,
): void {
  const stride = w * 5;
  for (let y = 0; y < h; y++) {
    const wy = (y < B ? BORDER[y] : 1) * (y >= h - B ? BORDER[h - y - 1] : 1);
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const o = i * 5;
      const dx = flow[i * 2];
      const dy = flow[i * 2 + 1];
      const fx = Math.fround(x + dx);
      const fy = Math.fround(y + dy);
      const x1 = Math.floor(fx);
      const y1 = Math.floor(fy);
      let hy: number; // b₂ at x + d̃, then h: y component
      let hx: number; // x component
      let axx: number; // A = [[axx, axy], [axy, ayy]]: the x², y² coefficients and half the xy coefficient
      let ayy: number;
      let axy: number;
      if (x1 >= 0 && x1 < w - 1 && y1 >= 0 && y1 < h - 1) {
        const ax = fx - x1;
        const ay = fy - y1;
        const c00 = (1 - ax) * (1 - ay);
        const c01 = ax * (1 - ay);
        const c10 = (1 - ax) * ay;
        const c11 = ax * ay;
        const p = (y1 * w + x1) * 5;
        const q = p + stride;
        hy = c00 * r1[p] + c01 * r1[p + 5] + c10 * r1[q] + c11 * r1[q + 5];
        hx = c00 * r1[p + 1] + c01 * r1[p + 6] + c10 * r1[q + 1] + c11 * r1[q + 6];
        axx = (r0[o + 2] + c00 * r1[p + 2] + c01 * r1[p + 7] + c10 * r1[q + 2] + c11 * r1[q + 7]) * 0.5;
        ayy = (r0[o + 3] + c00 * r1[p + 3] + c01 * r1[p + 8] + c10 * r1[q + 3] + c11 * r1[q + 8]) * 0.5;
        axy = (r0[o + 4] + c00 * r1[p + 4] + c01 * r1[p + 9] + c10 * r1[q + 4] + c11 * r1[q + 9]) * 0.25;
      } else {
        // the displaced neighbourhood leaves the frame: b₂ = 0, A = A₁
        hy = 0;
        hx = 0;
        axx = r0[o + 2];
        ayy = r0[o + 3];
        axy = r0[o + 4] * 0.5;
      }
      hy = (r0[o] - hy) * 0.5 + ayy * dy + axy * dx;
      hx = (r0[o + 1] - hx) * 0.5 + axy * dy + axx * dx;
      const wxy = wy * (x < B ? BORDER[x] : 1) * (x >= w - B ? BORDER[w - x - 1] : 1);
      if (wxy !== 1) {
        hy *= wxy;
        hx *= wxy;
        axx *= wxy;
        ayy *= wxy;
        axy *= wxy;
      }
      m[o] = ayy * ayy + axy * axy;
      m[o + 1] = (axx + ayy) * axy;
      m[o + 2] = axx * axx + axy * axy;
      m[o + 3] = ayy * hy + axy * hx;
      m[o + 4] = axy * hy + axx * hx;
    }
  }
}

interface WindowScratch {
  /** Vertical sums of one row with (m + 1) pixels of padding each side, 5 values per pixel. */
  vsum: Float64Array;
  /** Gaussian window only: the horizontally filtered row and the half kernel. */
  hsum: Float64Array | undefined;
  kernel: Float64Array | undefined;
}

function windowScratch(width: number, winsize: number, gaussian: boolean): WindowScratch {
  const m = winsize >> 1;
  const vsum = new Float64Array((width + 2 * (m + 1)) * 5);
  if (!gaussian) return { vsum, hsum: undefined, kernel: undefined };
  const sigma = m * 0.3;
  const kernel = new Float64Array(m + 1);
  kernel[0] = 1;
  let s = 1;
  for (let i = 1; i <= m; i++) {
    kernel[i] = Math.fround(Math.exp((-i * i) / (2 * sigma * sigma)));
    s += kernel[i] * 2;
  }
  for (let i = 0; i <= m; i++) kernel[i] = Math.fround(kernel[i] / s);
  return { vsum, hsum: new Float64Array(width * 5), kernel };
}

/** d = G⁻¹h per pixel from window sums, with OpenCV's 1e-3 added to det G. */
function solve(flow: Float32Array, i: number, g11: number, g12: number, g22: number, h1: number, h2: number): void {
  const idet = 1 / (g11 * g22 - g12 * g12 + 1e-3);
  flow[i * 2] = (g11 * h2 - g12 * h1) * idet;
  flow[i * 2 + 1] = (g22 * h1 - g12 * h2) * idet;
}

/** Pools `m` over the window around each pixel (box or Gaussian) and solves for the flow. */
function solveWindowed(
  m: Float32Array,
  flow: Float32Array,
  w: number,
  h: number,
  winsize: number,
  s: WindowScratch,
): void {
  if (s.kernel === undefined) boxSolve(m, flow, w, h, winsize, s.vsum);
  else gaussianSolve(m, flow, w, h, s.kernel, s.vsum, s.hsum!);
}

/**
 * Box window of (2r + 1)² pixels, r = ⌊winsize/2⌋, edge rows and columns replicated, sums scaled by 1/winsize²:
 * running sums down the rows (one row added, one dropped) and along each row.
 */
function boxSolve(
  m: Float32Array,
  flow: Float32Array,
  w: number,
  h: number,
  winsize: number,
  vsum: Float64Array,
): void {
  const r = winsize >> 1;
  const scale = 1 / (winsize * winsize);
  const row = w * 5;
  const base = (r + 1) * 5;
  // rows −r…r−1 around row 0 (rows above replicate row 0); each step adds row y + r and drops row y − r − 1
  for (let x = 0; x < row; x++) vsum[base + x] = m[x] * (r + 2);
  for (let y = 1; y < r; y++) {
    const src = Math.min(y, h - 1) * row;
    for (let x = 0; x < row; x++) vsum[base + x] += m[src + x];
  }
  for (let y = 0; y < h; y++) {
    const drop = Math.max(y - r - 1, 0) * row;
    const add = Math.min(y + r, h - 1) * row;
    for (let x = 0; x < row; x++) vsum[base + x] += m[add + x] - m[drop + x];
    for (let x = 0; x < base; x++) {
      vsum[base - 1 - x] = vsum[base + 4 - x];
      vsum[base + row + x] = vsum[base + row + x - 5];
    }
    let g11 = vsum[base] * (r + 2);
    let g12 = vsum[base + 1] * (r + 2);
    let g22 = vsum[base + 2] * (r + 2);
    let h1 = vsum[base + 3] * (r + 2);
    let h2 = vsum[base + 4] * (r + 2);
    for (let x = 1; x < r; x++) {
      const c = base + x * 5;
      g11 += vsum[c];
      g12 += vsum[c + 1];
      g22 += vsum[c + 2];
      h1 += vsum[c + 3];
      h2 += vsum[c + 4];
    }
    for (let x = 0; x < w; x++) {
      const a = base + (x + r) * 5;
      const d = base + (x - r) * 5 - 5;
      g11 += vsum[a] - vsum[d];
      g12 += vsum[a + 1] - vsum[d + 1];
      g22 += vsum[a + 2] - vsum[d + 2];
      h1 += vsum[a + 3] - vsum[d + 3];
      h2 += vsum[a + 4] - vsum[d + 4];
      solve(flow, y * w + x, g11 * scale, g12 * scale, g22 * scale, h1 * scale, h2 * scale);
    }
  }
}

/** Gaussian window (normalised kernel of half-width r), edge rows and columns replicated. */
function gaussianSolve(
  m: Float32Array,
  flow: Float32Array,
  w: number,
  h: number,
  kernel: Float64Array,
  vsum: Float64Array,
  hsum: Float64Array,
): void {
  const r = kernel.length - 1;
  const row = w * 5;
  const base = (r + 1) * 5;
  for (let y = 0; y < h; y++) {
    const mid = y * row;
    for (let x = 0; x < row; x++) vsum[base + x] = m[mid + x] * kernel[0];
    for (let i = 1; i <= r; i++) {
      const up = Math.max(y - i, 0) * row;
      const down = Math.min(y + i, h - 1) * row;
      const k = kernel[i];
      for (let x = 0; x < row; x++) vsum[base + x] += (m[up + x] + m[down + x]) * k;
    }
    for (let x = 0; x < r * 5; x++) {
      vsum[base - 1 - x] = vsum[base + 4 - x];
      vsum[base + row + x] = vsum[base + row + x - 5];
    }
    for (let x = 0; x < row; x++) {
      let s = vsum[base + x] * kernel[0];
      for (let i = 1; i <= r; i++) s += kernel[i] * (vsum[base + x - i * 5] + vsum[base + x + i * 5]);
      hsum[x] = s;
    }
    for (let x = 0; x < w; x++) {
      const c = x * 5;
      solve(flow, y * w + x, hsum[c], hsum[c + 1], hsum[c + 2], hsum[c + 3], hsum[c + 4]);
    }
  }
}

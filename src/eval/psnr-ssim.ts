/**
 * Per-frame image quality against a reference (the SVD paper's multi-view evaluation, arXiv 2311.15127 §4.5, reports
 * PSNR and LPIPS; SSIM as Wang et al. 2004):
 *
 * - PSNR = 10 · log10(range² / MSE) over all pixels and channels (∞ for identical frames).
 * - SSIM with the standard Gaussian window (Wang et al. 2004, "Image Quality Assessment: From Error Visibility to
 *   Structural Similarity"): σ = 1.5, an 11 × 11 window (radius ⌊3.5σ + 0.5⌋ = 5, as scikit-image's
 *   `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`), C1 = (0.01·L)²,
 *   C2 = (0.03·L)², the map averaged over the pixels whose window lies inside the image (scikit-image crops a border of
 *   the window radius), per channel, then averaged over channels.
 *
 * Frames are float arrays [C, H, W] (or [H, W, C] interleaved via `layout`) in [0, range].
 */

export interface ImagePlanes {
  /** Channel-major planes: data[c·H·W + y·W + x]. */
  data: Float32Array | Float64Array;
  channels: number;
  height: number;
  width: number;
}

/** Channel-major planes from an interleaved RGB(A) byte image, scaled to [0, 1]. */
export function planesFromInterleaved(rgb: Uint8Array, width: number, height: number, channels = 3): ImagePlanes {
  const plane = width * height;
  const data = new Float32Array(channels * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < channels; c++) data[c * plane + i] = rgb[i * channels + c] / 255;
  return { data, channels, height, width };
}

function checkSame(a: ImagePlanes, b: ImagePlanes): void {
  if (a.channels !== b.channels || a.height !== b.height || a.width !== b.width)
    throw new RangeError(
      `frames differ in size: ${a.channels}×${a.height}×${a.width} vs ${b.channels}×${b.height}×${b.width}`,
    );
}

/** Mean squared error. */
export function mse(a: ImagePlanes, b: ImagePlanes): number {
  checkSame(a, b);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i] - b.data[i];
    s += d * d;
  }
  return s / a.data.length;
}

/** PSNR in dB for values in [0, range]. */
export function psnr(a: ImagePlanes, b: ImagePlanes, range = 1): number {
  const e = mse(a, b);
  return e === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((range * range) / e);
}

/** The normalised 1-D Gaussian of SSIM's window. */
export function gaussianWindow(sigma = 1.5): Float64Array {
  const r = Math.floor(3.5 * sigma + 0.5);
  const w = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) {
    w[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
    s += w[i + r];
  }
  for (let i = 0; i < w.length; i++) w[i] /= s;
  return w;
}

/** Separable 'valid' filtering of one plane: [h, w] → [h − 2r, w − 2r]. */
function filterValid(x: Float64Array, h: number, w: number, k: Float64Array): Float64Array {
  const r = (k.length - 1) / 2;
  const ow = w - 2 * r;
  const oh = h - 2 * r;
  const tmp = new Float64Array(h * ow);
  for (let y = 0; y < h; y++)
    for (let xo = 0; xo < ow; xo++) {
      let s = 0;
      for (let j = 0; j < k.length; j++) s += k[j] * x[y * w + xo + j];
      tmp[y * ow + xo] = s;
    }
  const out = new Float64Array(oh * ow);
  for (let yo = 0; yo < oh; yo++)
    for (let xo = 0; xo < ow; xo++) {
      let s = 0;
      for (let j = 0; j < k.length; j++) s += k[j] * tmp[(yo + j) * ow + xo];
      out[yo * ow + xo] = s;
    }
  return out;
}

/** Mean SSIM over channels (see the module comment). */
export function ssim(a: ImagePlanes, b: ImagePlanes, range = 1, sigma = 1.5): number {
  checkSame(a, b);
  const k = gaussianWindow(sigma);
  const r = (k.length - 1) / 2;
  const { height: h, width: w } = a;
  if (h <= 2 * r || w <= 2 * r) throw new RangeError(`SSIM needs frames larger than ${2 * r + 1}×${2 * r + 1}`);
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  const plane = h * w;
  let total = 0;
  for (let c = 0; c < a.channels; c++) {
    const x = Float64Array.from(a.data.subarray(c * plane, (c + 1) * plane));
    const y = Float64Array.from(b.data.subarray(c * plane, (c + 1) * plane));
    const xx = x.map((v) => v * v);
    const yy = y.map((v) => v * v);
    const xy = x.map((v, i) => v * y[i]);
    const [mx, my, mxx, myy, mxy] = [x, y, xx, yy, xy].map((p) => filterValid(p, h, w, k));
    let s = 0;
    for (let i = 0; i < mx.length; i++) {
      const vx = mxx[i] - mx[i] * mx[i];
      const vy = myy[i] - my[i] * my[i];
      const cov = mxy[i] - mx[i] * my[i];
      s += ((2 * mx[i] * my[i] + c1) * (2 * cov + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2));
    }
    total += s / mx.length;
  }
  return total / a.channels;
}

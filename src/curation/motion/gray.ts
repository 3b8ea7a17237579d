/**
 * RGB → grayscale exactly as OpenCV's `cvtColor(…, COLOR_RGB2GRAY)` on 8-bit frames (the conversion the flow anchors
 * apply before Farneback: video2dataset's `Cv2Detector`, Data-Juicer's motion filter).
 *
 * OpenCV 4.x does not round 0.299 / 0.587 / 0.114 to 14 bits here (its `R2Y`/`G2Y`/`B2Y` YUV constants) but to 15 bits
 * with the blue weight adjusted so the three sum to 2¹⁵: gray = (9798·R + 19235·G + 3735·B + 2¹⁴) >> 15. Checked
 * against Debian's python3-opencv 4.6 on all 2²⁴ RGB triples (0 mismatches; the 14-bit and 16-bit roundings differ on
 * 0.3 % and 0.1 % of random colours).
 */

const R_WEIGHT = 9798; // round(0.299 · 2¹⁵)
const G_WEIGHT = 19235; // round(0.587 · 2¹⁵)
const B_WEIGHT = 3735; // 2¹⁵ − R − G (round(0.114 · 2¹⁵) would be 3736)
const HALF = 1 << 14;

/**
 * Interleaved RGB bytes ([H, W, 3] row-major, `VideoFrames` layout) → one gray byte per pixel, OpenCV's RGB2GRAY.
 * `out` (length `rgb.length / 3`) is reused when given.
 */
export function rgbToGray(rgb: Uint8Array, out?: Uint8Array): Uint8Array {
  if (rgb.length % 3 !== 0) throw new RangeError(`rgbToGray: ${rgb.length} bytes is not a whole number of RGB pixels`);
  const n = rgb.length / 3;
  const gray = out ?? new Uint8Array(n);
  if (gray.length !== n) throw new RangeError(`rgbToGray: output holds ${gray.length} pixels, expected ${n}`);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    gray[i] = (R_WEIGHT * rgb[j] + G_WEIGHT * rgb[j + 1] + B_WEIGHT * rgb[j + 2] + HALF) >> 15;
  }
  return gray;
}

/**
 * RGB → HSV exactly as OpenCV computes it for 8-bit images (`cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)`, the conversion
 * PySceneDetect's ContentDetector scores frames with): H in [0, 180), S and V in [0, 255], fixed-point with OpenCV's
 * tables and rounding (modules/imgproc/src/color_hsv.simd.hpp, RGB2HSV_b, hsv_shift = 12):
 *
 *   V = max(R, G, B), Δ = V − min(R, G, B)
 *   S = (Δ · sdiv[V] + 2^11) >> 12,              sdiv[i] = round(255 · 2^12 / i), sdiv[0] = 0
 *   H' = G − B (V = R) | B − R + 2Δ (V = G) | R − G + 4Δ (else)
 *   H = (H' · hdiv[Δ] + 2^11) >> 12 (+180 if < 0), hdiv[i] = round(180 · 2^12 / (6i)), hdiv[0] = 0
 *
 * Checked against OpenCV 4.6 on all 2^24 colours (test/fixtures/curation/cuts/hsv-table.json).
 */

const HSV_SHIFT = 12;
const HALF = 1 << (HSV_SHIFT - 1);

/** sdiv[v] = round((255 << 12) / v); no value is a tie, so any rounding of halves gives the same table. */
const SDIV = new Int32Array(256);
/** hdiv[Δ] = round((180 << 12) / (6Δ)), the H range 180 (8-bit images). */
const HDIV = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  SDIV[i] = Math.round((255 << HSV_SHIFT) / i);
  HDIV[i] = Math.round((180 << HSV_SHIFT) / (6 * i));
}

/**
 * Converts `pixels` RGB pixels (interleaved, `rgb[3p..3p+2]`) to planar HSV: H in `hsv[0, n)`, S in `hsv[n, 2n)`, V in
 * `hsv[2n, 3n)` with n = `pixels` (the planes cv2.split gives). No allocation; `hsv` must hold 3·`pixels` bytes.
 */
export function rgbToHsvPlanes(rgb: Uint8Array, hsv: Uint8Array, pixels = rgb.length / 3): void {
  if (rgb.length < 3 * pixels || hsv.length < 3 * pixels) {
    throw new RangeError(`rgbToHsvPlanes: ${pixels} pixels need 3·${pixels} bytes in and out`);
  }
  const sOff = pixels;
  const vOff = 2 * pixels;
  for (let p = 0, i = 0; p < pixels; p++, i += 3) {
    const r = rgb[i];
    const g = rgb[i + 1];
    const b = rgb[i + 2];
    const v = Math.max(r, g, b);
    const diff = v - Math.min(r, g, b);
    const h0 = v === r ? g - b : v === g ? b - r + 2 * diff : r - g + 4 * diff;
    let h = (h0 * HDIV[diff] + HALF) >> HSV_SHIFT;
    if (h < 0) h += 180;
    hsv[p] = h;
    hsv[sOff + p] = (diff * SDIV[v] + HALF) >> HSV_SHIFT;
    hsv[vOff + p] = v;
  }
}

/** One pixel's OpenCV HSV, [H, S, V] (for tests and messages; the frame loop is {@link rgbToHsvPlanes}). */
export function rgbToHsvPixel(r: number, g: number, b: number): [number, number, number] {
  const rgb = Uint8Array.of(r, g, b);
  const hsv = new Uint8Array(3);
  rgbToHsvPlanes(rgb, hsv, 1);
  return [hsv[0], hsv[1], hsv[2]];
}

/**
 * PySceneDetect's frame score (`content_val`, ContentDetector._calculate_frame_score, Breakthrough/PySceneDetect
 * 131c5f6 = v0.7.1), written from its semantics: convert each frame to HSV (OpenCV's 8-bit HSV, hsv.ts); for each
 * of H, S and V the mean absolute difference to the previous frame, `sum(|a − b|) / pixels` in float64; the score
 * is their weighted mean, `(dH·wH + dS·wS + dV·wV + dEdges·wEdges) / (|wH| + |wS| + |wV| + |wEdges|)`, summed in
 * that order as Python does, so scores match PySceneDetect's bit for bit on the same frames. The first frame
 * scores 0.
 *
 * The edge component (Canny on V with median thresholds, dilated) has weight 0 by default and is not implemented:
 * a non-zero `deltaEdges` weight is refused.
 */
import { rgbToHsvPlanes } from './hsv.ts';

/** Weights of the score components (PySceneDetect `ContentDetector.Components`). */
export interface ContentWeights {
  deltaHue: number;
  deltaSat: number;
  deltaLum: number;
  /** Must be 0: the edge component is not implemented. */
  deltaEdges: number;
}

/** PySceneDetect's defaults: hue, saturation and luma count equally, edges not at all. */
export const DEFAULT_CONTENT_WEIGHTS: Readonly<ContentWeights> = Object.freeze({
  deltaHue: 1,
  deltaSat: 1,
  deltaLum: 1,
  deltaEdges: 0,
});

/** `luma_only`: only the V channel. */
export const LUMA_ONLY_WEIGHTS: Readonly<ContentWeights> = Object.freeze({
  deltaHue: 0,
  deltaSat: 0,
  deltaLum: 1,
  deltaEdges: 0,
});

/** Throws a RangeError unless `w` is usable: finite, not all zero, no edge weight. */
export function checkContentWeights(w: ContentWeights): void {
  const values = [w.deltaHue, w.deltaSat, w.deltaLum, w.deltaEdges];
  if (!values.every(Number.isFinite)) throw new RangeError(`content weights must be finite numbers, got ${values}`);
  if (w.deltaEdges !== 0) {
    throw new RangeError(
      `the edge component (deltaEdges = ${w.deltaEdges}) is not implemented; PySceneDetect's default weight is 0`,
    );
  }
  if (Math.abs(w.deltaHue) + Math.abs(w.deltaSat) + Math.abs(w.deltaLum) === 0) {
    throw new RangeError('content weights must not all be 0');
  }
}

/** `sum(|a[aAt + i] − b[bAt + i]|) / n` over i < n, in float64 (exact: the sum is an integer below 2^53). */
export function meanAbsDiff(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = a[aAt + i] - b[bAt + i];
    sum += d < 0 ? -d : d;
  }
  return sum / n;
}

/**
 * The score components between two frames' HSV planes (as {@link rgbToHsvPlanes} writes them, `pixels` per plane)
 * into `out`: [dHue, dSat, dLum].
 */
export function hsvComponents(prev: Uint8Array, cur: Uint8Array, pixels: number, out: Float64Array): void {
  out[0] = meanAbsDiff(cur, 0, prev, 0, pixels);
  out[1] = meanAbsDiff(cur, pixels, prev, pixels, pixels);
  out[2] = meanAbsDiff(cur, 2 * pixels, prev, 2 * pixels, pixels);
}

/** The weighted mean of the components, in PySceneDetect's order of operations (the edge component is 0). */
export function weightedScore(dHue: number, dSat: number, dLum: number, w: ContentWeights): number {
  const num = 0 + dHue * w.deltaHue + dSat * w.deltaSat + dLum * w.deltaLum + 0 * w.deltaEdges;
  const den = 0 + Math.abs(w.deltaHue) + Math.abs(w.deltaSat) + Math.abs(w.deltaLum) + Math.abs(w.deltaEdges);
  return num / den;
}

/**
 * Scores consecutive RGB frames of one size: `push(frame)` returns the frame's `content_val` against the previous
 * frame (0 for the first) and leaves the components in `components`. Holds two HSV buffers and allocates nothing
 * per frame.
 */
export class ContentScorer {
  readonly pixels: number;
  /** [dHue, dSat, dLum] of the last pushed frame (0s for the first). */
  readonly components = new Float64Array(3);
  private prev: Uint8Array;
  private cur: Uint8Array;
  private frames = 0;
  private readonly weights: ContentWeights;

  constructor(width: number, height: number, weights: ContentWeights = DEFAULT_CONTENT_WEIGHTS) {
    checkContentWeights(weights);
    this.pixels = width * height;
    this.prev = new Uint8Array(3 * this.pixels);
    this.cur = new Uint8Array(3 * this.pixels);
    this.weights = { ...weights };
  }

  /** HSV planes of the last pushed frame (valid until the next push). */
  get hsv(): Uint8Array {
    return this.prev;
  }

  push(rgb: Uint8Array): number {
    rgbToHsvPlanes(rgb, this.cur, this.pixels);
    let score = 0;
    if (this.frames === 0) {
      this.components.fill(0);
    } else {
      hsvComponents(this.prev, this.cur, this.pixels, this.components);
      score = weightedScore(this.components[0], this.components[1], this.components[2], this.weights);
    }
    const t = this.prev;
    this.prev = this.cur;
    this.cur = t;
    this.frames++;
    return score;
  }
}

/**
 * The frame size cut detection analyses, PySceneDetect's auto-downscale rule (scene_manager.py,
 * `compute_downscale_factor` with `DEFAULT_MIN_WIDTH = 256`, 131c5f6): factor = max(w, h) / 256 when the larger side
 * is at least 256 px (else 1, no upscaling), and the frame is resized to `max(1, round(w / factor))` ×
 * `max(1, round(h / factor))` with Python's round (halves to even). 1280×720 → 256×144, 1920×1080 → 256×144,
 * 720×528 → 256×188, 96×64 → 96×64.
 *
 * PySceneDetect resizes decoded frames with cv2.resize (INTER_LINEAR); here ffmpeg scales while decoding (an area
 * filter, src/video/frame-stream.ts), so scores of a downscaled video are close to, not bit-identical with,
 * PySceneDetect's on the same file. At the native size there is no resampling and they are identical.
 */

/** PySceneDetect's `DEFAULT_MIN_WIDTH`. */
export const DEFAULT_ANALYSIS_WIDTH = 256;

/** Python's round(): to the nearest integer, halves to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The analysis size of a `width`×`height` video (see above); `minWidth` is PySceneDetect's effective width. */
export function analysisSize(
  width: number,
  height: number,
  minWidth = DEFAULT_ANALYSIS_WIDTH,
): { width: number; height: number } {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`frame size must be positive integers, got ${width}×${height}`);
  }
  const side = Math.max(width, height);
  if (side < minWidth) return { width, height };
  const factor = side / minWidth;
  return {
    width: Math.max(1, roundHalfEven(width / factor)),
    height: Math.max(1, roundHalfEven(height / factor)),
  };
}

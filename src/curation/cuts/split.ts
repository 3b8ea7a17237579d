/**
 * Cuts → clips: the frames between consecutive cuts (and the video's ends) are one clip each, and clips shorter than
 * a minimum are dropped. The default minimum is 2 s, as Open-Sora's scene-cut tool does it (hpcaitech/Open-Sora
 * `tools/scene_cut/cut.py`, `split_video(min_seconds=2)`: a scene whose duration is below `min_seconds` is skipped).
 */

/** One clip of a source video, in frames of that video and in seconds. */
export interface Clip {
  source: string;
  /** First frame of the clip. */
  startFrame: number;
  /** One past the last frame (exclusive). */
  endFrame: number;
  /** startFrame / fps and endFrame / fps, in seconds. */
  startTime: number;
  endTime: number;
  fps: number;
}

/** Open-Sora's `min_seconds` default. */
export const DEFAULT_MIN_CLIP_SECONDS = 2;

export interface SplitOptions {
  /** Drop clips shorter than this many seconds (default 2; 0 keeps every clip). */
  minSeconds?: number;
  /** Drop clips with fewer frames than this (default 0), on top of `minSeconds`. */
  minFrames?: number;
}

/**
 * The clips of a video of `frameCount` frames at `fps` cut at `cuts` (first frames of new shots; sorted or not,
 * duplicates and frames outside (0, frameCount) are ignored), dropping those shorter than the minimum.
 */
export function clipsFromCuts(
  cuts: readonly number[],
  frameCount: number,
  fps: number,
  source: string,
  opts: SplitOptions = {},
): Clip[] {
  const minSeconds = opts.minSeconds ?? DEFAULT_MIN_CLIP_SECONDS;
  const minFrames = opts.minFrames ?? 0;
  if (!(Number.isInteger(frameCount) && frameCount >= 0))
    throw new RangeError(`frameCount must be ≥ 0, got ${frameCount}`);
  if (!(Number.isFinite(fps) && fps > 0)) throw new RangeError(`fps must be a positive number, got ${fps}`);
  if (!(Number.isFinite(minSeconds) && minSeconds >= 0))
    throw new RangeError(`minSeconds must be ≥ 0, got ${minSeconds}`);
  if (!(Number.isInteger(minFrames) && minFrames >= 0)) throw new RangeError(`minFrames must be ≥ 0, got ${minFrames}`);
  for (const c of cuts) if (!Number.isInteger(c)) throw new RangeError(`cuts must be frame indices, got ${c}`);
  const bounds = [...new Set(cuts.filter((c) => c > 0 && c < frameCount))].sort((a, b) => a - b);
  bounds.unshift(0);
  bounds.push(frameCount);
  // A clip of n frames lasts n / fps seconds; the tolerance keeps e.g. 48 frames at 24 fps at exactly 2 s.
  const needFrames = Math.max(minFrames, minSeconds * fps - 1e-9);
  const clips: Clip[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const startFrame = bounds[i];
    const endFrame = bounds[i + 1];
    if (endFrame - startFrame <= 0 || endFrame - startFrame < needFrames) continue;
    clips.push({ source, startFrame, endFrame, startTime: startFrame / fps, endTime: endFrame / fps, fps });
  }
  return clips;
}

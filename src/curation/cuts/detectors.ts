/**
 * The decision rules of PySceneDetect's ContentDetector and AdaptiveDetector (Breakthrough/PySceneDetect 131c5f6,
 * v0.7.1: scenedetect/detectors/content_detector.py, adaptive_detector.py and the FlashFilter of detector.py),
 * written from their semantics. They take one frame score at a time (content.ts computes them) and return the cuts
 * decided at that frame, so the same rules serve a single frame rate and every level of the cascade.
 *
 * Frame numbers are those of the stream the scores come from (for a cascade level, the video's own frame numbers of
 * the sampled frames), and `minSceneLen` is counted in them. PySceneDetect 0.7 keeps the length in seconds and
 * compares timecodes; with frame-number timecodes (a constant-rate video) that is exactly this frame comparison.
 * (Through SceneManager on a container with millisecond timestamps, e.g. Matroska, PySceneDetect's own comparison
 * of 333 ms against 8/24 s can miss a cut that lies exactly `minSceneLen` frames after the previous one; these
 * rules do not reproduce that rounding.)
 */

const NONE: readonly number[] = Object.freeze([]);

/** `defaults` overridden by the fields of `options` that are not undefined. */
export function withDefaults<T extends object>(defaults: Readonly<T>, options: Partial<T>): T {
  const out = { ...defaults } as T;
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** How {@link FlashFilter} enforces the minimum scene length. */
export type FlashFilterMode = 'merge' | 'suppress';

/**
 * PySceneDetect's FlashFilter. `suppress`: a frame above the threshold is a cut only when `length` frames have passed
 * since the last cut. `merge` (ContentDetector's default): cuts closer than `length` frames are merged into one —
 * after the first cut, an above-threshold frame that comes too soon starts a merge; the merge ends at the first frame
 * below the threshold that is `length` frames after the last above-threshold frame, provided the merged run itself
 * lasted `length` frames, and the cut is then that last above-threshold frame (reported late). Before the first cut,
 * every above-threshold frame restarts the clock. A length ≤ 0 disables the filter.
 */
export class FlashFilter {
  private lastAbove = -1;
  private mergeEnabled = false;
  private mergeTriggered = false;
  private mergeStart = -1;

  constructor(
    readonly mode: FlashFilterMode,
    readonly length: number,
  ) {
    if (!Number.isInteger(length)) throw new RangeError(`minimum scene length must be whole frames, got ${length}`);
  }

  /** The cuts (0 or 1 frame numbers, possibly of an earlier frame) decided at `frame`. */
  filter(frame: number, above: boolean): readonly number[] {
    if (this.length <= 0) return above ? [frame] : NONE;
    if (this.lastAbove < 0) this.lastAbove = frame;
    const minLengthMet = frame - this.lastAbove >= this.length;
    if (this.mode === 'suppress') {
      if (!(above && minLengthMet)) return NONE;
      this.lastAbove = frame;
      return [frame];
    }
    if (above) this.lastAbove = frame;
    if (this.mergeTriggered) {
      if (minLengthMet && !above && this.lastAbove - this.mergeStart >= this.length) {
        this.mergeTriggered = false;
        return [this.lastAbove];
      }
      return NONE;
    }
    if (!above) return NONE;
    if (minLengthMet) {
      this.mergeEnabled = true;
      return [frame];
    }
    if (this.mergeEnabled) {
      this.mergeTriggered = true;
      this.mergeStart = frame;
    }
    return NONE;
  }
}

export interface ContentDetectorOptions {
  /** A frame whose score is ≥ this is above the threshold (default 27). */
  threshold: number;
  /** Minimum scene length in frames (default 15). */
  minSceneLen: number;
  /** Default `merge`. */
  filterMode: FlashFilterMode;
}

export const CONTENT_DEFAULTS: Readonly<ContentDetectorOptions> = Object.freeze({
  threshold: 27,
  minSceneLen: 15,
  filterMode: 'merge',
});

/** ContentDetector's rule: score ≥ threshold, through the flash filter. */
export class ContentRule {
  readonly options: Readonly<ContentDetectorOptions>;
  private readonly flash: FlashFilter;

  constructor(options: Partial<ContentDetectorOptions> = {}) {
    const o = withDefaults(CONTENT_DEFAULTS, options);
    if (!Number.isFinite(o.threshold)) throw new RangeError(`threshold must be a finite number, got ${o.threshold}`);
    if (o.filterMode !== 'merge' && o.filterMode !== 'suppress') {
      throw new RangeError(`filterMode must be 'merge' or 'suppress', got ${o.filterMode}`);
    }
    this.options = Object.freeze(o);
    this.flash = new FlashFilter(o.filterMode, o.minSceneLen);
  }

  /** The cuts decided at `frame`, whose score is `score`. */
  push(frame: number, score: number): readonly number[] {
    return this.flash.filter(frame, score >= this.options.threshold);
  }
}

export interface AdaptiveDetectorOptions {
  /** The ratio of a frame's score to its neighbours' mean that makes a cut (default 3). */
  adaptiveThreshold: number;
  /** Minimum scene length in frames (default 15). */
  minSceneLen: number;
  /** Frames on each side of the frame in the mean (default 2). */
  windowWidth: number;
  /** A cut also needs a score ≥ this (default 15). */
  minContentVal: number;
}

export const ADAPTIVE_DEFAULTS: Readonly<AdaptiveDetectorOptions> = Object.freeze({
  adaptiveThreshold: 3,
  minSceneLen: 15,
  windowWidth: 2,
  minContentVal: 15,
});

/**
 * AdaptiveDetector's rule. With w = `windowWidth`, the decision for frame t is taken when frame t + w arrives:
 * ratio = score(t) / mean(scores of the w frames before t and the w after), capped at 255 (255 when that mean is
 * below 1e-5 and score(t) ≥ `minContentVal`, 0 when the mean is ~0 otherwise); t is a cut when ratio ≥
 * `adaptiveThreshold`, score(t) ≥ `minContentVal`, and the *current* frame t + w is at least `minSceneLen` frames
 * after the last cut (the first frame seen counts as one). The last w frames of a video are never decided.
 */
export class AdaptiveRule {
  readonly options: Readonly<AdaptiveDetectorOptions>;
  /** The frame decided by the last push (-1 while the window fills) and its ratio. */
  lastTarget = -1;
  lastRatio = 0;
  private readonly frames: Float64Array;
  private readonly scores: Float64Array;
  private count = 0;
  private lastCut = -1;

  constructor(options: Partial<AdaptiveDetectorOptions> = {}) {
    const o = withDefaults(ADAPTIVE_DEFAULTS, options);
    if (!Number.isInteger(o.windowWidth) || o.windowWidth < 1) {
      throw new RangeError(`windowWidth must be an integer ≥ 1, got ${o.windowWidth}`);
    }
    if (!Number.isInteger(o.minSceneLen))
      throw new RangeError(`minSceneLen must be whole frames, got ${o.minSceneLen}`);
    if (!Number.isFinite(o.adaptiveThreshold) || !Number.isFinite(o.minContentVal)) {
      throw new RangeError('adaptiveThreshold and minContentVal must be finite numbers');
    }
    this.options = Object.freeze(o);
    this.frames = new Float64Array(2 * o.windowWidth + 1);
    this.scores = new Float64Array(2 * o.windowWidth + 1);
  }

  push(frame: number, score: number): readonly number[] {
    const { windowWidth: w, minContentVal, adaptiveThreshold, minSceneLen } = this.options;
    const size = 2 * w + 1;
    if (this.lastCut < 0) this.lastCut = frame;
    // ring buffer: slot of the i-th oldest entry is (count − size + i) mod size once full
    this.frames[this.count % size] = frame;
    this.scores[this.count % size] = score;
    this.count++;
    this.lastTarget = -1;
    if (this.count < size) return NONE;
    const oldest = this.count - size;
    let sum = 0; // Python's sum(): from 0, oldest to newest, skipping the target
    for (let i = 0; i < size; i++) {
      if (i !== w) sum += this.scores[(oldest + i) % size];
    }
    const average = sum / (2 * w);
    const targetSlot = (oldest + w) % size;
    const targetFrame = this.frames[targetSlot];
    const targetScore = this.scores[targetSlot];
    let ratio = 0;
    if (!(Math.abs(average) < 0.00001)) ratio = Math.min(targetScore / average, 255);
    else if (targetScore >= minContentVal) ratio = 255;
    this.lastTarget = targetFrame;
    this.lastRatio = ratio;
    const thresholdMet = ratio >= adaptiveThreshold && targetScore >= minContentVal;
    if (thresholdMet && frame - this.lastCut >= minSceneLen) {
      this.lastCut = targetFrame;
      return [targetFrame];
    }
    return NONE;
  }
}

/**
 * HSV cut detection at one or several frame rates in one pass over the frames — the SVD paper's "cascade of cut
 * detectors at three different frame rates" (arXiv 2311.15127, §3.1 / App. C), as video2dataset's
 * CutDetectionSubsampler does it with its `framerates` list: the same detector runs on the native frames and on
 * every k-th frame, k = floor(native fps / level fps) (`frame_skip = original_fps // target_fps − 1`); frame numbers
 * and `minSceneLen` stay in native frames at every level.
 *
 * Each frame is converted to HSV once; a level with stride k scores frame t against frame t − k (its previous
 * sample) and its rule (ContentDetector's or AdaptiveDetector's, detectors.ts) decides. A cut a level reports at
 * sample t lies somewhere in (t − k, t]: it is localised to the frame of that window with the highest native-rate
 * score (the frame-to-frame score every frame gets anyway), so every cut is frame-exact. Levels are merged finest
 * first: a cut from a coarser level within `mergeWithin` frames of a cut found by a finer level is the same cut.
 *
 * What the coarse levels add: a gradual transition (cross-fade, slow fade) changes each frame too little for the
 * native-rate detector, but the change between samples k frames apart adds up to a cut-sized score. Steady camera
 * motion adds up too, which is why the default coarse levels use AdaptiveDetector's rule (a score that stands out
 * from its neighbours' mean) rather than a fixed threshold.
 *
 * Per frame the work is one HSV conversion and one score per level that samples it; nothing is allocated per
 * frame. The native scores are kept (8 bytes a frame) for localisation.
 */
import type { FrameStream } from '../frames.ts';
import { analysisSize, DEFAULT_ANALYSIS_WIDTH } from './analysis-size.ts';
import {
  type ContentWeights,
  checkContentWeights,
  DEFAULT_CONTENT_WEIGHTS,
  hsvComponents,
  LUMA_ONLY_WEIGHTS,
  weightedScore,
} from './content.ts';
import type { CutDetector, DetectOptions } from './cut-detector.ts';
import { type AdaptiveDetectorOptions, AdaptiveRule, type ContentDetectorOptions, ContentRule } from './detectors.ts';
import { rgbToHsvPlanes } from './hsv.ts';

/** The rule a level applies to its scores, with its parameters (defaults: PySceneDetect's). */
export type LevelRule =
  | ({ kind: 'content' } & Partial<ContentDetectorOptions>)
  | ({ kind: 'adaptive' } & Partial<AdaptiveDetectorOptions>);

/** One level of the cascade: a frame rate ('native': every frame) and a rule. */
export interface CascadeLevel {
  fps: number | 'native';
  rule: LevelRule;
}

/**
 * The default cascade, three rates: every frame with ContentDetector (threshold 27, min_scene_len 15: PySceneDetect's
 * and video2dataset's defaults) for hard cuts; 8 fps and 2 fps with AdaptiveDetector (3.0, window 2, min_content_val
 * 15) for transitions that take a few frames (8 fps: about 1/3 s between samples at 24–30 fps) or up to a second or
 * more (2 fps).
 */
export const DEFAULT_CASCADE_LEVELS: readonly CascadeLevel[] = Object.freeze([
  { fps: 'native', rule: { kind: 'content' } },
  { fps: 8, rule: { kind: 'adaptive' } },
  { fps: 2, rule: { kind: 'adaptive' } },
] as const);

export interface CascadeOptions {
  /** Default {@link DEFAULT_CASCADE_LEVELS}. Cuts are merged finest level (smallest stride) first. */
  levels?: readonly CascadeLevel[];
  /** Score weights (default PySceneDetect's 1, 1, 1, 0). */
  weights?: ContentWeights;
  /** Only the V channel counts (PySceneDetect's `luma_only`); overrides `weights`. */
  lumaOnly?: boolean;
  /** A coarser level's cut less than this many frames from a finer level's cut is the same cut (default 15). */
  mergeWithin?: number;
  /** PySceneDetect's effective width for the analysis size (default 256; see analysis-size.ts). */
  analysisWidth?: number;
}

/** A frame-exact cut and where it came from. */
export interface CascadeCut {
  /** The first frame of the new shot. */
  frame: number;
  /** Index (in the options' `levels`) of the level that found it. */
  level: number;
  /** Frames between that level's samples (1 at the native rate). */
  stride: number;
  /** The sample frame the level reported (frame = sampleFrame when stride is 1). */
  sampleFrame: number;
  /** The native-rate score of `frame` (the score between frames frame − 1 and frame). */
  score: number;
}

export interface CascadeLevelReport {
  fps: number | 'native';
  stride: number;
  rule: string;
  params: Readonly<Record<string, unknown>>;
  /** The sample frames the level reported, before localisation and merging. */
  reported: number[];
  /**
   * True when an earlier level already samples at this stride (a video whose own rate is at or below the level's:
   * 8 fps on a 10 fps video is stride 1, the native rate); the level is not run.
   */
  duplicate: boolean;
}

export interface CascadeResult {
  frameCount: number;
  fps: number;
  width: number;
  height: number;
  /** The merged cuts, sorted by frame. */
  cuts: CascadeCut[];
  levels: CascadeLevelReport[];
  /** The native-rate score of every frame (0 for frame 0). */
  scores: Float64Array;
}

interface LevelState {
  report: CascadeLevelReport;
  stride: number;
  rule: ContentRule | AdaptiveRule;
  /** HSV planes of the level's previous sample (strides > 1). */
  prev: Uint8Array | null;
  hasPrev: boolean;
  cuts: CascadeCut[];
}

/** Stride of a level: video2dataset's `original_fps // target_fps` (at least 1). */
export function levelStride(nativeFps: number, fps: number | 'native'): number {
  if (fps === 'native') return 1;
  if (!(Number.isFinite(fps) && fps > 0)) throw new RangeError(`a level's fps must be a positive number, got ${fps}`);
  return Math.max(1, Math.floor(nativeFps / fps + 1e-9));
}

/** Detection at one or several frame rates in one pass (see the file's comment); a {@link CutDetector}. */
export class CascadeCutDetector implements CutDetector {
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
  private readonly levels: readonly CascadeLevel[];
  private readonly weights: ContentWeights;
  private readonly mergeWithin: number;
  private readonly analysisWidth: number;

  constructor(opts: CascadeOptions = {}, name = 'cascade') {
    this.name = name;
    this.levels = opts.levels ?? DEFAULT_CASCADE_LEVELS;
    if (this.levels.length === 0) throw new RangeError('a cascade needs at least one level');
    this.weights = { ...(opts.lumaOnly ? LUMA_ONLY_WEIGHTS : (opts.weights ?? DEFAULT_CONTENT_WEIGHTS)) };
    checkContentWeights(this.weights);
    this.mergeWithin = opts.mergeWithin ?? 15;
    if (!(Number.isInteger(this.mergeWithin) && this.mergeWithin >= 0)) {
      throw new RangeError(`mergeWithin must be a whole number of frames ≥ 0, got ${this.mergeWithin}`);
    }
    this.analysisWidth = opts.analysisWidth ?? DEFAULT_ANALYSIS_WIDTH;
    // Build each rule once so bad parameters fail here, not at the first frame.
    for (const level of this.levels) {
      makeRule(level.rule);
      if (level.fps !== 'native') levelStride(1, level.fps);
    }
    this.params = Object.freeze({
      levels: this.levels.map((l) => ({ fps: l.fps, rule: { ...makeRule(l.rule).options, kind: l.rule.kind } })),
      weights: { ...this.weights },
      mergeWithin: this.mergeWithin,
      analysisWidth: this.analysisWidth,
    });
  }

  analysisSize(width: number, height: number): { width: number; height: number } {
    return analysisSize(width, height, this.analysisWidth);
  }

  async detect(stream: FrameStream, opts: DetectOptions = {}): Promise<number[]> {
    return (await this.run(stream, opts)).cuts.map((c) => c.frame);
  }

  /** The cuts with their levels, every level's raw reports and the native scores. */
  async run(stream: FrameStream, opts: DetectOptions = {}): Promise<CascadeResult> {
    const { width, height, fps } = stream;
    if (!(Number.isFinite(fps) && fps > 0)) throw new RangeError(`the stream's fps must be positive, got ${fps}`);
    const pixels = width * height;
    const frameBytes = pixels * 3;
    const levels: LevelState[] = [];
    const strides = new Set<number>();
    for (const level of this.levels) {
      const stride = levelStride(fps, level.fps);
      const rule = makeRule(level.rule);
      const duplicate = strides.has(stride);
      strides.add(stride);
      levels.push({
        report: { fps: level.fps, stride, rule: level.rule.kind, params: rule.options, reported: [], duplicate },
        stride,
        rule,
        prev: stride > 1 && !duplicate ? new Uint8Array(3 * pixels) : null,
        hasPrev: false,
        cuts: [],
      });
    }
    let prev = new Uint8Array(3 * pixels);
    let cur = new Uint8Array(3 * pixels);
    const comp = new Float64Array(3);
    let scores = new Float64Array(1024);
    let t = 0;
    const w = this.weights;
    for await (const frame of stream.frames) {
      if (opts.signal?.aborted) opts.signal.throwIfAborted();
      if (frame.length !== frameBytes) {
        throw new RangeError(`frame ${t} of ${stream.source} has ${frame.length} bytes, expected ${frameBytes}`);
      }
      rgbToHsvPlanes(frame, cur, pixels);
      let native = 0;
      if (t > 0) {
        hsvComponents(prev, cur, pixels, comp);
        native = weightedScore(comp[0], comp[1], comp[2], w);
      }
      if (t === scores.length) {
        const grown = new Float64Array(scores.length * 2);
        grown.set(scores);
        scores = grown;
      }
      scores[t] = native;
      for (let li = 0; li < levels.length; li++) {
        const level = levels[li];
        if (level.report.duplicate || t % level.stride !== 0) continue;
        let score = native;
        if (level.prev !== null) {
          score = 0;
          if (level.hasPrev) {
            hsvComponents(level.prev, cur, pixels, comp);
            score = weightedScore(comp[0], comp[1], comp[2], w);
          }
          level.prev.set(cur);
          level.hasPrev = true;
        }
        const found = level.rule.push(t, score);
        for (const sample of found) {
          level.report.reported.push(sample);
          const at = localise(scores, sample, level.stride);
          level.cuts.push({ frame: at, level: li, stride: level.stride, sampleFrame: sample, score: scores[at] });
        }
      }
      const swap = prev;
      prev = cur;
      cur = swap;
      t++;
    }
    opts.signal?.throwIfAborted();
    return {
      frameCount: t,
      fps,
      width,
      height,
      cuts: mergeLevels(
        [...levels].sort((a, b) => a.stride - b.stride).map((l) => l.cuts),
        this.mergeWithin,
      ),
      levels: levels.map((l) => l.report),
      scores: scores.slice(0, t),
    };
  }
}

/** ContentDetector at the native rate alone (PySceneDetect's `detect-content`). */
export class ContentCutDetector extends CascadeCutDetector {
  constructor(
    opts: Partial<ContentDetectorOptions> & Pick<CascadeOptions, 'weights' | 'lumaOnly' | 'analysisWidth'> = {},
  ) {
    const { weights, lumaOnly, analysisWidth, ...rule } = opts;
    super(
      { levels: [{ fps: 'native', rule: { kind: 'content', ...rule } }], weights, lumaOnly, analysisWidth },
      'content',
    );
  }
}

/** AdaptiveDetector at the native rate alone (PySceneDetect's `detect-adaptive`). */
export class AdaptiveCutDetector extends CascadeCutDetector {
  constructor(
    opts: Partial<AdaptiveDetectorOptions> & Pick<CascadeOptions, 'weights' | 'lumaOnly' | 'analysisWidth'> = {},
  ) {
    const { weights, lumaOnly, analysisWidth, ...rule } = opts;
    super(
      { levels: [{ fps: 'native', rule: { kind: 'adaptive', ...rule } }], weights, lumaOnly, analysisWidth },
      'adaptive',
    );
  }
}

function makeRule(rule: LevelRule): ContentRule | AdaptiveRule {
  const { kind, ...options } = rule;
  if (kind === 'content') return new ContentRule(options);
  if (kind === 'adaptive') return new AdaptiveRule(options);
  throw new RangeError(`unknown level rule ${JSON.stringify(kind)} (expected 'content' or 'adaptive')`);
}

/** The frame of (sample − stride, sample] with the highest native score (the first of equals); frame ≥ 1. */
export function localise(scores: Float64Array, sample: number, stride: number): number {
  if (stride <= 1) return sample;
  let best = Math.max(1, sample - stride + 1);
  for (let f = best + 1; f <= sample; f++) if (scores[f] > scores[best]) best = f;
  return best;
}

/**
 * Merges the levels' cuts, finest level first: a cut is kept unless a finer level kept one less than `within` frames
 * away.
 * Cuts of one level are never merged with each other (each level's own minimum scene length already spaces them).
 */
export function mergeLevels(levels: readonly CascadeCut[][], within: number): CascadeCut[] {
  const kept: CascadeCut[] = [];
  for (const cuts of levels) {
    const finer = kept.slice();
    for (const c of cuts) {
      if (!finer.some((k) => Math.abs(k.frame - c.frame) < within)) kept.push(c);
    }
  }
  return kept.sort((a, b) => a.frame - b.frame || a.level - b.level);
}

/**
 * The motion score of a clip, as SVD's flow filter computes it (arXiv 2311.15127 §3.1, App. C: dense optical flow
 * at 2 fps, mean flow magnitude; svd-spec.md §5), made independent of the resolution:
 *
 * 1. frames sampled at 2 fps (ffmpeg's `fps` filter: frames 0.5 s apart), scaled (ffmpeg, lanczos) so that the
 *    shorter side is {@link MOTION_ANALYSIS}.shortSide = 256 pixels — whatever the video's size, so that the flow
 *    method sees the same scale of detail on every clip (455×256 for 16:9);
 * 2. OpenCV's RGB2GRAY (gray.ts), Farneback with video2dataset's parameters (farneback.ts) between consecutive
 *    samples;
 * 3. per pair the mean flow magnitude over all pixels (video2dataset's `mean_magnitude` at this size), divided by
 *    the frame diagonal (Data-Juicer's `relative` option); the clip's score is the mean over its pairs.
 *
 * So the score is the fraction of the frame diagonal the content moves per half second: a pan at v pixels per frame
 * of a 30 fps video of diagonal D scores 15·v / D. `motionBucketFromScore` (src/conditioning/motion-bucket.ts) and
 * the corpus percentiles (buckets.ts) map it to `motion_bucket_id`.
 *
 * Range: Farneback with video2dataset's parameters reads a pan within 0.2 % up to ~24 pixels per pair at the
 * analysis size (4.6 % of the diagonal per half second at 455×256: a pan across the frame width in ~10 s) and breaks
 * down beyond ~30 pixels (the coarsest of its 3 levels — the most a 256-pixel side allows, OpenCV stops at 32 pixels —
 * then sees more than its window can match): it reads 10–40 % of the truth and the camera class turns `other`
 * (measured on the tiled test photo; OpenCV behaves the same — it read 22.9 pixels for a 30-pixel pan in the
 * curation survey). Faster pans therefore score lower than the fastest pans it can read.
 */

import { decodeFrames } from '../../video/decode.ts';
import { VideoInputError } from '../../video/errors.ts';
import { probeVideo, type VideoProbe } from '../../video/probe.ts';
import { type CameraFit, type CameraMotionClass, classifyCamera, fitCamera, meanCameraFit } from './camera.ts';
import { FarnebackFlow, type FarnebackParams, type FarnebackPyramid, type GrayPixels } from './farneback.ts';
import { rgbToGray } from './gray.ts';

/** The analysis settings of the motion score (module comment). */
export const MOTION_ANALYSIS = Object.freeze({
  /** Frames are scaled so that their shorter side has this many pixels. */
  shortSide: 256,
  /** Samples per second: flow between frames 1/sampleFps = 0.5 s apart. */
  sampleFps: 2,
});

/** The motion of a clip: the score, its parts and the camera motion. */
export interface ClipMotion {
  /** Mean over pairs of (mean flow magnitude / frame diagonal): fraction of the diagonal per sample interval. */
  score: number;
  /** Each pair's score, in order. */
  pairScores: number[];
  /** Mean flow magnitude in pixels of the analysis size (video2dataset's `mean_magnitude` at this size). */
  meanMagnitude: number;
  /** Analysis frame size. */
  width: number;
  height: number;
  sampleFps: number;
  /** The camera-motion class of the clip (camera.ts) and the mean fit it was read from. */
  camera: CameraMotionClass;
  cameraFit: CameraFit;
  /** Each pair's camera class. */
  pairCameras: CameraMotionClass[];
}

/** The analysis size of a width×height video: shorter side `shortSide`, aspect kept (longer side rounded). */
export function analysisSize(
  width: number,
  height: number,
  shortSide: number = MOTION_ANALYSIS.shortSide,
): { width: number; height: number } {
  if (!(width > 0 && height > 0)) throw new RangeError(`analysisSize: bad frame size ${width}×${height}`);
  if (!(Number.isInteger(shortSide) && shortSide >= 1))
    throw new RangeError(`shortSide must be a positive integer, got ${shortSide}`);
  const s = shortSide / Math.min(width, height);
  return width <= height
    ? { width: shortSide, height: Math.max(shortSide, Math.round(height * s)) }
    : { width: Math.max(shortSide, Math.round(width * s)), height: shortSide };
}

/** Mean of √(dx² + dy²) over an interleaved flow. */
export function meanFlowMagnitude(flow: Float32Array): number {
  let s = 0;
  for (let i = 0; i < flow.length; i += 2) s += Math.sqrt(flow[i] * flow[i] + flow[i + 1] * flow[i + 1]);
  return s / (flow.length / 2);
}

/**
 * Accumulates a clip's motion from its samples, one frame at a time (each frame is expanded once and kept only until
 * the next arrives).
 */
export class MotionAccumulator {
  private readonly flow: FarnebackFlow;
  private readonly out: Float32Array;
  private readonly gray: Uint8Array;
  private previous: FarnebackPyramid | undefined;
  private readonly scores: number[] = [];
  private readonly magnitudes: number[] = [];
  private readonly fits: CameraFit[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
    readonly sampleFps: number = MOTION_ANALYSIS.sampleFps,
    farneback: Partial<FarnebackParams> = {},
  ) {
    this.flow = new FarnebackFlow(width, height, farneback);
    this.out = new Float32Array(width * height * 2);
    this.gray = new Uint8Array(width * height);
  }

  /** Adds the next sample, as interleaved RGB bytes (ffmpeg's rgb24) of the analysis size. */
  addRgb(rgb: Uint8Array): void {
    this.addGray(rgbToGray(rgb, this.gray));
  }

  /** Adds the next sample as gray pixels of the analysis size. */
  addGray(gray: GrayPixels): void {
    const expanded = this.flow.expand(gray);
    if (this.previous !== undefined) {
      const flow = this.flow.flow(this.previous, expanded, this.out);
      const magnitude = meanFlowMagnitude(flow);
      this.magnitudes.push(magnitude);
      this.scores.push(magnitude / Math.hypot(this.width, this.height));
      this.fits.push(fitCamera(flow, this.width, this.height));
    }
    this.previous = expanded;
  }

  /** Pairs seen so far. */
  get pairs(): number {
    return this.scores.length;
  }

  /** The clip's motion; needs at least two samples. */
  result(): ClipMotion {
    if (this.scores.length === 0) throw new RangeError('motion: a clip needs at least two samples (one pair)');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const cameraFit = meanCameraFit(this.fits);
    return {
      score: mean(this.scores),
      pairScores: [...this.scores],
      meanMagnitude: mean(this.magnitudes),
      width: this.width,
      height: this.height,
      sampleFps: this.sampleFps,
      camera: classifyCamera(cameraFit),
      cameraFit,
      pairCameras: this.fits.map((f) => classifyCamera(f)),
    };
  }
}

/** The motion of gray samples already at the analysis size (consecutive samples 1/sampleFps apart). */
export function motionOfGrayFrames(
  frames: readonly GrayPixels[],
  width: number,
  height: number,
  opts: { sampleFps?: number; farneback?: Partial<FarnebackParams> } = {},
): ClipMotion {
  const acc = new MotionAccumulator(width, height, opts.sampleFps, opts.farneback);
  for (const f of frames) acc.addGray(f);
  return acc.result();
}

/**
 * The motion of RGB samples already at the analysis size, from any frame source (an array, a generator, a
 * `FrameStream`'s `frames` at 2 fps): each frame is converted to gray as it arrives, so a source may reuse its buffer.
 */
export async function motionOfFrames(
  frames: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  width: number,
  height: number,
  opts: { sampleFps?: number; farneback?: Partial<FarnebackParams> } = {},
): Promise<ClipMotion> {
  const acc = new MotionAccumulator(width, height, opts.sampleFps, opts.farneback);
  for await (const f of frames) {
    if (f.length !== width * height * 3) {
      throw new RangeError(`motion: a frame has ${f.length} bytes, expected ${width}×${height}×3`);
    }
    acc.addRgb(f);
  }
  return acc.result();
}

export interface ClipMotionOptions {
  /** Seconds from the start of the video to the clip (default 0). */
  start?: number;
  /** Clip length in seconds (default, and at most: to the end of the video). */
  duration?: number;
  /** Default {@link MOTION_ANALYSIS}.shortSide (256). */
  shortSide?: number;
  /** Default {@link MOTION_ANALYSIS}.sampleFps (2). */
  sampleFps?: number;
  /** Farneback parameters (default video2dataset's). */
  farneback?: Partial<FarnebackParams>;
  /** Samples decoded per ffmpeg run (default 32): bounds the memory of long clips. */
  chunkSamples?: number;
  signal?: AbortSignal;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** The file's probe when the caller has it (a clip's stages share one). */
  probe?: VideoProbe;
}

/**
 * The motion of a clip of a video file (the window [start, start + duration), default the whole video): probe,
 * decode samples at the analysis size in chunks, flow between consecutive samples. A clip shorter than one sample
 * interval (0.5 s) is a {@link VideoInputError} `too-short`: it has no pair of frames 0.5 s apart.
 */
export async function clipMotion(path: string, opts: ClipMotionOptions = {}): Promise<ClipMotion> {
  const fps = opts.sampleFps ?? MOTION_ANALYSIS.sampleFps;
  const start = opts.start ?? 0;
  const chunk = opts.chunkSamples ?? 32;
  if (!(fps > 0 && Number.isFinite(fps))) throw new RangeError(`sampleFps must be positive, got ${fps}`);
  if (!(Number.isInteger(chunk) && chunk >= 2))
    throw new RangeError(`chunkSamples must be an integer ≥ 2, got ${chunk}`);
  const probe = opts.probe ?? (await probeVideo(path, { signal: opts.signal, ffprobePath: opts.ffprobePath }));
  if (!probe.hasVideo) throw new VideoInputError('no-video', path, `${path} has no video stream`);
  const size = analysisSize(probe.width, probe.height, opts.shortSide);
  const duration = Math.min(opts.duration ?? Number.POSITIVE_INFINITY, Math.max(0, probe.duration - start));
  if (duration * fps < 1 - 1e-9) {
    const what = `a clip of ${duration.toFixed(3)} s is shorter than one sample interval (${1 / fps} s at ${fps} fps)`;
    throw new VideoInputError('too-short', path, `cannot measure the motion of ${path} from ${start} s: ${what}`);
  }
  // samples at start + k/fps for every k with k/fps < duration
  const wanted = Math.max(2, Math.floor(duration * fps - 1e-6) + 1);
  const acc = new MotionAccumulator(size.width, size.height, fps, opts.farneback);
  for (let first = 0; first < wanted; first += chunk) {
    const count = Math.min(chunk, wanted - first);
    const frames = await decodeSamples(path, {
      start: start + first / fps,
      fps,
      count,
      width: size.width,
      height: size.height,
      signal: opts.signal,
      ffmpegPath: opts.ffmpegPath,
      // the last sample may fall past the video's last frame by rounding: accept one fewer if a pair remains
      shortfallAllowed: first + count === wanted && wanted > 2 ? 1 : 0,
    });
    for (const f of frames) acc.addRgb(f);
  }
  return acc.result();
}

async function decodeSamples(
  path: string,
  o: {
    start: number;
    fps: number;
    count: number;
    width: number;
    height: number;
    signal?: AbortSignal;
    ffmpegPath?: string;
    shortfallAllowed: number;
  },
): Promise<Uint8Array[]> {
  for (let count = o.count; ; count--) {
    if (count === 0) return [];
    try {
      const { data } = await decodeFrames(path, {
        start: o.start,
        fps: o.fps,
        count,
        width: o.width,
        height: o.height,
        signal: o.signal,
        ffmpegPath: o.ffmpegPath,
      });
      return data;
    } catch (e) {
      const shortBy = o.count - count;
      if (!(e instanceof VideoInputError && e.reason === 'too-short' && shortBy < o.shortfallAllowed)) throw e;
    }
  }
}

/**
 * The ffmpeg command line of {@link decodeFrames}: seek, sample at a frame rate, scale to cover the target and crop
 * it, emit raw rgb24 on stdout. Pure functions (options → arguments), so the geometry is testable without a video.
 *
 * Geometry (the same as `coverGeometry` in preprocess.ts, i.e. the reference demos' resize-to-cover + crop): the frame
 * is first brought to square pixels (`iw·sar`, anamorphic video), then scaled by s = max(W/w, H/h) with ffmpeg's
 * `force_original_aspect_ratio=increase` (each side rounded, never below the target), then a W×H window is cut at
 * `x = floor((iw − W)·fx)`, `y = floor((ih − H)·fy)`; the centre crop is fx = fy = 0.5.
 */
import { VideoInputError } from './errors.ts';

/** Where the width×height window comes from. */
export type FrameCrop =
  /** Scale to cover, take the centre (default). */
  | { mode: 'center' }
  /** Scale to cover, take the window at fractions (x, y) ∈ [0, 1]² of the slack (0: left/top, 1: right/bottom). */
  | { mode: 'offset'; x: number; y: number }
  /**
   * Cut this rectangle of the (square-pixel, rotated) source frame, then scale it to exactly width×height. A
   * rectangle larger than the frame is `bad-options`; one that sticks out is moved inside (ffmpeg's crop clamps x, y).
   */
  | { mode: 'rect'; left: number; top: number; width: number; height: number };

/** ffmpeg (swscale) resampling filters. */
export type Resample = 'lanczos' | 'bicubic' | 'bilinear' | 'area';

export interface DecodeOptions {
  /** Sample at this rate (frames per second) with ffmpeg's `fps` filter; default: every frame of the video. */
  fps?: number;
  /** Seconds from the beginning of the video to the first frame (default 0). */
  start?: number;
  /** Frames wanted; fewer available is {@link VideoInputError} `too-short`. */
  count: number;
  /** Output frame size in pixels. */
  width: number;
  height: number;
  /** Default `{ mode: 'center' }`. */
  crop?: FrameCrop;
  /** Default `lanczos` (what sharp's lanczos3 does for the inference input). */
  resample?: Resample;
  /** Aborting kills ffmpeg and rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Give up after this many milliseconds (default 120 000): {@link VideoInputError} `timeout`. */
  timeoutMs?: number;
  /** Decoder threads (`-threads` before `-i`); default: ffmpeg's choice. */
  threads?: number;
  /** The ffmpeg binary (default `ffmpeg` on PATH). */
  ffmpegPath?: string;
}

const MAX_SIDE = 16384;
const MAX_COUNT = 100_000;

/** Throws {@link VideoInputError} `bad-options` unless the options describe a possible request. */
export function checkDecodeOptions(path: string, o: DecodeOptions): void {
  const bad = (what: string) => new VideoInputError('bad-options', path, `cannot decode ${path}: ${what}`);
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > MAX_COUNT) {
    throw bad(`count must be an integer in [1, ${MAX_COUNT}], got ${o.count}`);
  }
  for (const [name, v] of [
    ['width', o.width],
    ['height', o.height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_SIDE)
      throw bad(`${name} must be an integer in [1, ${MAX_SIDE}], got ${v}`);
  }
  if (o.fps !== undefined && !(Number.isFinite(o.fps) && o.fps > 0 && o.fps <= 1000)) {
    throw bad(`fps must be a number in (0, 1000], got ${o.fps}`);
  }
  if (o.start !== undefined && !(Number.isFinite(o.start) && o.start >= 0)) {
    throw bad(`start must be a non-negative number of seconds, got ${o.start}`);
  }
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1)) {
    throw bad(`threads must be a positive integer, got ${o.threads}`);
  }
  const crop = o.crop ?? { mode: 'center' };
  if (crop.mode === 'offset' && !(inUnit(crop.x) && inUnit(crop.y))) {
    throw bad(`crop offsets must be in [0, 1], got (${crop.x}, ${crop.y})`);
  }
  if (crop.mode === 'rect') {
    const { left, top, width, height } = crop;
    const ok = [left, top].every((v) => Number.isInteger(v) && v >= 0) && [width, height].every(isPositiveInt);
    if (!ok) throw bad(`crop rectangle ${width}×${height} at (${left}, ${top}) must be whole, non-negative pixels`);
  }
}

/** The `-vf` filter chain: rate, square pixels, cover-scale + crop (or crop + scale), rgb24. */
export function decodeFilter(o: DecodeOptions): string {
  const flags = `flags=${o.resample ?? 'lanczos'}+accurate_rnd+full_chroma_int`;
  const chain: string[] = [];
  if (o.fps !== undefined) chain.push(`fps=${o.fps}`);
  // Square pixels first (sar is 1 for almost every video, and then this scale passes frames through untouched).
  chain.push(`scale=w='trunc(iw*sar)':h=ih:${flags}`, 'setsar=1');
  const crop = o.crop ?? { mode: 'center' };
  if (crop.mode === 'rect') {
    chain.push(`crop=w=${crop.width}:h=${crop.height}:x=${crop.left}:y=${crop.top}:exact=1`);
    chain.push(`scale=w=${o.width}:h=${o.height}:${flags}`, 'format=rgb24');
  } else {
    const [fx, fy] = crop.mode === 'offset' ? [crop.x, crop.y] : [0.5, 0.5];
    chain.push(`scale=w=${o.width}:h=${o.height}:force_original_aspect_ratio=increase:${flags}`, 'format=rgb24');
    chain.push(`crop=w=${o.width}:h=${o.height}:x='floor((iw-ow)*${fx})':y='floor((ih-oh)*${fy})':exact=1`);
  }
  return chain.join(',');
}

/** The whole ffmpeg command line: raw rgb24 frames of `width`×`height` on stdout, at most `count` of them. */
export function decodeArgs(path: string, o: DecodeOptions): string[] {
  const input = [
    ...(o.threads !== undefined ? ['-threads', String(o.threads)] : []),
    ...(o.start ? ['-ss', o.start.toFixed(6)] : []),
    '-i',
    path,
  ];
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', ...input],
    ...['-map', '0:V:0', '-an', '-sn', '-dn', '-vf', decodeFilter(o)],
    ...['-frames:v', String(o.count), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
  ];
}

function inUnit(v: number): boolean {
  return Number.isFinite(v) && v >= 0 && v <= 1;
}

function isPositiveInt(v: number): boolean {
  return Number.isInteger(v) && v > 0;
}

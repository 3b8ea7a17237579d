/**
 * One training sample from one record: the clip's window (frame rate, start, crop, flip from the sample's choices),
 * decoded by ffmpeg straight to the stage's frame size, as float32 [T, 3, H, W] in [−1, 1], with its micro-condition
 * labels (`fps_id`, `motion_bucket_id`, arXiv 2311.15127 Sec. 3) and caption. Images (stage I) give one frame, or the
 * frame repeated T times.
 *
 * Spatial augmentation is a random crop: the frame is scaled to cover width×height (the inference preprocessing's
 * geometry) and the window is taken at the choices' offsets instead of the centre. With `colourJitter`, the sample's
 * channels are scaled by the window's gains; with `channelShuffle`, they are then put in the window's order.
 */
import { readFile } from 'node:fs/promises';
import type { HostTensor } from '../../tensor/host-tensor.ts';
import type { Resample } from '../../video/decode.ts';
import { decodeFrames } from '../../video/decode.ts';
import { ImageInputError, VideoInputError } from '../../video/errors.ts';
import type { VideoFrames } from '../../video/frames.ts';
import { decodeImageRgb, type RgbImage } from '../../video/image-io.ts';
import { coverGeometry, cropRgb, resizeRgb } from '../../video/preprocess.ts';
import { type ProbeOptions, probeVideo, type VideoProbe } from '../../video/probe.ts';
import { type ClipWindow, resolveWindow, type SampleChoices, type WindowSpec, windowKey } from './choices.ts';
import { applyColourGains, framesToTensor, permuteChannels } from './frames-tensor.ts';
import { DEFAULT_FPS_ID, fpsIdFromFps, motionBucketOf } from './labels.ts';
import type { ClipRecord, ResolvedRecord } from './record.ts';

/** Probes a video (the dataset passes one that remembers results). */
export type ProbeFn = (path: string, opts: ProbeOptions) => Promise<VideoProbe>;

export interface LoadOptions extends WindowSpec {
  /** The stage's frame size in pixels. */
  width: number;
  height: number;
  /** Images: one frame (`single`, default) or the image repeated T times (`repeat`). */
  imageFrames?: 'single' | 'repeat';
  /** ffmpeg's resampling filter (default lanczos). */
  resample?: Resample;
  signal?: AbortSignal;
  /** Per decode / probe, in milliseconds (default: decodeFrames' and probeVideo's). */
  timeoutMs?: number;
  /** ffmpeg decoder threads (default: ffmpeg's choice). */
  threads?: number;
  /** Probing of records without `end` / `fps` (default {@link probeVideo}). */
  probe?: ProbeFn;
}

/** A training sample. */
export interface ClipSample {
  id: string;
  /** float32 [T, 3, H, W] in [−1, 1] (T = 1 for an image unless `imageFrames: 'repeat'`). */
  frames: HostTensor<'float32'>;
  /** round(sampled fps) − 1; {@link DEFAULT_FPS_ID} for images. */
  fpsId: number;
  /** 0–255: the record's bucket, else from its motion score, else 127. */
  motionBucketId: number;
  caption?: string;
  image: boolean;
  /** What was decoded (rate, start, crop, flip). */
  window: ClipWindow;
  /** `windowKey(window)`: keys the latent cache together with `id`. */
  key: string;
}

/**
 * `record` with `end` and `fps` filled in: a video's missing values are probed (its whole duration and native
 * rate); an image gets `end = 0`, `fps = 0`. Throws {@link VideoInputError} (`no-video` for a file without video).
 */
export async function resolveRecord(
  record: ClipRecord,
  opts: { probe?: ProbeFn; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ResolvedRecord> {
  if (record.image) return { ...record, end: 0, fps: record.fps ?? 0 };
  if (record.end !== undefined && record.fps !== undefined) return record as ResolvedRecord;
  const info = await (opts.probe ?? probeVideo)(record.path, { signal: opts.signal, timeoutMs: opts.timeoutMs });
  if (!info.hasVideo) {
    throw new VideoInputError('no-video', record.path, `${record.path} has no video stream (audio only?)`);
  }
  return { ...record, end: record.end ?? info.duration, fps: record.fps ?? info.fps };
}

/** Loads the sample that `choices` pick from `record` (see the module comment). Throws VideoInputError / ImageInputError. */
export async function loadSample(record: ClipRecord, choices: SampleChoices, opts: LoadOptions): Promise<ClipSample> {
  const resolved = await resolveRecord(record, opts);
  const window = resolveWindow(resolved, choices, opts);
  const image = record.image === true;
  let frames: HostTensor<'float32'>;
  if (image) {
    const rgb = await cropImage(await readImage(record.path), window, opts);
    const repeat = opts.imageFrames === 'repeat' ? opts.frames : 1;
    frames = framesToTensor({ width: rgb.width, height: rgb.height, data: [rgb.data] }, { flip: window.flip, repeat });
  } else {
    const decoded: VideoFrames = await decodeFrames(record.path, {
      fps: window.fps,
      start: window.start,
      count: window.count,
      width: opts.width,
      height: opts.height,
      crop: { mode: 'offset', x: window.crop.x, y: window.crop.y },
      resample: opts.resample,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
      threads: opts.threads,
    });
    frames = framesToTensor(decoded, { flip: window.flip });
  }
  if (window.gains) applyColourGains(frames, window.gains);
  if (window.channels) permuteChannels(frames, window.channels);
  const sample: ClipSample = {
    id: record.id,
    frames,
    fpsId: image ? DEFAULT_FPS_ID : fpsIdFromFps(window.fps),
    motionBucketId: motionBucketOf(record),
    image,
    window,
    key: windowKey(window),
  };
  if (record.caption !== undefined) sample.caption = record.caption;
  return sample;
}

async function readImage(path: string): Promise<RgbImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new ImageInputError('missing', path, `image file not found: ${path}`);
    throw new ImageInputError('unreadable', path, `cannot read image file ${path}: ${code ?? (e as Error).message}`);
  }
  if (bytes.length === 0) throw new ImageInputError('empty', path, `image file is empty (0 bytes): ${path}`);
  try {
    return await decodeImageRgb(bytes);
  } catch (e) {
    throw new ImageInputError('not-an-image', path, `cannot decode image ${path}: ${(e as Error).message}`);
  }
}

/** Scale to cover width×height, take the window at the crop offsets (as decode-args.ts does for video). */
async function cropImage(
  img: RgbImage,
  window: ClipWindow,
  size: { width: number; height: number },
): Promise<RgbImage> {
  const { resized } = coverGeometry(img, size);
  const scaled = await resizeRgb(img, resized);
  const left = Math.floor((resized.width - size.width) * window.crop.x);
  const top = Math.floor((resized.height - size.height) * window.crop.y);
  return cropRgb(scaled, left, top, { width: size.width, height: size.height });
}

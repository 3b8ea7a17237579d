/**
 * Video metadata through ffprobe: size, frame rate, duration and frame count of the first video stream, read from the
 * container (no frame is decoded), so probing a long video costs the same as a short one (tens of milliseconds, mostly
 * process start).
 */

import { checkInputFile, deadline, failureDetail, failureReason, inputSpawnError } from './decode-input.ts';
import { VideoInputError } from './errors.ts';
import { startProcess, tail } from './ffmpeg.ts';

/** What {@link probeVideo} reports about a file's first video stream. */
export interface VideoProbe {
  path: string;
  /** False for a valid media file without a video stream (audio only, or only cover art); the numbers are then 0. */
  hasVideo: boolean;
  /** Display size (after the rotation ffmpeg applies when decoding), in pixels. */
  width: number;
  height: number;
  /** The stream's `r_frame_rate` as a number (e.g. 30000/1001 → 29.97…). */
  fps: number;
  /** Duration in seconds: the stream's, else the container's (WebM / Matroska streams have none of their own). */
  duration: number;
  /** The stream's `nb_frames` when the container records it (mp4, gif), else round(duration · fps). */
  frameCount: number;
  /** True when `frameCount` is the estimate round(duration · fps). */
  frameCountEstimated: boolean;
  /** The codec name (h264, vp9, gif, …); '' without video. */
  codec: string;
  /** Display rotation in degrees (0, 90, 180, 270) from the stream's display matrix. */
  rotation: number;
}

export interface ProbeOptions {
  signal?: AbortSignal;
  /** The ffprobe binary (default `ffprobe` on PATH). */
  ffprobePath?: string;
  /** Give up after this many milliseconds (default 30 000): {@link VideoInputError} `timeout`. */
  timeoutMs?: number;
}

/** The ffprobe arguments: JSON of the first video stream that is not cover art, and the container's duration. */
export function probeArgs(path: string): string[] {
  return [
    ...['-hide_banner', '-v', 'error', '-of', 'json', '-select_streams', 'V:0'],
    ...['-show_entries', 'format=duration:stream=codec_name,width,height,r_frame_rate,nb_frames,duration'],
    ...['-show_entries', 'stream_side_data=rotation'],
    path,
  ];
}

/**
 * Probes `path` with ffprobe. Throws {@link VideoInputError}: `missing` / `unreadable` / `empty` for the file,
 * `not-a-video` or `corrupt` when ffprobe cannot parse it, `timeout`, `ffmpeg-missing`. A media file without video
 * is not an error here: it probes as `hasVideo: false` (decoding it is a `no-video` error).
 */
export async function probeVideo(path: string, opts: ProbeOptions = {}): Promise<VideoProbe> {
  const head = await checkInputFile(path);
  const bin = opts.ffprobePath ?? 'ffprobe';
  const limit = deadline(opts.signal, opts.timeoutMs ?? 30_000);
  let code: number | null = null;
  let stdout = '';
  let stderr = '';
  try {
    const proc = await startProcess(bin, probeArgs(path), {
      stdout: 'pipe',
      signal: limit.signal,
      spawnError: (e) => inputSpawnError(e, bin, path),
    });
    try {
      const text = tail(proc.child.stdout, 1 << 20);
      code = await proc.exited;
      stdout = text();
    } finally {
      await proc.close();
      stderr = proc.stderr();
    }
  } catch (e) {
    // a start refused because the deadline had passed is a timeout, an abort is the caller's reason
    if (!limit.timedOut() && !opts.signal?.aborted) throw e;
  } finally {
    limit.clear();
  }
  if (limit.timedOut()) throw new VideoInputError('timeout', path, `ffprobe did not finish reading ${path} in time`);
  opts.signal?.throwIfAborted();
  if (code !== 0) {
    const reason = failureReason(stderr, head);
    const why = failureDetail(stderr, code, path, reason);
    throw new VideoInputError(reason, path, `cannot read video ${path}: ${why}`);
  }
  return parseProbeOutput(stdout, path);
}

interface ProbeJson {
  streams?: {
    codec_name?: string;
    width?: number;
    height?: number;
    r_frame_rate?: string;
    nb_frames?: string;
    duration?: string;
    side_data_list?: { rotation?: number | string }[];
  }[];
  format?: { duration?: string };
}

/** Reads ffprobe's JSON (as {@link probeArgs} asks for it) into a {@link VideoProbe}. */
export function parseProbeOutput(json: string, path: string): VideoProbe {
  let parsed: ProbeJson;
  try {
    parsed = JSON.parse(json) as ProbeJson;
  } catch {
    throw new VideoInputError('ffmpeg-failed', path, `ffprobe printed no valid JSON for ${path}`);
  }
  const containerDuration = positiveNumber(parsed.format?.duration);
  const stream = parsed.streams?.[0];
  if (stream === undefined) {
    return {
      path,
      hasVideo: false,
      width: 0,
      height: 0,
      fps: 0,
      duration: containerDuration ?? 0,
      frameCount: 0,
      frameCountEstimated: false,
      codec: '',
      rotation: 0,
    };
  }
  const rotation = normaliseRotation(Number(stream.side_data_list?.find((d) => d.rotation !== undefined)?.rotation));
  const sideways = rotation === 90 || rotation === 270;
  const width = stream.width ?? 0;
  const height = stream.height ?? 0;
  const fps = parseRate(stream.r_frame_rate ?? '');
  if (!(width > 0 && height > 0)) {
    throw new VideoInputError('corrupt', path, `video ${path} has no frame size (${width}×${height})`);
  }
  if (!(fps > 0)) {
    throw new VideoInputError('corrupt', path, `video ${path} has no frame rate (r_frame_rate ${stream.r_frame_rate})`);
  }
  const recorded = positiveNumber(stream.nb_frames);
  const duration = positiveNumber(stream.duration) ?? containerDuration ?? (recorded ? recorded / fps : undefined);
  if (duration === undefined) {
    throw new VideoInputError('corrupt', path, `video ${path} reports neither a duration nor a frame count`);
  }
  return {
    path,
    hasVideo: true,
    width: sideways ? height : width,
    height: sideways ? width : height,
    fps,
    duration,
    frameCount: recorded ?? Math.round(duration * fps),
    frameCountEstimated: recorded === undefined,
    codec: stream.codec_name ?? '',
    rotation,
  };
}

/** A rate `num/den` (or a plain number) as a number; NaN for `0/0` or anything unparsable. */
export function parseRate(rate: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(\d+(?:\.\d+)?))?\s*$/.exec(rate);
  if (!m) return Number.NaN;
  const value = Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2]));
  return Number.isFinite(value) ? value : Number.NaN;
}

function positiveNumber(s: string | undefined): number | undefined {
  const v = s === undefined ? Number.NaN : Number(s);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** A display-matrix rotation (ffprobe prints e.g. -90 or 90) as one of 0, 90, 180, 270. */
function normaliseRotation(deg: number): number {
  if (!Number.isFinite(deg)) return 0;
  const r = Math.round(deg / 90) * 90;
  return ((r % 360) + 360) % 360;
}

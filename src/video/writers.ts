/**
 * Writes generated frames as a video file or a directory of PNG frames, chosen by the output path (see
 * `resolveVideoOutput`). Outputs appear atomically: everything is written under a temporary name in the output's
 * directory and renamed when complete; on failure or abort (`signal`) the temporary output is removed and nothing is
 * left at the output path.
 *
 * The reference (`scripts/sampling/simple_video_sample.py`, release version) writes an mp4 at `fps_id + 1` frames
 * per second; the caller passes that rate as `fps`.
 */
import { rename, stat } from 'node:fs/promises';
import { VideoOutputError } from './errors.ts';
import { checkFfmpeg, type EncodedFormat, ffmpegArgs, runFfmpeg } from './ffmpeg.ts';
import { framesProblem, type VideoFrames } from './frames.ts';
import {
  type CheckWritableOptions,
  checkWritable,
  removeQuietly,
  temporarySibling,
  type VideoFormat,
  type VideoOutput,
} from './output-path.ts';
import { writePngFrames } from './png-frames.ts';

export { checkWritable } from './output-path.ts';

export interface WriteVideoOptions {
  /** Frames per second (positive; fractional rates are fine). */
  fps: number;
  /** Overrides the format the path's extension asks for. */
  format?: VideoFormat;
  /** Aborting stops ffmpeg / the PNG writer, removes the temporary output and rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Progress: frame `i` (1-based) of `n` handed to the encoder. */
  onFrame?: (i: number, n: number) => void;
  /** Refuse to replace an existing output file or an earlier run's frames (default: replace them). */
  overwrite?: boolean;
  /** The ffmpeg binary (default `ffmpeg` on PATH). */
  ffmpegPath?: string;
}

/** What was written. `width`/`height` are the encoded size (mp4 pads odd sizes by one edge pixel). */
export interface WrittenVideo {
  path: string;
  format: VideoFormat;
  width: number;
  height: number;
  frameCount: number;
  fps: number;
}

/** Writes `frames` to `out` (`.mp4`, `.webm`, `.gif`, `.webp`, or a directory of PNG frames). */
export async function writeVideo(frames: VideoFrames, out: string, opts: WriteVideoOptions): Promise<WrittenVideo> {
  const problem = framesProblem(frames);
  if (problem) throw new VideoOutputError('bad-frames', out, `cannot write ${out}: ${problem}`);
  if (!Number.isFinite(opts.fps) || opts.fps <= 0 || opts.fps > 1000) {
    throw new VideoOutputError('bad-options', out, `fps must be a positive number up to 1000, got ${opts.fps}`);
  }
  opts.signal?.throwIfAborted();
  const target = await checkWritable(out, { format: opts.format, overwrite: opts.overwrite });
  const frameCount = frames.data.length;

  if (target.format === 'frames') {
    await writePngFrames(frames, target.path, target.existingDir, opts);
    return {
      path: target.path,
      format: 'frames',
      width: frames.width,
      height: frames.height,
      frameCount,
      fps: opts.fps,
    };
  }

  // yuv420p needs even sides: H.264 cannot crop a single pixel in 4:2:0, so odd sizes grow by one replicated edge.
  const encoded = target.format === 'mp4' ? padToEven(frames) : frames;
  const temporary = temporarySibling(target.path);
  try {
    const args = ffmpegArgs(target.format as EncodedFormat, encoded.width, encoded.height, opts.fps, temporary);
    await runFfmpeg(args, encoded.data, {
      ffmpegPath: opts.ffmpegPath,
      signal: opts.signal,
      onFrame: opts.onFrame,
      outputName: out,
    });
    const written = await stat(temporary).catch(() => undefined);
    if (!written?.size) throw new VideoOutputError('ffmpeg-failed', out, `ffmpeg wrote no data for ${out}`);
    opts.signal?.throwIfAborted();
    // Another process may have taken the name since the check (two runs numbering outputs in one folder).
    if (opts.overwrite === false && (await stat(target.path).catch(() => undefined))) {
      throw new VideoOutputError('exists', out, `output ${out} already exists (not overwriting)`);
    }
    await rename(temporary, target.path);
  } catch (e) {
    await removeQuietly(temporary);
    throw e;
  }
  return {
    path: target.path,
    format: target.format,
    width: encoded.width,
    height: encoded.height,
    frameCount,
    fps: opts.fps,
  };
}

/**
 * Everything about the output that can be checked before a long run: the path is writable (`checkWritable`) and,
 * for encoded formats, ffmpeg starts. Throws {@link VideoOutputError}.
 */
export async function checkVideoOutput(
  out: string,
  opts: CheckWritableOptions & { ffmpegPath?: string } = {},
): Promise<VideoOutput> {
  const target = await checkWritable(out, opts);
  if (target.format !== 'frames') await checkFfmpeg(opts.ffmpegPath, out);
  return target;
}

/** Frames with even width and height: an odd side gets one more column/row copied from its last one. */
export function padToEven(frames: VideoFrames): VideoFrames {
  const { width: w, height: h } = frames;
  const width = w + (w % 2);
  const height = h + (h % 2);
  if (width === w && height === h) return frames;
  const data = frames.data.map((src) => {
    const out = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      const from = Math.min(y, h - 1) * w * 3;
      const to = y * width * 3;
      out.set(src.subarray(from, from + w * 3), to);
      // [H, W, 3]: repeat the last pixel of the row in the added column
      if (width > w) out.copyWithin(to + w * 3, to + (w - 1) * 3, to + w * 3);
    }
    return out;
  });
  return { width, height, data };
}

/**
 * A whole video as a stream of 8-bit RGB frames, for analysis passes (cut detection, motion scores) that look at
 * every frame once: ffmpeg decodes, optionally resamples in time (`fps`), scales to exactly `width`×`height` (the
 * analysis size: the aspect ratio is the caller's choice, nothing is cropped) and writes raw rgb24 on a pipe that is
 * read frame by frame. The frames are constant-rate: without `fps`, ffmpeg's `-fps_mode cfr` at the video's own frame
 * rate from its start, so frame t is the picture shown at t / fps seconds (for a constant-rate file, exactly its
 * decoded frames; a variable-rate file has a missing slot filled by repeating a frame, an extra frame dropped; a
 * file whose first frame is stamped later than 0 starts with repeats). Only the frame being handed out is held (one
 * buffer, reused when `reuse` is set); a consumer that is slower than ffmpeg pauses it through the pipe's
 * backpressure, so memory stays flat for any length.
 *
 * The process plumbing and the error reasons are decode.ts's (`startProcess`, {@link VideoInputError}): the child
 * is killed and waited for when the consumer stops early (`break`, `return`), on abort, on timeout and on error.
 */
import type { Resample } from './decode-args.ts';
import { checkInputFile, deadline, failureDetail, failureReason, inputSpawnError } from './decode-input.ts';
import { VideoInputError } from './errors.ts';
import { lastLine, startProcess } from './ffmpeg.ts';

export interface FrameStreamOptions {
  /** Output frame size in pixels (the analysis size); the frame is scaled to it, aspect not kept, nothing cropped. */
  width: number;
  height: number;
  /** Resample in time to this rate with ffmpeg's `fps` filter; default: every decoded frame (the native rate). */
  fps?: number;
  /** Seconds from the beginning of the video to the first frame (default 0). */
  start?: number;
  /** Stop after this many frames (default: the whole video). */
  maxFrames?: number;
  /** Default `area` (box filter: every source pixel counts, the right filter for a large downscale). */
  resample?: Resample;
  /**
   * Hand out the same buffer for every frame (default false: a new buffer per frame). With `reuse`, a frame is valid
   * only until the consumer asks for the next one: an analysis loop that keeps no frame allocates nothing per frame.
   */
  reuse?: boolean;
  /** Aborting kills ffmpeg; the iteration rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Give up after this many milliseconds in all (default: no limit; a long video takes long). */
  timeoutMs?: number;
  /** Decoder threads (`-threads` before `-i`); default: ffmpeg's choice. */
  threads?: number;
  /** The ffmpeg binary (default `ffmpeg` on PATH). */
  ffmpegPath?: string;
}

const MAX_SIDE = 16384;

/** Throws {@link VideoInputError} `bad-options` unless the options describe a possible request. */
export function checkFrameStreamOptions(path: string, o: FrameStreamOptions): void {
  const bad = (what: string) => new VideoInputError('bad-options', path, `cannot decode ${path}: ${what}`);
  for (const [name, v] of [
    ['width', o.width],
    ['height', o.height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_SIDE) {
      throw bad(`${name} must be an integer in [1, ${MAX_SIDE}], got ${v}`);
    }
  }
  if (o.fps !== undefined && !(Number.isFinite(o.fps) && o.fps > 0 && o.fps <= 1000)) {
    throw bad(`fps must be a number in (0, 1000], got ${o.fps}`);
  }
  if (o.start !== undefined && !(Number.isFinite(o.start) && o.start >= 0)) {
    throw bad(`start must be a non-negative number of seconds, got ${o.start}`);
  }
  if (o.maxFrames !== undefined && !(Number.isInteger(o.maxFrames) && o.maxFrames >= 1)) {
    throw bad(`maxFrames must be a positive integer, got ${o.maxFrames}`);
  }
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1)) {
    throw bad(`threads must be a positive integer, got ${o.threads}`);
  }
}

/** The ffmpeg command line of {@link streamFrames}: rate, scale to exactly width×height, rgb24 on stdout. */
export function frameStreamArgs(path: string, o: FrameStreamOptions): string[] {
  const flags = `flags=${o.resample ?? 'area'}+accurate_rnd+full_chroma_int`;
  const chain = [
    ...(o.fps !== undefined ? [`fps=${o.fps}`] : []),
    `scale=w=${o.width}:h=${o.height}:${flags}`,
    'setsar=1',
    'format=rgb24',
  ];
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...(o.threads !== undefined ? ['-threads', String(o.threads)] : []),
    ...(o.start ? ['-ss', o.start.toFixed(6)] : []),
    ...['-i', path, '-map', '0:V:0', '-an', '-sn', '-dn', '-vf', chain.join(',')],
    // frame slots at the video's own rate (explicit: ffmpeg's default for raw output), so frame t starts at t / fps
    ...(o.fps === undefined ? ['-fps_mode', 'cfr'] : []),
    ...(o.maxFrames !== undefined ? ['-frames:v', String(o.maxFrames)] : []),
    ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
  ];
}

/**
 * The frames of `path` as [H, W, 3] RGB `Uint8Array`s, in order, until the video (or `maxFrames`) ends. Errors are
 * {@link VideoInputError}s with decode.ts's reasons: `missing` / `empty` / `unreadable` before ffmpeg starts,
 * `not-a-video` / `no-video` / `corrupt` from ffmpeg (a video that ffmpeg decodes with errors, or that ends in a
 * partial frame, is `corrupt` — after the frames that did decode were handed out), `timeout`, `ffmpeg-missing`.
 * A video with no frame at all (e.g. `start` past its end) ends the stream without an error.
 */
export async function* streamFrames(path: string, opts: FrameStreamOptions): AsyncGenerator<Uint8Array, void> {
  checkFrameStreamOptions(path, opts);
  const head = await checkInputFile(path);
  const bin = opts.ffmpegPath ?? 'ffmpeg';
  const frameBytes = opts.width * opts.height * 3;
  const limit = deadline(opts.signal, opts.timeoutMs);
  let count = 0;
  let partial = 0;
  let code: number | null = null;
  let stderr = '';
  let failure: unknown;
  try {
    const proc = await startProcess(bin, frameStreamArgs(path, opts), {
      stdout: 'pipe',
      signal: limit.signal,
      spawnError: (e) => inputSpawnError(e, bin, path),
    });
    try {
      let current = new Uint8Array(frameBytes);
      for await (const chunk of proc.child.stdout! as AsyncIterable<Buffer>) {
        let at = 0;
        while (at < chunk.length) {
          const n = Math.min(frameBytes - partial, chunk.length - at);
          current.set(chunk.subarray(at, at + n), partial);
          partial += n;
          at += n;
          if (partial === frameBytes) {
            partial = 0;
            count++;
            yield current;
            if (!opts.reuse) current = new Uint8Array(frameBytes);
          }
        }
      }
      code = await proc.exited;
    } catch (e) {
      failure = e;
    } finally {
      await proc.close();
      stderr = proc.stderr();
    }
  } catch (e) {
    failure ??= e;
  } finally {
    limit.clear();
  }
  if (limit.timedOut()) {
    throw new VideoInputError('timeout', path, `ffmpeg did not finish decoding ${path} within ${opts.timeoutMs} ms`);
  }
  opts.signal?.throwIfAborted();
  if (failure instanceof VideoInputError) throw failure;
  if (failure !== undefined) {
    const why = failure instanceof Error ? failure.message : String(failure);
    throw new VideoInputError('ffmpeg-failed', path, `reading frames of ${path} from ffmpeg failed: ${why}`, {
      cause: failure,
    });
  }
  if (code !== 0) {
    const reason = failureReason(stderr, head);
    throw new VideoInputError(
      reason,
      path,
      `cannot decode ${path} (after ${count} frames): ${failureDetail(stderr, code, path, reason)}`,
    );
  }
  if (partial > 0 || stderr.trim() !== '') {
    const detail = lastLine(stderr) || `a partial frame of ${partial} bytes`;
    throw new VideoInputError('corrupt', path, `video ${path} is damaged: decoded ${count} frames; ${detail}`);
  }
}

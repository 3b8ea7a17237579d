/**
 * Decodes a window of a video to 8-bit RGB frames with ffmpeg: seek to `start`, sample at `fps`, scale to cover
 * width×height and crop (see decode-args.ts), read raw rgb24 from ffmpeg's stdout frame by frame. Only the `count`
 * frames asked for are ever held in memory, whatever the length of the video; ffmpeg stops after them.
 *
 * Every failure is a {@link VideoInputError} with a reason (see errors.ts), and the ffmpeg child never outlives the
 * call: it is killed on abort, on timeout and on any error, and waited for.
 */
import { checkDecodeOptions, type DecodeOptions, decodeArgs } from './decode-args.ts';
import { checkInputFile, deadline, failureDetail, failureReason, inputSpawnError } from './decode-input.ts';
import { VideoInputError } from './errors.ts';
import { lastLine, startProcess } from './ffmpeg.ts';
import type { VideoFrames } from './frames.ts';

export type { DecodeOptions, FrameCrop, Resample } from './decode-args.ts';

/** Failures ffmpeg reports when the crop rectangle does not fit the frame: the request's fault, not the file's. */
const BAD_CROP = /too big or non positive size|invalid too big|Failed to configure input pad/i;

/**
 * `count` RGB frames ([H, W, 3] each, `VideoFrames`) of `path`, sampled at `fps` from `start` seconds, scaled to
 * cover `width`×`height` and cropped (centre by default). Fewer frames than `count` from a video that decodes
 * cleanly is a {@link VideoInputError} `too-short`; a truncated or damaged video is `corrupt`; an audio-only file
 * `no-video`; a file that is no media at all `not-a-video`; an empty or missing file `empty` / `missing`.
 */
export async function decodeFrames(path: string, opts: DecodeOptions): Promise<VideoFrames> {
  checkDecodeOptions(path, opts);
  const head = await checkInputFile(path);
  const bin = opts.ffmpegPath ?? 'ffmpeg';
  const frameBytes = opts.width * opts.height * 3;
  const limit = deadline(opts.signal, opts.timeoutMs ?? 120_000);
  const frames: Uint8Array[] = [];
  let partial = 0; // bytes of an incomplete last frame
  let code: number | null = null;
  let stderr = '';
  let failure: unknown; // an error while running, reported after the abort and timeout checks
  try {
    const proc = await startProcess(bin, decodeArgs(path, opts), {
      stdout: 'pipe',
      signal: limit.signal,
      spawnError: (e) => inputSpawnError(e, bin, path),
    });
    try {
      let current = new Uint8Array(frameBytes);
      for await (const chunk of proc.child.stdout! as AsyncIterable<Buffer>) {
        let at = 0;
        while (at < chunk.length && frames.length < opts.count) {
          const n = Math.min(frameBytes - partial, chunk.length - at);
          current.set(chunk.subarray(at, at + n), partial);
          partial += n;
          at += n;
          if (partial === frameBytes) {
            frames.push(current);
            current = new Uint8Array(frameBytes);
            partial = 0;
          }
        }
        if (frames.length === opts.count) break; // enough: stop reading, ffmpeg is ended below
      }
      code = frames.length === opts.count ? 0 : await proc.exited;
    } finally {
      await proc.close();
      stderr = proc.stderr();
    }
  } catch (e) {
    failure = e;
  } finally {
    limit.clear();
  }
  if (limit.timedOut()) {
    const ms = opts.timeoutMs ?? 120_000;
    throw new VideoInputError('timeout', path, `ffmpeg did not finish decoding ${path} within ${ms} ms`);
  }
  opts.signal?.throwIfAborted();
  if (failure instanceof VideoInputError) throw failure;
  if (failure !== undefined) {
    const why = failure instanceof Error ? failure.message : String(failure);
    throw new VideoInputError('ffmpeg-failed', path, `reading frames of ${path} from ffmpeg failed: ${why}`, {
      cause: failure,
    });
  }
  if (frames.length === opts.count) return { width: opts.width, height: opts.height, data: frames };

  const what = `${frames.length} of ${opts.count} frames${describeWindow(opts)}`;
  if (code !== 0) {
    if (BAD_CROP.test(stderr) && opts.crop?.mode === 'rect') {
      const { width, height } = opts.crop;
      const why = `the crop rectangle ${width}×${height} does not fit in the frame (${failureDetail(stderr, code, path)})`;
      throw new VideoInputError('bad-options', path, `cannot decode ${path}: ${why}`);
    }
    const reason = failureReason(stderr, head);
    throw new VideoInputError(
      reason,
      path,
      `cannot decode ${path} (${what}): ${failureDetail(stderr, code, path, reason)}`,
    );
  }
  if (partial > 0 || stderr.trim() !== '') {
    // ffmpeg conceals damaged data and exits 0; a clean short video writes nothing on stderr at -loglevel error.
    const detail = lastLine(stderr) || `a partial frame of ${partial} bytes`;
    throw new VideoInputError('corrupt', path, `video ${path} is damaged: decoded ${what}; ${detail}`);
  }
  throw new VideoInputError('too-short', path, `video ${path} is too short: it has ${what}`);
}

function describeWindow(o: DecodeOptions): string {
  const rate = o.fps === undefined ? '' : ` at ${o.fps} fps`;
  return `${rate} from ${o.start ?? 0} s`;
}

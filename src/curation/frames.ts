/**
 * The frame stream the curation analyses read (cut detection, and any other pass that looks at every frame once): a
 * video's frames at one size and rate, as 8-bit RGB buffers handed out one at a time. A stream over a file decodes
 * with ffmpeg as it is read (src/video/frame-stream.ts), so a whole video is never in memory; tests build streams
 * from arrays.
 */
import { streamFrames } from '../video/frame-stream.ts';
import { probeVideo, type VideoProbe } from '../video/probe.ts';

/** Frames of one video at one size and rate. */
export interface FrameStream {
  /** Frame size in pixels; every frame is [height, width, 3] interleaved RGB, row-major. */
  readonly width: number;
  readonly height: number;
  /** Frames per second of this stream (the video's own rate when every frame is decoded). */
  readonly fps: number;
  /**
   * The frames in order. A buffer may be reused for the next frame (streams over files do): a consumer that keeps a
   * frame past the next step copies it.
   */
  readonly frames: AsyncIterable<Uint8Array>;
  /** Where the frames come from (a path), for clips and messages. */
  readonly source: string;
}

/** A stream over frames already in memory (tests, small clips). Every frame must be width·height·3 bytes. */
export function frameStreamOf(
  frames: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  width: number,
  height: number,
  fps: number,
  source = '<memory>',
): FrameStream {
  const bytes = width * height * 3;
  async function* checked(): AsyncGenerator<Uint8Array> {
    let i = 0;
    for await (const f of frames) {
      if (f.length !== bytes) {
        throw new RangeError(`frame ${i} of ${source} has ${f.length} bytes, expected ${width}×${height}×3 = ${bytes}`);
      }
      i++;
      yield f;
    }
  }
  return { width, height, fps, source, frames: checked() };
}

export interface OpenFrameStreamOptions {
  /** The analysis size; default: the video's own size. */
  width?: number;
  height?: number;
  /** Resample to this rate; default: every frame (the stream's fps is then the probed rate). */
  fps?: number;
  signal?: AbortSignal;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Decoder threads (default: ffmpeg's choice). */
  threads?: number;
}

/** A stream over the video at `path` (probed first) and the probe; the frames are decoded as they are read. */
export async function openFrameStream(
  path: string,
  opts: OpenFrameStreamOptions & { size?: (probe: VideoProbe) => { width: number; height: number } } = {},
): Promise<{ stream: FrameStream; probe: VideoProbe }> {
  const probe = await probeVideo(path, { signal: opts.signal, ffprobePath: opts.ffprobePath });
  const size = opts.size?.(probe) ?? { width: opts.width ?? probe.width, height: opts.height ?? probe.height };
  const frames = streamFrames(path, {
    width: size.width,
    height: size.height,
    fps: opts.fps,
    reuse: true,
    signal: opts.signal,
    threads: opts.threads,
    ffmpegPath: opts.ffmpegPath,
  });
  const stream: FrameStream = {
    width: size.width,
    height: size.height,
    fps: opts.fps ?? probe.fps,
    source: path,
    frames,
  };
  return { stream, probe };
}

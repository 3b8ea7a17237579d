/**
 * Cut detection and splitting for a video file: probe it, stream every frame at the detector's analysis size
 * (ffmpeg decodes and scales as the frames are read; one frame buffer, reused), run the detector, and turn the cuts
 * into clips. Frame numbers are those of the decoded video, every frame in order (PySceneDetect's convention), and
 * times are frame / fps with the probed frame rate.
 */
import { openFrameStream } from '../frames.ts';
import { CascadeCutDetector } from './cascade.ts';
import type { CutDetector } from './cut-detector.ts';
import { type Clip, clipsFromCuts, type SplitOptions } from './split.ts';

export interface VideoCutOptions {
  /** Default: the three-rate cascade ({@link CascadeCutDetector} with its defaults). */
  detector?: CutDetector;
  signal?: AbortSignal;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Decoder threads (default: ffmpeg's choice). */
  threads?: number;
}

export interface VideoCuts {
  source: string;
  /** The probed frame rate; frame t starts at t / fps seconds. */
  fps: number;
  /** Frames decoded (the stream's length, not the container's estimate). */
  frameCount: number;
  /** The video's frame size and the size the detector analysed. */
  width: number;
  height: number;
  analysis: { width: number; height: number };
  detector: { name: string; params: Readonly<Record<string, unknown>> };
  /** First frames of new shots, sorted. */
  cuts: number[];
}

/** The cuts of the video at `path`. Errors: {@link VideoInputError} for the file, the detector's own for its setup. */
export async function detectVideoCuts(path: string, opts: VideoCutOptions = {}): Promise<VideoCuts> {
  const detector = opts.detector ?? new CascadeCutDetector();
  const { stream, probe } = await openFrameStream(path, {
    size: (p) => detector.analysisSize(p.width, p.height),
    signal: opts.signal,
    ffmpegPath: opts.ffmpegPath,
    ffprobePath: opts.ffprobePath,
    threads: opts.threads,
  });
  let frameCount = 0;
  const source = stream.frames;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const f of source) {
      frameCount++;
      yield f;
    }
  }
  const cuts = await detector.detect({ ...stream, frames: counted() }, { signal: opts.signal });
  return {
    source: path,
    fps: probe.fps,
    frameCount,
    width: probe.width,
    height: probe.height,
    analysis: { width: stream.width, height: stream.height },
    detector: { name: detector.name, params: detector.params },
    cuts,
  };
}

/** The video's cuts and the clips between them, those shorter than the minimum (default 2 s) dropped. */
export async function splitVideo(
  path: string,
  opts: VideoCutOptions & SplitOptions = {},
): Promise<{ cuts: VideoCuts; clips: Clip[] }> {
  const cuts = await detectVideoCuts(path, opts);
  const clips = clipsFromCuts(cuts.cuts, cuts.frameCount, cuts.fps, path, opts);
  return { cuts, clips };
}

/**
 * A clip's text-area score: the detector (text-detector.ts) on its first, middle and last frame, as the paper scores
 * a clip's CLIP embeddings on those three frames (arXiv 2311.15127 App. C). The score is the largest of the three
 * fractions (a clip is as text-heavy as its most text-heavy sampled frame: a title card that appears at the end
 * counts), and the three per-frame fractions are kept beside it.
 */
import { VideoInputError } from '../../video/errors.ts';
import { streamFrames } from '../../video/frame-stream.ts';
import { probeVideo, type VideoProbe } from '../../video/probe.ts';
import { type TextDetector, textAnalysisSize } from './text-detector.ts';

export interface ClipText {
  /** max(first, middle, last). */
  area: number;
  /** Text-area fraction of the first, middle and last frame. */
  frames: [number, number, number];
}

export interface ClipTextOptions {
  start?: number;
  end?: number;
  maxSide?: number;
  signal?: AbortSignal;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** The file's probe when the caller has it (a clip's stages share one). */
  probe?: VideoProbe;
}

/** Times (seconds) of the first, middle and last frame of [start, end) at `fps`. */
export function sampleTimes(start: number, end: number, fps: number): [number, number, number] {
  const last = Math.max(start, end - 1 / fps);
  return [start, start + (last - start) / 2, last];
}

export async function clipTextArea(
  path: string,
  detector: TextDetector,
  opts: ClipTextOptions = {},
): Promise<ClipText> {
  const probe = opts.probe ?? (await probeVideo(path, { signal: opts.signal, ffprobePath: opts.ffprobePath }));
  if (!probe.hasVideo) throw new VideoInputError('no-video', path, `${path} has no video stream`);
  const size = textAnalysisSize(probe.width, probe.height, opts.maxSide);
  const times = sampleTimes(opts.start ?? 0, opts.end ?? probe.duration, probe.fps);
  const areas: number[] = [];
  for (const t of times) {
    let frame: Uint8Array | undefined;
    for await (const f of streamFrames(path, {
      ...size,
      start: t,
      maxFrames: 1,
      resample: 'bilinear',
      signal: opts.signal,
      ffmpegPath: opts.ffmpegPath,
    }))
      frame = f;
    if (!frame) throw new VideoInputError('too-short', path, `${path} has no frame at ${t.toFixed(3)} s`);
    areas.push((await detector.detect(frame, size.width, size.height)).area);
  }
  return { area: Math.max(...areas), frames: areas as [number, number, number] };
}

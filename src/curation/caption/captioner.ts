/**
 * Captions (arXiv 2311.15127 §3.1 / App. C): SVD captions every clip three ways — an image captioner (CoCa) on the
 * middle frame, a video captioner (V-BLIP) on the clip, and an LLM that summarises the two. Here these are three
 * interfaces, each backed by a user-supplied model (onnx-captioner.ts loads ONNX exports); the project ships none,
 * and without them a clip records "no captioner given" — a caption is never invented.
 *
 * A clip's `caption` label is the summary when there is a summariser and both captions, else the video caption,
 * else the image caption; the captions it came from are kept as `caption_image` / `caption_video`.
 */
import { decodeFrames } from '../../video/decode.ts';
import { VideoInputError } from '../../video/errors.ts';
import { streamFrames } from '../../video/frame-stream.ts';

/** An 8-bit RGB frame, [height, width, 3] interleaved, row-major. */
export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The frames a captioner wants: this size, either scaled to cover and centre-cropped or squashed (aspect lost). */
export interface FrameSpec {
  width: number;
  height: number;
  fit: 'cover' | 'squash';
}

export interface ImageCaptioner {
  readonly kind: 'image';
  readonly name: string;
  readonly frame: FrameSpec;
  caption(frame: RgbFrame): Promise<string>;
  release(): Promise<void>;
}

export interface VideoCaptioner {
  readonly kind: 'video';
  readonly name: string;
  readonly frame: FrameSpec;
  /** Frames sampled uniformly over the clip (first to last). */
  readonly frames: number;
  caption(frames: readonly RgbFrame[]): Promise<string>;
  release(): Promise<void>;
}

export interface Summariser {
  readonly kind: 'summariser';
  readonly name: string;
  summarise(captions: { image: string; video: string }): Promise<string>;
  release(): Promise<void>;
}

/** The captioners of a run (any subset). */
export interface Captioners {
  image?: ImageCaptioner;
  video?: VideoCaptioner;
  summariser?: Summariser;
}

export interface ClipCaptions {
  /** The clip's caption (see the module comment). */
  caption: string;
  image?: string;
  video?: string;
  summary?: string;
}

/** `n` times from `start` to the last frame before `end` (inclusive), evenly spaced; one frame: the middle. */
export function uniformTimes(start: number, end: number, fps: number, n: number): number[] {
  const last = Math.max(start, end - 1 / fps);
  if (n === 1) return [start + (last - start) / 2];
  return Array.from({ length: n }, (_, i) => start + ((last - start) * i) / (n - 1));
}

/** One frame of `path` at `time`, as the spec says. */
export async function frameAt(path: string, time: number, spec: FrameSpec, signal?: AbortSignal): Promise<RgbFrame> {
  const { width, height } = spec;
  if (spec.fit === 'cover') {
    const f = await decodeFrames(path, {
      start: time,
      count: 1,
      width,
      height,
      crop: { mode: 'center' },
      resample: 'bicubic',
      signal,
    });
    return { width, height, data: f.data[0] };
  }
  let data: Uint8Array | undefined;
  for await (const f of streamFrames(path, { width, height, start: time, maxFrames: 1, resample: 'bicubic', signal }))
    data = f;
  if (!data) throw new VideoInputError('too-short', path, `${path} has no frame at ${time.toFixed(3)} s`);
  return { width, height, data };
}

/**
 * Captions one clip with whichever captioners are given; undefined when none is (the stage then records
 * "no captioner given"). A summariser alone has nothing to summarise.
 */
export async function captionClip(
  clip: { path: string; startTime: number; endTime: number; fps?: number },
  captioners: Captioners,
  signal?: AbortSignal,
): Promise<ClipCaptions | undefined> {
  const fps = clip.fps && clip.fps > 0 ? clip.fps : 25;
  let image: string | undefined;
  let video: string | undefined;
  if (captioners.image) {
    const [t] = uniformTimes(clip.startTime, clip.endTime, fps, 1);
    image = (await captioners.image.caption(await frameAt(clip.path, t, captioners.image.frame, signal))).trim();
  }
  if (captioners.video) {
    const v = captioners.video;
    const frames: RgbFrame[] = [];
    for (const t of uniformTimes(clip.startTime, clip.endTime, fps, v.frames)) {
      frames.push(await frameAt(clip.path, t, v.frame, signal));
    }
    video = (await v.caption(frames)).trim();
  }
  if (image === undefined && video === undefined) return undefined;
  let summary: string | undefined;
  if (captioners.summariser && image !== undefined && video !== undefined) {
    summary = (await captioners.summariser.summarise({ image, video })).trim();
  }
  const caption = summary || video || image || '';
  return { caption, image, video, summary };
}

/** Releases every captioner. */
export async function releaseCaptioners(c: Captioners): Promise<void> {
  await Promise.all([c.image?.release(), c.video?.release(), c.summariser?.release()]);
}

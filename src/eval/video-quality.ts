/**
 * PSNR and SSIM of a generated video (or image) against a reference one, frame by frame in order (both decoded by
 * ffmpeg at the reference's size; a different-size candidate is scaled to it with lanczos and said so), up to the
 * shorter of the two, with the mean over frames.
 */
import { extname } from 'node:path';
import { streamFrames } from '../video/frame-stream.ts';
import { decodeImageRgb } from '../video/image-io.ts';
import { resizeRgb } from '../video/preprocess.ts';
import { probeVideo } from '../video/probe.ts';
import { planesFromInterleaved, psnr, ssim } from './psnr-ssim.ts';

export type QualityMetric = 'psnr' | 'ssim';

export interface VideoQuality {
  reference: string;
  candidate: string;
  width: number;
  height: number;
  frames: number;
  /** Notes on what was adapted (a scaled candidate, different lengths). */
  notes: string[];
  /** Per metric: the mean over frames and each frame's value. */
  metrics: Partial<Record<QualityMetric, { mean: number; perFrame: number[] }>>;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);

/** A still image as a one-frame video (sharp decodes it; ffprobe reports no duration for a still). */
async function* imageFrames(path: string, size?: { width: number; height: number }): AsyncGenerator<Uint8Array> {
  let img = await decodeImageRgb(path);
  if (size && (img.width !== size.width || img.height !== size.height)) img = await resizeRgb(img, size);
  yield img.data;
}

async function sizeOf(path: string, signal?: AbortSignal): Promise<{ width: number; height: number }> {
  if (IMAGE_EXTENSIONS.has(extname(path).toLowerCase())) {
    const img = await decodeImageRgb(path);
    return { width: img.width, height: img.height };
  }
  return probeVideo(path, { signal });
}

function frameSource(path: string, size: { width: number; height: number }, signal?: AbortSignal) {
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase())
    ? imageFrames(path, size)
    : streamFrames(path, { ...size, resample: 'lanczos', signal });
}

export async function videoQuality(
  reference: string,
  candidate: string,
  metrics: readonly QualityMetric[],
  opts: { signal?: AbortSignal } = {},
): Promise<VideoQuality> {
  const ref = await sizeOf(reference, opts.signal);
  const cand = await sizeOf(candidate, opts.signal);
  const { width, height } = ref;
  const notes: string[] = [];
  if (cand.width !== width || cand.height !== height)
    notes.push(`${candidate} is ${cand.width}×${cand.height}: scaled to ${width}×${height} (lanczos)`);
  const a = frameSource(reference, { width, height }, opts.signal);
  const b = frameSource(candidate, { width, height }, opts.signal);
  const out: VideoQuality['metrics'] = {};
  for (const m of metrics) out[m] = { mean: 0, perFrame: [] };
  let frames = 0;
  for (;;) {
    const [x, y] = await Promise.all([a.next(), b.next()]);
    if (x.done || y.done) {
      if (!x.done || !y.done) notes.push(`the videos differ in length: compared the first ${frames} frames`);
      await a.return(undefined);
      await b.return(undefined);
      break;
    }
    const pa = planesFromInterleaved(x.value, width, height);
    const pb = planesFromInterleaved(y.value, width, height);
    if (out.psnr) out.psnr.perFrame.push(psnr(pa, pb));
    if (out.ssim) out.ssim.perFrame.push(ssim(pa, pb));
    frames++;
  }
  for (const m of Object.values(out)) m.mean = m.perFrame.reduce((s, v) => s + v, 0) / Math.max(1, m.perFrame.length);
  return { reference, candidate, width, height, frames, notes, metrics: out };
}

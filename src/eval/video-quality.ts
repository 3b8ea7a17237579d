/**
 * PSNR and SSIM of a generated video (or image, or folder of frames) against a reference one, frame by frame in order (both decoded by
 * ffmpeg at the reference's size; a different-size candidate is scaled to it with lanczos and said so), up to the
 * shorter of the two, with the mean over frames.
 */
import { extname } from 'node:path';
import type { Graph } from '../graph/ir.ts';
import { Engine } from '../runtime/engine.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import { streamFrames } from '../video/frame-stream.ts';
import { decodeImageRgb } from '../video/image-io.ts';
import { resizeRgb } from '../video/preprocess.ts';
import { probeVideo } from '../video/probe.ts';
import { frameFolderFiles, isFrameFolder } from './frame-folder.ts';
import { loadLpipsWeights, lpipsGraph } from './lpips.ts';
import { planesFromInterleaved, psnr, ssim } from './psnr-ssim.ts';

export type QualityMetric = 'psnr' | 'ssim' | 'lpips';

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

/** A folder of frames (./frame-folder.ts) as a video: each image in order. */
async function* folderFrames(dir: string, size: { width: number; height: number }): AsyncGenerator<Uint8Array> {
  for (const file of frameFolderFiles(dir)) yield* imageFrames(file, size);
}

async function sizeOf(path: string, signal?: AbortSignal): Promise<{ width: number; height: number }> {
  const folder = isFrameFolder(path);
  if (folder || IMAGE_EXTENSIONS.has(extname(path).toLowerCase())) {
    const img = await decodeImageRgb(folder ? frameFolderFiles(path)[0] : path);
    return { width: img.width, height: img.height };
  }
  return probeVideo(path, { signal });
}

function frameSource(path: string, size: { width: number; height: number }, signal?: AbortSignal) {
  if (isFrameFolder(path)) return folderFrames(path, size);
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase())
    ? imageFrames(path, size)
    : streamFrames(path, { ...size, resample: 'lanczos', signal });
}

export async function videoQuality(
  reference: string,
  candidate: string,
  metrics: readonly QualityMetric[],
  opts: { signal?: AbortSignal; lpipsWeights?: readonly string[]; threads?: number } = {},
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
  let lpips: { engine: Engine; graph: Graph } | undefined;
  if (metrics.includes('lpips')) {
    if (!opts.lpipsWeights?.length) throw new Error('LPIPS needs its weights (--lpips-weights): nothing is bundled');
    const weights = await loadLpipsWeights(opts.lpipsWeights);
    const engine = await Engine.create({ threads: opts.threads });
    await engine.setWeights(Object.fromEntries(weights), { transfer: true });
    lpips = { engine, graph: lpipsGraph(1, height, width) };
  }
  try {
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
      if (out.lpips && lpips) {
        // [0, 1] planes → [−1, 1], the lpips package's input range
        const x0 = new HostTensor('float32', [1, 3, height, width], pa.data.map((v) => 2 * v - 1) as Float32Array);
        const x1 = new HostTensor('float32', [1, 3, height, width], pb.data.map((v) => 2 * v - 1) as Float32Array);
        const r = await lpips.engine.run(lpips.graph, { in0: x0, in1: x1 });
        out.lpips.perFrame.push((r.distance.data as Float32Array)[0]);
      }
      frames++;
    }
  } finally {
    await lpips?.engine.dispose();
  }
  for (const m of Object.values(out)) m.mean = m.perFrame.reduce((s, v) => s + v, 0) / Math.max(1, m.perFrame.length);
  return { reference, candidate, width, height, frames, notes, metrics: out };
}

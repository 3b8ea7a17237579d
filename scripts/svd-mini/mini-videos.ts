/**
 * Videos from the shipped svd-mini (src/models/shipped.ts) for the evidence tests, the README's samples and the
 * held-out pan report: each case is an input image at the model's size, a seed, optionally a motion bucket and a
 * shipped camera LoRA by name; the model's own sampling defaults otherwise (with a LoRA: its motion bucket, as
 * `svd generate --lora` samples). One batch per LoRA.
 */
import type { ImagePlanes } from '../../src/eval/psnr-ssim.ts';
import { openModelWeights } from '../../src/models/load-weights.ts';
import { openLoras } from '../../src/models/lora/apply.ts';
import { loraMergedSource } from '../../src/models/lora/merged-source.ts';
import { loraSamplingDefaults } from '../../src/models/lora/sampling-defaults.ts';
import { SVD_MINI } from '../../src/models/presets.ts';
import type { ShippedModel } from '../../src/models/shipped.ts';
import { imageToVideoBatch } from '../../src/pipeline/image-to-video.ts';
import { defaultParams, type GenerateParams } from '../../src/pipeline/params.ts';
import type { Engine } from '../../src/runtime/engine.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { type RgbImage, rgbToTensor } from '../../src/video/image-io.ts';
import { checkpointHash } from '../../src/weights/checkpoint-hash.ts';

export interface MiniVideoCase {
  /** The model input, already at the model's size (SVD_MINI.sampling.size). */
  input: RgbImage;
  seed: number;
  motionBucket?: number;
  /** A shipped camera LoRA by name (merged at scale 1). */
  lora?: string;
  /** Sampler steps (default: the model's). */
  steps?: number;
  /** Any other sampling parameter (default: the model's). */
  params?: Partial<GenerateParams>;
}

/** Frames [T, 3, H, W] in [0, 1] for each case, in the order given. */
export async function generateMiniVideos(
  engine: Engine,
  shipped: ShippedModel,
  cases: readonly MiniVideoCase[],
): Promise<HostTensor<'float32'>[]> {
  const out = new Array<HostTensor<'float32'>>(cases.length);
  const groups = new Map<string, number[]>();
  for (const [i, c] of cases.entries()) groups.set(c.lora ?? '', [...(groups.get(c.lora ?? '') ?? []), i]);
  for (const [lora, group] of groups) {
    const weights = await openModelWeights(shipped.checkpoint, SVD_MINI);
    // the merged source closes its LoRA files and the base
    let source = weights.source;
    const path = lora !== '' ? shipped.loras.get(lora) : undefined;
    try {
      if (lora !== '') {
        if (!path) throw new Error(`the shipped model has no LoRA "${lora}"`);
        const { sha256 } = await checkpointHash(shipped.checkpoint);
        source = loraMergedSource(
          weights.source,
          await openLoras([{ path, scale: 1 }], weights.tree.shapes, { baseHash: sha256 }),
        );
      }
      // a named LoRA samples at its own motion bucket and guidance, as `svd generate --lora` does (sampling-defaults.ts)
      const own = path ? await loraSamplingDefaults([{ path, scale: 1 }]) : undefined;
      const base = {
        ...defaultParams(SVD_MINI.sampling),
        ...(own?.motionBucketId !== undefined ? { motionBucketId: own.motionBucketId } : {}),
        ...(own?.guidance ? { minCfg: own.guidance.minCfg, maxCfg: own.guidance.maxCfg } : {}),
      };
      const batch = await imageToVideoBatch(
        engine,
        SVD_MINI,
        source,
        group.map((i) => {
          const c = cases[i];
          return {
            inputs: { image: rgbToTensor(c.input) },
            params: {
              ...base,
              ...c.params,
              seed: c.seed,
              ...(c.steps !== undefined ? { steps: c.steps } : {}),
              ...(c.motionBucket !== undefined ? { motionBucketId: c.motionBucket } : {}),
            },
          };
        }),
      );
      for (const [k, i] of group.entries()) out[i] = batch.videos[k].frames;
    } finally {
      await source.close();
    }
  }
  return out;
}

/** Frame t of [T, 3, H, W] in [0, 1] as planes. */
export function framePlanes(frames: HostTensor<'float32'>, t: number): ImagePlanes {
  const [, c, h, w] = frames.shape;
  const n = c * h * w;
  return { data: (frames.data as Float32Array).subarray(t * n, (t + 1) * n), channels: c, height: h, width: w };
}

/** Frame t of [T, 3, H, W] in [0, 1] as interleaved RGB bytes (ffmpeg's rgb24), clamped and rounded. */
export function frameRgb(frames: HostTensor<'float32'>, t: number, out?: Uint8Array): Uint8Array {
  const [, c, h, w] = frames.shape;
  const plane = h * w;
  const rgb = out ?? new Uint8Array(plane * c);
  const d = frames.data as Float32Array;
  const base = t * c * plane;
  for (let i = 0; i < plane; i++) {
    for (let k = 0; k < c; k++) rgb[i * c + k] = Math.round(Math.min(1, Math.max(0, d[base + k * plane + i])) * 255);
  }
  return rgb;
}

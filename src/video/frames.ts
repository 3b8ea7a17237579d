/**
 * Decoder output → 8-bit video frames, as `scripts/sampling/simple_video_sample.py` (Stability-AI/generative-models
 * 059d8e9) does it: `samples = clamp((x + 1) / 2, 0, 1)` in float32, then `(rearrange(samples, "t c h w -> t h w c")
 * * 255).astype(np.uint8)`.
 *
 * NOTE: the reference **truncates** to uint8 (numpy's float → uint8 cast), it does not round (diffusers rounds). The
 * watermark and NSFW filter the reference applies between the two steps are not part of this port.
 */
import type { HostTensor } from '../tensor/host-tensor.ts';

/** A clip of 8-bit RGB frames: each `data[t]` is [H, W, 3] interleaved RGB, row-major. */
export interface VideoFrames {
  width: number;
  height: number;
  data: Uint8Array[];
}

/** One decoder value in [−1, 1] → [0, 1] as torch does in float32: `clamp((x + 1) / 2, 0, 1)`. */
export function decoderToUnit(x: number): number {
  const unit = Math.fround(Math.fround(x + 1) / 2);
  // NaN passes through like torch.clamp; the uint8 cast below maps it to 0.
  return unit < 0 ? 0 : Math.min(unit, 1);
}

/** One value in [0, 1] → uint8 as numpy's `(v * 255).astype(np.uint8)` on float32: a float32 product, truncated. */
export function unitToUint8(v: number): number {
  const scaled = Math.fround(Math.fround(v) * 255);
  // Values outside [0, 255] are undefined behaviour in numpy; clamp them so a caller that skipped the clamp gets
  // the saturated value instead of a wrapped one.
  if (!(scaled > 0)) return 0;
  return scaled >= 255 ? 255 : scaled | 0;
}

/**
 * Decoder frames, float32 [T, 3, H, W] in [−1, 1] (a leading batch of 1, [1, T, 3, H, W], is accepted too) → 8-bit
 * frames [T][H, W, 3].
 */
export function decodedToFrames(x: HostTensor<'float32'>): VideoFrames {
  return planarToFrames(x, (v) => unitToUint8(decoderToUnit(v)));
}

/** Frames already in [0, 1], float32 [T, 3, H, W] (the pipeline's output) → 8-bit frames, truncating as the reference. */
export function unitFramesToVideo(x: HostTensor<'float32'>): VideoFrames {
  return planarToFrames(x, unitToUint8);
}

function planarToFrames(x: HostTensor<'float32'>, toByte: (v: number) => number): VideoFrames {
  const shape = x.shape.length === 5 && x.shape[0] === 1 ? x.shape.slice(1) : x.shape;
  if (shape.length !== 4 || shape[1] !== 3) {
    throw new RangeError(`decoded frames must be float32 [T, 3, H, W], got [${x.shape.join(', ')}]`);
  }
  const [t, , height, width] = shape;
  const plane = height * width;
  const src = x.data;
  const data: Uint8Array[] = [];
  for (let f = 0; f < t; f++) {
    // [3, H, W] planar -> [H, W, 3] interleaved
    const base = f * 3 * plane;
    const out = new Uint8Array(plane * 3);
    for (let c = 0; c < 3; c++) {
      const from = base + c * plane;
      for (let i = 0; i < plane; i++) out[i * 3 + c] = toByte(src[from + i]);
    }
    data.push(out);
  }
  return { width, height, data };
}

/** Checks that every frame has W·H·3 bytes; returns a problem description or undefined. */
export function framesProblem(frames: VideoFrames): string | undefined {
  const { width, height, data } = frames;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    return `frame size ${width}×${height} is not positive`;
  }
  if (data.length === 0) return 'no frames to write';
  const bytes = width * height * 3;
  const bad = data.findIndex((d) => d.length !== bytes);
  if (bad >= 0) return `frame ${bad} has ${data[bad].length} bytes, expected ${bytes} (${width}×${height} RGB)`;
  return undefined;
}

/**
 * 8-bit RGB frames → the model's pixel tensor: float32 [T, 3, H, W] in [−1, 1], x/127.5 − 1 (the reference's
 * `ToTensor()·2 − 1` up to float32 rounding: both map 0 → −1 and 255 → 1), optionally mirrored left–right.
 */
import { HostTensor } from '../../tensor/host-tensor.ts';
import type { VideoFrames } from '../../video/frames.ts';

/** v → float32(v / 127.5 − 1) for every byte. */
const TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 127.5 - 1);

/** Frames [T][H, W, 3] (interleaved) → [T·repeat, 3, H, W] planar in [−1, 1]; `flip` mirrors each row. */
export function framesToTensor(
  frames: VideoFrames,
  opts: { flip?: boolean; repeat?: number } = {},
): HostTensor<'float32'> {
  const { width: w, height: h, data } = frames;
  const repeat = opts.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1) throw new RangeError(`repeat must be a positive integer, got ${repeat}`);
  const plane = w * h;
  const t = data.length * repeat;
  const out = new Float32Array(t * 3 * plane);
  for (let f = 0; f < data.length; f++) {
    const src = data[f];
    if (src.length !== plane * 3) throw new RangeError(`frame ${f} has ${src.length} bytes, expected ${plane * 3}`);
    // [H, W, 3] interleaved → [3, H, W] planar, column x read from w − 1 − x when flipped
    const base = f * repeat * 3 * plane;
    for (let y = 0; y < h; y++) {
      const row = y * w;
      for (let x = 0; x < w; x++) {
        const from = (row + (opts.flip ? w - 1 - x : x)) * 3;
        const to = base + row + x;
        out[to] = TO_UNIT[src[from]];
        out[to + plane] = TO_UNIT[src[from + 1]];
        out[to + 2 * plane] = TO_UNIT[src[from + 2]];
      }
    }
    for (let r = 1; r < repeat; r++) out.copyWithin(base + r * 3 * plane, base, base + 3 * plane);
  }
  return new HostTensor('float32', [t, 3, h, w], out);
}

/**
 * A colour jitter in place: each channel c of frames [T, 3, H, W] in [−1, 1] becomes clip(gains[c] · p, 0, 1) in pixel
 * terms p = (x + 1) / 2, i.e. x ↦ clip(g · (x + 1) − 1, −1, 1).
 */
export function applyColourGains(frames: HostTensor<'float32'>, gains: readonly [number, number, number]): void {
  const [t, c, h, w] = frames.shape;
  if (c !== 3) throw new RangeError(`applyColourGains: expected [T, 3, H, W], got [${frames.shape.join(', ')}]`);
  const plane = h * w;
  const x = frames.data as Float32Array;
  for (let f = 0; f < t; f++) {
    for (let ch = 0; ch < 3; ch++) {
      const g = gains[ch];
      const base = (f * 3 + ch) * plane;
      for (let i = base; i < base + plane; i++) x[i] = Math.min(1, Math.max(-1, g * (x[i] + 1) - 1));
    }
  }
}

/** Reorders the channels of frames [T, 3, H, W] in place: output channel c = input channel `order[c]`. */
export function permuteChannels(frames: HostTensor<'float32'>, order: readonly [number, number, number]): void {
  const [t, c, h, w] = frames.shape;
  if (c !== 3) throw new RangeError(`permuteChannels: expected [T, 3, H, W], got [${frames.shape.join(', ')}]`);
  const plane = h * w;
  const x = frames.data as Float32Array;
  for (let f = 0; f < t; f++) {
    const base = f * 3 * plane;
    const copy = x.slice(base, base + 3 * plane);
    for (let ch = 0; ch < 3; ch++) x.set(copy.subarray(order[ch] * plane, (order[ch] + 1) * plane), base + ch * plane);
  }
}

/**
 * Frame-to-frame coherence of a generated video, as a warping error (Lai et al. 2018, "Learning Blind Video Temporal
 * Consistency", ECCV: frame t+1 warped back to frame t by the optical flow between them, compared with frame t): a
 * rigid pan or zoom is explained by its flow and scores high, frames whose texture changes from one to the next
 * ("boiling") score low although their flow magnitude may be small. The flow is curation's Farneback (the camera-motion
 * classifier's), on gray frames; the comparison is over R, G, B in [0, 1], on the pixels whose flow stays inside the
 * frame, away from a border of `margin` pixels.
 */
import { FarnebackFlow } from '../../src/curation/motion/farneback.ts';
import { rgbToGray } from '../../src/curation/motion/gray.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { frameRgb } from './mini-videos.ts';

export interface WarpPsnr {
  /** PSNR (dB) of frame t against frame t+1 warped back by the flow, per pair. */
  pairs: number[];
  /** Their mean. */
  mean: number;
}

/** Frames [T, 3, H, W] in [0, 1] → the warping PSNR of each consecutive pair. */
export function warpPsnr(frames: HostTensor<'float32'>, margin = 8): WarpPsnr {
  const [t, c, h, w] = frames.shape;
  if (c !== 3 || t < 2) throw new RangeError(`warpPsnr: frames must be [T ≥ 2, 3, H, W], got [${frames.shape}]`);
  const d = frames.data as Float32Array;
  const plane = h * w;
  const flow = new FarnebackFlow(w, h);
  const gray = (f: number) => flow.expand(rgbToGray(frameRgb(frames, f)));
  /** Bilinear sample of frame f's channel k at (x, y). */
  const sample = (f: number, k: number, x: number, y: number) => {
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const ax = x - x0;
    const ay = y - y0;
    const base = (f * 3 + k) * plane;
    const at = (xx: number, yy: number) => d[base + yy * w + xx];
    const x1 = Math.min(x0 + 1, w - 1);
    const y1 = Math.min(y0 + 1, h - 1);
    return (1 - ay) * ((1 - ax) * at(x0, y0) + ax * at(x1, y0)) + ay * ((1 - ax) * at(x0, y1) + ax * at(x1, y1));
  };
  const pairs: number[] = [];
  let prev = gray(0);
  for (let f = 0; f + 1 < t; f++) {
    const next = gray(f + 1);
    // OpenCV's convention: prev(y, x) ≈ next(y + v, x + u)
    const uv = flow.flow(prev, next);
    let se = 0;
    let n = 0;
    for (let y = margin; y < h - margin; y++) {
      for (let x = margin; x < w - margin; x++) {
        const i = y * w + x;
        const sx = x + uv[i * 2];
        const sy = y + uv[i * 2 + 1];
        if (sx < 0 || sy < 0 || sx > w - 1 || sy > h - 1) continue;
        for (let k = 0; k < 3; k++) {
          const e = d[(f * 3 + k) * plane + i] - sample(f + 1, k, sx, sy);
          se += e * e;
        }
        n += 3;
      }
    }
    pairs.push(n === 0 ? 0 : 10 * Math.log10(1 / Math.max(se / n, 1e-10)));
    prev = next;
  }
  return { pairs, mean: pairs.reduce((a, b) => a + b, 0) / pairs.length };
}

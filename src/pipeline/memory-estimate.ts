/**
 * Rough peak-memory estimates for the two large stages, so that the pipeline can choose the exact-but-leaner CFG
 * split by itself and warn before a decode chunk that will not fit (it never shrinks `decodeChunk`: that changes the
 * result). The per-pixel constants are measured on the CPU provider (README, `npm run bench -- unet|generate`) and
 * are estimates, not bounds.
 */
import { totalmem } from 'node:os';
import { GraphBuilder } from '../graph/builder.ts';
import type { SvdModel } from '../models/description.ts';
import { declareVideoUNetParams } from '../models/unet/index.ts';
import { Params } from '../nn/params.ts';

/** Bytes of UNet activations per (batch row × latent pixel): svd-xt at 32×32, 28 rows peaked 7.6 GiB above its weights. */
const UNET_BYTES_PER_ROW_PIXEL = 285_000;
/** Bytes of VideoDecoder activations per (frame × output pixel), svd sizes (128–512 channels at full resolution). */
const DECODER_BYTES_PER_FRAME_PIXEL = 6_000;

export interface MemoryPlan {
  splitCfg: boolean;
  /**
   * Whether the stages may use ORT's memory arena. Off for large runs: an arena keeps its peak, and memory a released
   * session gave back stayed with the process (glibc), so at full size the decoder ran out of 24 GiB after the UNet.
   */
  memoryArena: boolean;
  unetPeakBytes: number;
  decodePeakBytes: number;
  notes: string[];
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

export function planMemory(
  model: SvdModel,
  frames: number,
  height: number,
  width: number,
  decodeChunk: number,
  splitCfg: boolean,
  available = totalmem(),
): MemoryPlan {
  const b = new GraphBuilder('estimate');
  const unetParams = declareVideoUNetParams(new Params(b, 'model.diffusion_model'), model.unet).count();
  const weights = unetParams * 4;
  const latentPixels = (height / 8) * (width / 8);
  const unetPeak = (rows: number) => weights + rows * latentPixels * UNET_BYTES_PER_ROW_PIXEL;
  const notes: string[] = [];
  let split = splitCfg;
  if (!split && unetPeak(2 * frames) > 0.8 * available && unetPeak(frames) <= unetPeak(2 * frames)) {
    split = true;
    notes.push(
      `running the unconditional and conditional halves as two UNet calls (the same video up to float32 rounding) to fit memory: one call of ${2 * frames} rows would need about ${gib(unetPeak(2 * frames))} of ${gib(available)}`,
    );
  }
  const unetPeakBytes = unetPeak(split ? frames : 2 * frames);
  if (unetPeakBytes > 0.9 * available) {
    notes.push(
      `the UNet stage may need about ${gib(unetPeakBytes)} of ${gib(available)}; fewer frames or a smaller --size lower it`,
    );
  }
  const decodePeakBytes = Math.min(decodeChunk, frames) * height * width * DECODER_BYTES_PER_FRAME_PIXEL;
  if (decodePeakBytes > 0.8 * available) {
    notes.push(
      `decoding ${Math.min(decodeChunk, frames)} frames per call at ${width}×${height} may need about ${gib(decodePeakBytes)} of ${gib(available)}; --decode-chunk is kept as given because it changes the result — lower it yourself to use less memory`,
    );
  }
  const memoryArena = unetPeakBytes + decodePeakBytes < 0.25 * available;
  return { splitCfg: split, memoryArena, unetPeakBytes, decodePeakBytes, notes };
}

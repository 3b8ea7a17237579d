/**
 * Rough peak-memory estimates for the two large stages, so that the pipeline can choose the exact-but-leaner CFG
 * split by itself and warn before a decode chunk that will not fit (it never shrinks `decodeChunk`: that changes the
 * result). The per-pixel figures are measured on the CPU provider and scale with the model's widths, so a small
 * model is not judged by SVD's figures (the 2 M-parameter tiny golden model at 1024×576 was predicted to need
 * 19.6 GiB for a UNet call of 8 rows, and split it; the call needs about 0.8 GiB). They are estimates, not bounds.
 *
 * Calibration (VmHWM of a generation, cpu provider, 2 threads; the README's bench tables for svd-xt):
 * - svd-xt UNet: 28 rows at 32×32 latents peaked 7.6 GiB above its weights, 4 rows at 72×128 latents 16.7 GiB in
 *   all → 285 kB per row-pixel for its activation width 2900 (see `unetActivationWidth`).
 * - the tiny golden UNet (width 144 → 14.2 kB per row-pixel; measured 2026-12-03): 8 rows at 56×96 latents peaked
 *   498 MiB above the bare process, 8 rows at 72×128 latents 794 MiB (conditioning's leftovers included): 11–12 kB.
 * - decoders: svd's (ch 128) about 6.0 kB per frame-pixel; the tiny one (ch 32) 1.7–1.9 kB (4 frames at 1024×576 in
 *   one call: VmHWM 4.23 GB in all) — linear in the decoder's full-resolution channels between the two.
 */
import { totalmem } from 'node:os';
import { GraphBuilder } from '../graph/builder.ts';
import type { SvdModel } from '../models/description.ts';
import type { VideoUNetConfig } from '../models/unet/config.ts';
import { declareVideoUNetParams } from '../models/unet/index.ts';
import { Params } from '../nn/params.ts';

/** Bytes of UNet activations per (batch row × latent pixel) of svd-xt (activation width 2900). */
const SVD_UNET_BYTES_PER_ROW_PIXEL = 285_000;
const SVD_UNET_ACTIVATION_WIDTH = 2900;

/**
 * A UNet's activation width per latent pixel of one row: the channels of each level weighted by its share of the
 * pixels (4^−level), times the blocks that keep activations at each level (numResBlocks down, numResBlocks + 1 up).
 * svd: 320 · (1 + 2/4 + 4/16 + 4/64) · 5 = 2900; the tiny golden UNet: 32 · (1 + 2/4) · 3 = 144.
 */
export function unetActivationWidth(unet: Pick<VideoUNetConfig, 'modelChannels' | 'channelMult' | 'numResBlocks'>) {
  const levels = unet.channelMult.reduce((sum, mult, level) => sum + mult / 4 ** level, 0);
  return unet.modelChannels * levels * (2 * unet.numResBlocks + 1);
}

/** Bytes of UNet activations per (batch row × latent pixel). */
export function unetBytesPerRowPixel(unet: Parameters<typeof unetActivationWidth>[0]): number {
  return (SVD_UNET_BYTES_PER_ROW_PIXEL * unetActivationWidth(unet)) / SVD_UNET_ACTIVATION_WIDTH;
}

/** Bytes of decoder activations per (frame × output pixel): 400 + 43.75 per full-resolution channel (svd's 128: 6000). */
export function decoderBytesPerFramePixel(model: Pick<SvdModel, 'firstStage'>): number {
  const fs = model.firstStage;
  const ddconfig = fs.kind === 'autoencoder-kl' ? fs.kl.ddconfig : fs.decoder;
  return 400 + 43.75 * ddconfig.ch * ddconfig.chMult[0];
}

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

/** Bytes in GiB, or in MiB below 1 GiB (a small model's figures are not all "0.0 GiB"). */
const gib = (b: number) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${Math.round(b / 2 ** 20)} MiB`);

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
  const unetPeak = (rows: number) => weights + rows * latentPixels * unetBytesPerRowPixel(model.unet);
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
  const decodePeakBytes = Math.min(decodeChunk, frames) * height * width * decoderBytesPerFramePixel(model);
  if (decodePeakBytes > 0.8 * available) {
    notes.push(
      `decoding ${Math.min(decodeChunk, frames)} frames per call at ${width}×${height} may need about ${gib(decodePeakBytes)} of ${gib(available)}; --decode-chunk is kept as given because it changes the result — lower it yourself to use less memory`,
    );
  }
  const memoryArena = unetPeakBytes + decodePeakBytes < 0.25 * available;
  return { splitCfg: split, memoryArena, unetPeakBytes, decodePeakBytes, notes };
}

/**
 * A cheap preview of a latent frame for progress events: each latent pixel's channels mapped to RGB by a fixed
 * linear map, no VAE. For the released models' 4 channels the factors are the widely used least-squares fit of the
 * SD 1.x/2.x VAE (the latent space SVD shares), e.g. ComfyUI's `latent_rgb_factors` for SD1.5; a model with its own
 * latent space carries its own fit (`SvdModel.latentRgb`). The preview is h×w = the latent size (1/8 of the video).
 */
import type { SvdModel } from '../../models/description.ts';

export interface PreviewImage {
  readonly width: number;
  readonly height: number;
  /** Row-major RGB, 3 bytes per pixel. */
  readonly rgb: Uint8Array;
}

/** Rows: latent channels 0–3; columns: R, G, B. */
export const SD_LATENT_RGB: readonly (readonly number[])[] = [
  [0.3512, 0.2297, 0.3227],
  [0.325, 0.4974, 0.235],
  [-0.2829, 0.1762, 0.2721],
  [-0.212, -0.2616, -0.7177],
];

/** The preview map of `model`'s latent: its own fit, else the SD fit for a 4-channel latent, else none. */
export function latentRgbOf(model: Pick<SvdModel, 'latentRgb' | 'unet'>): readonly (readonly number[])[] | undefined {
  return model.latentRgb ?? (model.unet.outChannels === SD_LATENT_RGB.length ? SD_LATENT_RGB : undefined);
}

/**
 * Frame `frame` of a latent batch [T, C, h, w] (the sampler's denoised estimate, unscaled) as an RGB preview;
 * `factors` has one row (R, G, B) per latent channel.
 */
export function latentPreview(
  latent: Float32Array,
  frame: number,
  h: number,
  w: number,
  factors: readonly (readonly number[])[] = SD_LATENT_RGB,
): PreviewImage {
  const plane = h * w;
  const C = factors.length;
  const base = frame * C * plane;
  const rgb = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let k = 0; k < 3; k++) {
      let v = 0;
      for (let c = 0; c < C; c++) v += latent[base + c * plane + i] * factors[c][k];
      rgb[i * 3 + k] = Math.max(0, Math.min(255, Math.round(((v + 1) / 2) * 255)));
    }
  }
  return { width: w, height: h, rgb };
}

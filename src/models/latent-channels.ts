/**
 * A model description with another number of latent channels: the first stage's `z_channels` / `embed_dim`, the
 * conditioning-frame encoder's, and the UNet's `in_channels` (noisy latent + concat latent) and `out_channels`.
 * The autoencoder stage's `model.latentChannels` trains one (e.g. svd-mini with the released models' 4 channels, to
 * compare: src/models/presets.ts MINI_LATENT_CHANNELS).
 */

import type { EmbedderSpec, FirstStageSpec, SvdModel } from './description.ts';
import type { AutoencoderConfig } from './vae/config.ts';

/** The latent channels of `model` (the UNet's output: the denoised latent). */
export function latentChannels(model: Pick<SvdModel, 'unet'>): number {
  return model.unet.outChannels;
}

/** `model` with `n` latent channels everywhere the latent's width appears. */
export function withLatentChannels(model: SvdModel, n: number): SvdModel {
  if (!Number.isInteger(n) || n < 1) throw new Error(`latent channels: a positive integer, got ${n}`);
  const old = latentChannels(model);
  if (n === old) return model;
  const dd = (c: AutoencoderConfig): AutoencoderConfig => Object.freeze({ ...c, zChannels: n });
  const fs = model.firstStage;
  const firstStage: FirstStageSpec =
    fs.kind === 'autoencoding-engine'
      ? Object.freeze({ ...fs, encoder: fs.encoder && dd(fs.encoder), decoder: dd(fs.decoder) })
      : Object.freeze({ ...fs, kl: Object.freeze({ embedDim: n, ddconfig: dd(fs.kl.ddconfig) }) });
  const embedders = model.embedders.map(
    (e): EmbedderSpec =>
      e.kind === 'cond-frames-encoder'
        ? Object.freeze({ ...e, autoencoder: Object.freeze({ embedDim: n, ddconfig: dd(e.autoencoder.ddconfig) }) })
        : e,
  );
  // in_channels = noisy latent + concat latent (SVD: 4 + 4)
  const concat = model.unet.inChannels - old;
  return Object.freeze({
    ...model,
    firstStage,
    embedders: Object.freeze(embedders),
    unet: Object.freeze({ ...model.unet, inChannels: n + (concat > 0 ? n : 0), outChannels: n }),
  });
}

/**
 * `sgm/models/autoencoder.py::AutoencoderKL` / `AutoencoderKLModeOnly` (modules `encoder`, `decoder`, `quant_conv`
 * Conv2d 2z→2·embed 1×1, `post_quant_conv` Conv2d embed→z 1×1):
 * - `encodeModeOnly`: what `VideoPredictionEmbedderWithEncoder` computes for the SVD conditioning latent at
 *   `conditioner.embedders.3.encoder`: the posterior mean of quant_conv(encoder(x)) — no scale factor;
 * - `decodeAutoencoderKL`: post_quant_conv then the plain Decoder (the `svd_image_decoder` first stage).
 */
import type { SymTensor } from '../../graph/builder.ts';
import { conv } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import type { AutoencoderKLConfig } from './config.ts';
import { buildDecoder } from './decoder.ts';
import { buildEncoder } from './encoder.ts';
import { DiagonalGaussian } from './gaussian.ts';
import type { BuildOptions } from './tap.ts';

/** quant_conv(encoder(x)): x [N, in, H, W] → moments [N, 2·embed, h, w]. `p` is the AutoencoderKL module. */
export function encodeMoments(p: Params, x: SymTensor, cfg: AutoencoderKLConfig, opts: BuildOptions = {}): SymTensor {
  const dd = cfg.ddconfig;
  if (!dd.doubleZ) throw new Error('AutoencoderKL needs double_z (quant_conv maps 2·z to 2·embed_dim channels)');
  const h = buildEncoder(p.pp('encoder'), x, dd, opts);
  const moments = conv(p.pp('quant_conv'), h, 2 * dd.zChannels, 2 * cfg.embedDim, { kernel: 1 });
  opts.tap?.(p.pp('quant_conv').prefix, moments);
  return moments;
}

/** `AutoencoderKLModeOnly.encode`: the posterior mode (= mean) [N, embed, h, w]. */
export function encodeModeOnly(p: Params, x: SymTensor, cfg: AutoencoderKLConfig, opts: BuildOptions = {}): SymTensor {
  return new DiagonalGaussian(encodeMoments(p, x, cfg, opts)).mode();
}

/** `AutoencoderKL.decode`: post_quant_conv then Decoder; z [N, embed, h, w] → [N, outCh, H, W]. */
export function decodeAutoencoderKL(
  p: Params,
  z: SymTensor,
  cfg: AutoencoderKLConfig,
  opts: BuildOptions = {},
): SymTensor {
  const dd = cfg.ddconfig;
  const h = conv(p.pp('post_quant_conv'), z, cfg.embedDim, dd.zChannels, { kernel: 1 });
  return buildDecoder(p.pp('decoder'), h, dd, opts);
}

/**
 * Shape-only declarations: record a module's parameters (key → shape) in a ParamTree without building anything the
 * caller runs. Each one traces the real builder at the smallest input size on a scratch graph whose Params share the
 * caller's prefix and ParamTree, so the declared tree is by construction the one the forward pass reads.
 *
 * Uses: full-size key/shape checks against the reference manifests, and loaders that must tell the checkpoint keys
 * the reference ignores at inference (`first_stage_model.encoder.*`,
 * `conditioner.embedders.3.encoder.{decoder,post_quant_conv}.*`) from unknown keys.
 */
import { GraphBuilder } from '../../graph/builder.ts';
import { conv } from '../../nn/layers.ts';
import { Params } from '../../nn/params.ts';
import { decodeAutoencoderKL, encodeMoments } from './autoencoder.ts';
import type { AutoencoderConfig, AutoencoderKLConfig } from './config.ts';
import { buildDecoder } from './decoder.ts';
import { buildEncoder } from './encoder.ts';
import { buildVideoDecoder } from './video-decoder.ts';

function scratch(p: Params): Params {
  return new Params(new GraphBuilder('shape-only'), p.prefix, p.tree);
}

/** Smallest image side the encoder's downsampling chain accepts: 2^(levels − 1). */
function minImageSide(cfg: AutoencoderConfig): number {
  return 2 ** (cfg.chMult.length - 1);
}

/** `model.py::Encoder` at `p` (e.g. `first_stage_model.encoder`). */
export function declareEncoder(p: Params, cfg: AutoencoderConfig): void {
  const s = scratch(p);
  const side = minImageSide(cfg);
  buildEncoder(s, s.builder.input('x', [1, cfg.inChannels, side, side]), cfg);
}

/** `model.py::Decoder` (image decoder) at `p`. */
export function declareDecoder(p: Params, cfg: AutoencoderConfig): void {
  const s = scratch(p);
  buildDecoder(s, s.builder.input('z', [1, cfg.zChannels, 1, 1]), cfg);
}

/** `temporal_ae.py::VideoDecoder` at `p` (e.g. `first_stage_model.decoder`). */
export function declareVideoDecoder(p: Params, cfg: AutoencoderConfig): void {
  const s = scratch(p);
  buildVideoDecoder(s, s.builder.input('z', [1, cfg.zChannels, 1, 1]), cfg, 1);
}

/** The whole `AutoencoderKL` / `AutoencoderKLModeOnly` at `p`: encoder, decoder, quant_conv, post_quant_conv. */
export function declareAutoencoderKL(p: Params, cfg: AutoencoderKLConfig): void {
  const s = scratch(p);
  const side = minImageSide(cfg.ddconfig);
  encodeMoments(s, s.builder.input('x', [1, cfg.ddconfig.inChannels, side, side]), cfg);
  decodeAutoencoderKL(s, s.builder.input('z', [1, cfg.embedDim, 1, 1]), cfg);
}

/**
 * The parts of an `AutoencoderKLModeOnly` that the conditioning path does not read: `decoder.*` and
 * `post_quant_conv.*` (present in the released checkpoint under `conditioner.embedders.3.encoder`).
 */
export function declareModeOnlyUnused(p: Params, cfg: AutoencoderKLConfig): void {
  declareDecoder(p.pp('decoder'), cfg.ddconfig);
  const s = scratch(p);
  conv(s.pp('post_quant_conv'), s.builder.input('z', [1, cfg.embedDim, 1, 1]), cfg.embedDim, cfg.ddconfig.zChannels, {
    kernel: 1,
  });
}

/** The SVD first stage `AutoencodingEngine` at `p` (`first_stage_model`): `encoder` + video `decoder`, no quant convs. */
export function declareFirstStage(p: Params, cfg: { encoder: AutoencoderConfig; decoder: AutoencoderConfig }): void {
  declareEncoder(p.pp('encoder'), cfg.encoder);
  declareVideoDecoder(p.pp('decoder'), cfg.decoder);
}

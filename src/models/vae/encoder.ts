/**
 * `sgm/modules/diffusionmodules/model.py::Encoder`: conv_in → levels of ResnetBlocks (+ AttnBlocks at
 * `attn_resolutions`) with a Downsample between levels → mid (ResnetBlock, AttnBlock, ResnetBlock) → norm_out → swish
 * → conv_out to 2·z (`double_z`) channels. The SVD first stage has no quant_conv (`AutoencodingEngine`); the
 * conditioning `AutoencoderKLModeOnly` adds one (see autoencoder.ts). Every GroupNorm has the config's `normGroups`
 * groups (default 32, the reference's `Normalize`).
 */
import type { SymTensor } from '../../graph/builder.ts';
import { conv } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import { makeAttn } from './attn-block.ts';
import { type AutoencoderConfig, vaeNormGroups } from './config.ts';
import { downsample } from './resample.ts';
import { resnetBlock, swish, vaeNorm } from './resnet-block.ts';
import type { BuildOptions } from './tap.ts';

/** x [N, inChannels, H, W] → moments [N, (2·)z, H/2^(L−1), W/2^(L−1)]. `p` is the `encoder` module. */
export function buildEncoder(p: Params, x: SymTensor, cfg: AutoencoderConfig, opts: BuildOptions = {}): SymTensor {
  const tap = (q: Params, v: SymTensor): SymTensor => {
    opts.tap?.(q.prefix, v);
    return v;
  };
  if (x.rank !== 4 || x.shape[1] !== cfg.inChannels) {
    throw new Error(`VAE encoder: input must be [N, ${cfg.inChannels}, H, W], got [${x.shape}]`);
  }
  const groups = vaeNormGroups(cfg);
  const levels = cfg.chMult.length;
  const inChMult = [1, ...cfg.chMult];
  let h = tap(p.pp('conv_in'), conv(p.pp('conv_in'), x, cfg.inChannels, cfg.ch, { kernel: 3, padding: 1 }));
  let currRes = cfg.resolution;
  let blockIn = cfg.ch;
  for (let level = 0; level < levels; level++) {
    const down = p.pp('down').pp(level);
    blockIn = cfg.ch * inChMult[level];
    const blockOut = cfg.ch * cfg.chMult[level];
    for (let i = 0; i < cfg.numResBlocks; i++) {
      const bp = down.pp('block').pp(i);
      h = tap(bp, resnetBlock(bp, h, blockIn, blockOut, groups));
      blockIn = blockOut;
      if (cfg.attnResolutions.includes(currRes)) {
        const ap = down.pp('attn').pp(i);
        h = tap(ap, makeAttn(ap, h, blockIn, cfg.attnType, groups));
      }
    }
    if (level !== levels - 1) {
      const dp = down.pp('downsample');
      h = tap(dp, downsample(dp, h, blockIn));
      currRes = Math.floor(currRes / 2);
    }
  }
  const mid = p.pp('mid');
  h = tap(mid.pp('block_1'), resnetBlock(mid.pp('block_1'), h, blockIn, blockIn, groups));
  h = tap(mid.pp('attn_1'), makeAttn(mid.pp('attn_1'), h, blockIn, cfg.attnType, groups));
  h = tap(mid.pp('block_2'), resnetBlock(mid.pp('block_2'), h, blockIn, blockIn, groups));
  h = tap(p.pp('norm_out'), vaeNorm(p.pp('norm_out'), h, blockIn, groups));
  const outC = cfg.doubleZ ? 2 * cfg.zChannels : cfg.zChannels;
  return tap(p.pp('conv_out'), conv(p.pp('conv_out'), swish(h), blockIn, outC, { kernel: 3, padding: 1 }));
}

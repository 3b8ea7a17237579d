/**
 * `sgm/modules/diffusionmodules/model.py::Decoder`: conv_in z → mid (ResnetBlock, AttnBlock, ResnetBlock) → up levels
 * L−1..0 with `num_res_blocks + 1` blocks each (+ AttnBlocks at `attn_resolutions`) and an Upsample after every level
 * but 0 → norm_out → swish → conv_out.
 *
 * As in the reference, the block and output-conv types are factory hooks (`_make_resblock`, `_make_conv`): the plain
 * image decoder uses `ResnetBlock` and `Conv2d`; `VideoDecoder` (video-decoder.ts) swaps in `VideoResBlock` and
 * `AE3DConv`. Every GroupNorm has the config's `normGroups` groups (default 32, the reference's `Normalize`); the parts
 * take theirs from the same config.
 */
import type { SymTensor } from '../../graph/builder.ts';
import { conv } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import { makeAttn } from './attn-block.ts';
import { type AutoencoderConfig, vaeNormGroups } from './config.ts';
import { upsample } from './resample.ts';
import { resnetBlock, swish, vaeNorm } from './resnet-block.ts';
import type { BuildOptions } from './tap.ts';

/** The reference Decoder's `_make_resblock` / `_make_conv` hooks. */
export interface DecoderParts {
  resBlock(p: Params, x: SymTensor, inC: number, outC: number): SymTensor;
  convOut(p: Params, x: SymTensor, inC: number, outC: number): SymTensor;
}

/** The image decoder's parts: `ResnetBlock` (norms in the config's `normGroups` groups) and a Conv2d 3×3 pad 1. */
export function imageDecoderParts(cfg: AutoencoderConfig): DecoderParts {
  const groups = vaeNormGroups(cfg);
  return {
    resBlock: (p, x, inC, outC) => resnetBlock(p, x, inC, outC, groups),
    convOut: (p, x, inC, outC) => conv(p, x, inC, outC, { kernel: 3, padding: 1 }),
  };
}

/** The Decoder's module tree and forward pass with the given parts: z [N, z, h, w] → [N, outCh, h·2^(L−1), w·2^(L−1)]. */
export function decoderForward(
  p: Params,
  z: SymTensor,
  cfg: AutoencoderConfig,
  parts: DecoderParts,
  opts: BuildOptions = {},
): SymTensor {
  const tap = (q: Params, v: SymTensor): SymTensor => {
    opts.tap?.(q.prefix, v);
    return v;
  };
  if (z.rank !== 4 || z.shape[1] !== cfg.zChannels) {
    throw new Error(`VAE decoder: latent must be [N, ${cfg.zChannels}, h, w], got [${z.shape}]`);
  }
  const groups = vaeNormGroups(cfg);
  const levels = cfg.chMult.length;
  let blockIn = cfg.ch * cfg.chMult[levels - 1];
  let currRes = Math.floor(cfg.resolution / 2 ** (levels - 1));
  let h = tap(p.pp('conv_in'), conv(p.pp('conv_in'), z, cfg.zChannels, blockIn, { kernel: 3, padding: 1 }));
  // mid and each up level are traced in a scope named by their checkpoint prefix (node names in ORT profiles).
  const mid = p.pp('mid');
  h = p.builder.scope(mid.prefix, () => {
    let m = tap(mid.pp('block_1'), parts.resBlock(mid.pp('block_1'), h, blockIn, blockIn));
    m = tap(mid.pp('attn_1'), makeAttn(mid.pp('attn_1'), m, blockIn, cfg.attnType, groups));
    return tap(mid.pp('block_2'), parts.resBlock(mid.pp('block_2'), m, blockIn, blockIn));
  });
  for (let level = levels - 1; level >= 0; level--) {
    const up = p.pp('up').pp(level);
    const blockOut = cfg.ch * cfg.chMult[level];
    h = p.builder.scope(up.prefix, () => {
      let u = h;
      for (let i = 0; i < cfg.numResBlocks + 1; i++) {
        const bp = up.pp('block').pp(i);
        u = tap(bp, parts.resBlock(bp, u, blockIn, blockOut));
        blockIn = blockOut;
        if (cfg.attnResolutions.includes(currRes)) {
          const ap = up.pp('attn').pp(i);
          u = tap(ap, makeAttn(ap, u, blockIn, cfg.attnType, groups));
        }
      }
      if (level !== 0) {
        u = tap(up.pp('upsample'), upsample(up.pp('upsample'), u, blockIn));
        currRes *= 2;
      }
      return u;
    });
  }
  h = tap(p.pp('norm_out'), vaeNorm(p.pp('norm_out'), h, blockIn, groups));
  return tap(p.pp('conv_out'), parts.convOut(p.pp('conv_out'), swish(h), blockIn, cfg.outCh));
}

/** The plain image `Decoder` (`p` = the `decoder` module): z [N, z, h, w] → images [N, outCh, H, W]. */
export function buildDecoder(p: Params, z: SymTensor, cfg: AutoencoderConfig, opts: BuildOptions = {}): SymTensor {
  return decoderForward(p, z, cfg, imageDecoderParts(cfg), opts);
}

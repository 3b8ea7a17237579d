/**
 * VAE key rules: sgm `Encoder` (`sgm/modules/diffusionmodules/model.py::Encoder`) and `VideoDecoder`
 * (`sgm/modules/autoencoding/temporal_ae.py::VideoDecoder`) ⇄ diffusers `AutoencoderKLTemporalDecoder`
 * (`vae/diffusion_pytorch_model.safetensors`), as in diffusers' `loaders/conversion/svd_vae.py`.
 *
 * Keys are relative to the encoder / decoder module on both sides (sgm `…encoder.X` ⇄ diffusers `encoder.X`):
 * - encoder `down.i.block.j` → `down_blocks.i.resnets.j` (`nin_shortcut` → `conv_shortcut`), `down.i.downsample.conv`
 *   → `down_blocks.i.downsamplers.0.conv`;
 * - decoder `up.i` → `up_blocks.{L−1−i}` (diffusers counts from the deepest level), resnets split into
 *   `spatial_res_block.*` and `temporal_res_block.*` (from `time_stack.{in,out}_layers`), `mix_factor` →
 *   `time_mixer.mix_factor`, `conv_out.time_mix_conv` → `time_conv_out`;
 * - `mid.block_{1,2}` → `mid_block.resnets.{0,1}`; `mid.attn_1.{norm,q,k,v,proj_out}` →
 *   `mid_block.attentions.0.{group_norm,to_q,to_k,to_v,to_out.0}` with the 1×1 conv weights squeezed to linear;
 *   `norm_out` → `conv_norm_out`.
 */
import { parseIndex, type RenamePair, renameLeading } from './rename.ts';
import { COPY, type KeyTransform, SQUEEZE } from './transforms.ts';

/** The block structure the decoder rules need: the number of resolution levels (`len(ch_mult)`). */
export interface VaeKeyLayout {
  readonly numLevels: number;
}

/** A relative target key and its transform (VAE rules are one-to-one). */
export interface VaeKeyMapping {
  readonly key: string;
  readonly transform: KeyTransform;
}

const PLAIN_RESNET: readonly RenamePair[] = [
  ['norm1', 'norm1'],
  ['conv1', 'conv1'],
  ['norm2', 'norm2'],
  ['conv2', 'conv2'],
  ['nin_shortcut', 'conv_shortcut'],
];

const VIDEO_RESNET: readonly RenamePair[] = [
  ['time_stack.in_layers.0', 'temporal_res_block.norm1'],
  ['time_stack.in_layers.2', 'temporal_res_block.conv1'],
  ['time_stack.out_layers.0', 'temporal_res_block.norm2'],
  ['time_stack.out_layers.3', 'temporal_res_block.conv2'],
  ...PLAIN_RESNET.map(([a, b]): RenamePair => [a, `spatial_res_block.${b}`]),
];

const ATTENTION: readonly RenamePair[] = [
  ['norm', 'group_norm'],
  ['q', 'to_q'],
  ['k', 'to_k'],
  ['v', 'to_v'],
  ['proj_out', 'to_out.0'],
];

/** Modules whose renaming needs no index arithmetic; checked in order (`conv_out.time_mix_conv` before `conv_out`). */
const ENCODER_FIXED: readonly RenamePair[] = [
  ['conv_in', 'conv_in'],
  ['norm_out', 'conv_norm_out'],
  ['conv_out', 'conv_out'],
];
const DECODER_FIXED: readonly RenamePair[] = [
  ['conv_in', 'conv_in'],
  ['norm_out', 'conv_norm_out'],
  ['conv_out.time_mix_conv', 'time_conv_out'],
  ['conv_out', 'conv_out'],
];

/** The attention weights are 1×1 convs in sgm and linear layers in diffusers. */
function attentionTransform(sgmRest: string): KeyTransform {
  return /^(q|k|v|proj_out)\.weight$/.test(sgmRest) ? SQUEEZE : COPY;
}

function mapped(key: string | undefined, transform: KeyTransform = COPY): VaeKeyMapping | undefined {
  return key === undefined ? undefined : { key, transform };
}

/** Renames the inside of a resnet block; `reverse` goes from diffusers to sgm. */
type ResnetRename = (rest: string, reverse: boolean) => string | undefined;

const plainResnet: ResnetRename = (rest, reverse) => renameLeading(rest, PLAIN_RESNET, reverse);

/** VideoResBlock: the spatial ResnetBlock, its `time_stack`, and `mix_factor` (a parameter on the block itself). */
const videoResnet: ResnetRename = (rest, reverse) => {
  const [sgm, diffusers] = ['mix_factor', 'time_mixer.mix_factor'];
  if (rest === (reverse ? diffusers : sgm)) return reverse ? sgm : diffusers;
  return renameLeading(rest, VIDEO_RESNET, reverse);
};

/** Mid block (`mid.block_1`, `mid.attn_1`, `mid.block_2`) ⇄ `mid_block.*`, shared by encoder and decoder. */
function midToDiffusers(rest: string, resnet: ResnetRename): VaeKeyMapping | undefined {
  const block = /^block_([12])\.(.+)$/.exec(rest);
  if (block) return mapped(prefixed(`mid_block.resnets.${Number(block[1]) - 1}`, resnet(block[2], false)));
  const attn = /^attn_1\.(.+)$/.exec(rest);
  if (attn) {
    return mapped(prefixed('mid_block.attentions.0', renameLeading(attn[1], ATTENTION)), attentionTransform(attn[1]));
  }
  return undefined;
}

function midFromDiffusers(rest: string, resnet: ResnetRename): VaeKeyMapping | undefined {
  const block = /^resnets\.([01])\.(.+)$/.exec(rest);
  if (block) return mapped(prefixed(`block_${Number(block[1]) + 1}`, resnet(block[2], true)));
  const attn = /^attentions\.0\.(.+)$/.exec(rest);
  if (attn) {
    const sgm = renameLeading(attn[1], ATTENTION, true);
    return sgm === undefined ? undefined : { key: `attn_1.${sgm}`, transform: attentionTransform(sgm) };
  }
  return undefined;
}

/** Diffusers key (relative to `encoder.`) of an sgm Encoder key (relative to the encoder module). */
export function vaeEncoderKeyToDiffusers(key: string, layout: VaeKeyLayout): VaeKeyMapping | undefined {
  const fixed = renameLeading(key, ENCODER_FIXED);
  if (fixed !== undefined) return mapped(fixed);
  const mid = /^mid\.(.+)$/.exec(key);
  if (mid) return midToDiffusers(mid[1], plainResnet);
  const block = /^down\.(\d+)\.block\.(\d+)\.(.+)$/.exec(key);
  if (block) {
    const i = levelIndex(block[1], layout);
    const j = parseIndex(block[2]);
    if (i === undefined || j === undefined) return undefined;
    return mapped(prefixed(`down_blocks.${i}.resnets.${j}`, renameLeading(block[3], PLAIN_RESNET)));
  }
  const down = /^down\.(\d+)\.downsample\.conv\.(.+)$/.exec(key);
  if (down) {
    const i = levelIndex(down[1], layout);
    if (i === undefined || i === layout.numLevels - 1) return undefined;
    return mapped(`down_blocks.${i}.downsamplers.0.conv.${down[2]}`);
  }
  return undefined;
}

/** sgm Encoder key (relative) of a diffusers key relative to `encoder.`. */
export function vaeEncoderKeyFromDiffusers(key: string, layout: VaeKeyLayout): VaeKeyMapping | undefined {
  const fixed = renameLeading(key, ENCODER_FIXED, true);
  if (fixed !== undefined) return mapped(fixed);
  const mid = /^mid_block\.(.+)$/.exec(key);
  if (mid) return prefixedMapping('mid', midFromDiffusers(mid[1], plainResnet));
  const block = /^down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(key);
  if (block) {
    const i = levelIndex(block[1], layout);
    const j = parseIndex(block[2]);
    if (i === undefined || j === undefined) return undefined;
    return mapped(prefixed(`down.${i}.block.${j}`, renameLeading(block[3], PLAIN_RESNET, true)));
  }
  const down = /^down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/.exec(key);
  if (down) {
    const i = levelIndex(down[1], layout);
    if (i === undefined || i === layout.numLevels - 1) return undefined;
    return mapped(`down.${i}.downsample.conv.${down[2]}`);
  }
  return undefined;
}

/** Diffusers key (relative to `decoder.`) of an sgm VideoDecoder key (relative to the decoder module). */
export function vaeDecoderKeyToDiffusers(key: string, layout: VaeKeyLayout): VaeKeyMapping | undefined {
  const fixed = renameLeading(key, DECODER_FIXED);
  if (fixed !== undefined) return mapped(fixed);
  const mid = /^mid\.(.+)$/.exec(key);
  if (mid) return midToDiffusers(mid[1], videoResnet);
  const block = /^up\.(\d+)\.block\.(\d+)\.(.+)$/.exec(key);
  if (block) {
    const i = levelIndex(block[1], layout);
    const j = parseIndex(block[2]);
    if (i === undefined || j === undefined) return undefined;
    const b = layout.numLevels - 1 - i;
    return mapped(prefixed(`up_blocks.${b}.resnets.${j}`, videoResnet(block[3], false)));
  }
  const up = /^up\.(\d+)\.upsample\.conv\.(.+)$/.exec(key);
  if (up) {
    const i = levelIndex(up[1], layout);
    if (i === undefined || i === 0) return undefined;
    return mapped(`up_blocks.${layout.numLevels - 1 - i}.upsamplers.0.conv.${up[2]}`);
  }
  return undefined;
}

/** sgm VideoDecoder key (relative) of a diffusers key relative to `decoder.`. */
export function vaeDecoderKeyFromDiffusers(key: string, layout: VaeKeyLayout): VaeKeyMapping | undefined {
  const fixed = renameLeading(key, DECODER_FIXED, true);
  if (fixed !== undefined) return mapped(fixed);
  const mid = /^mid_block\.(.+)$/.exec(key);
  if (mid) return prefixedMapping('mid', midFromDiffusers(mid[1], videoResnet));
  const block = /^up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(key);
  if (block) {
    const b = levelIndex(block[1], layout);
    const j = parseIndex(block[2]);
    if (b === undefined || j === undefined) return undefined;
    const i = layout.numLevels - 1 - b;
    return mapped(prefixed(`up.${i}.block.${j}`, videoResnet(block[3], true)));
  }
  const up = /^up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/.exec(key);
  if (up) {
    const b = levelIndex(up[1], layout);
    if (b === undefined || b === layout.numLevels - 1) return undefined;
    return mapped(`up.${layout.numLevels - 1 - b}.upsample.conv.${up[2]}`);
  }
  return undefined;
}

function levelIndex(s: string, layout: VaeKeyLayout): number | undefined {
  const i = parseIndex(s);
  return i !== undefined && i < layout.numLevels ? i : undefined;
}

function prefixed(prefix: string, rest: string | undefined): string | undefined {
  return rest === undefined ? undefined : `${prefix}.${rest}`;
}

function prefixedMapping(prefix: string, m: VaeKeyMapping | undefined): VaeKeyMapping | undefined {
  return m === undefined ? undefined : { key: `${prefix}.${m.key}`, transform: m.transform };
}

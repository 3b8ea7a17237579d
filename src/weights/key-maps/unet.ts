/**
 * VideoUNet key rules: sgm `model.diffusion_model.*` (`sgm/modules/diffusionmodules/video_model.py::VideoUNet`) ⇄
 * diffusers `UNetSpatioTemporalConditionModel` (`unet/diffusion_pytorch_model.safetensors`), as in diffusers'
 * `loaders/conversion/svd.py`. Keys on both sides are relative (no `model.diffusion_model.` / `unet/` prefix).
 *
 * The rules are index arithmetic over the block layout (res blocks per level, which levels have attention), so they
 * hold for any VideoUNet configuration, not only the released one:
 * - `input_blocks.0.0` is `conv_in`; then each level `b` has `n[b]` blocks (`.0` VideoResBlock, `.1`
 *   SpatialVideoTransformer when the level has attention) followed, except at the last level, by a downsampler
 *   (`.0.op`) → `down_blocks.b.{resnets,attentions}.l`, `down_blocks.b.downsamplers.0.conv`.
 * - `middle_block.{0,1,2}` → `mid_block.resnets.0`, `mid_block.attentions.0`, `mid_block.resnets.1`.
 * - `output_blocks` run from the deepest level up, `n[level] + 1` blocks each; the last block of every level but
 *   level 0 ends in an upsampler (`.1.conv`, or `.2.conv` after an attention) → `up_blocks.b.upsamplers.0.conv`.
 */
import { parseIndex, type RenamePair, renameLeading } from './rename.ts';

/** The block structure the rules need (derive it from the model config). */
export interface UNetKeyLayout {
  /** Res blocks per level (sgm `num_res_blocks`, diffusers `layers_per_block`), one entry per level. */
  readonly numResBlocks: readonly number[];
  /** Whether each level has a SpatialVideoTransformer after each res block (sgm `attention_resolutions`). */
  readonly attention: readonly boolean[];
}

/** sgm ResBlock sub-modules → diffusers `spatial_res_block` / `temporal_res_block` names. */
const RESNET_MODULES: readonly RenamePair[] = [
  ['in_layers.0', 'norm1'],
  ['in_layers.2', 'conv1'],
  ['emb_layers.1', 'time_emb_proj'],
  ['out_layers.0', 'norm2'],
  ['out_layers.3', 'conv2'],
];
const SPATIAL_RESNET: readonly RenamePair[] = [
  ...RESNET_MODULES.map(([a, b]): RenamePair => [a, `spatial_res_block.${b}`]),
  ['skip_connection', 'spatial_res_block.conv_shortcut'],
  ['time_mixer', 'time_mixer'],
];
const TEMPORAL_RESNET: readonly RenamePair[] = RESNET_MODULES.map(
  ([a, b]): RenamePair => [`time_stack.${a}`, `temporal_res_block.${b}`],
);
const RESNET: readonly RenamePair[] = [...TEMPORAL_RESNET, ...SPATIAL_RESNET];

/** SpatialVideoTransformer modules; names not listed are kept (`norm`, `proj_in`, `transformer_blocks`, ...). */
const ATTENTION_RENAMED: readonly RenamePair[] = [
  ['time_pos_embed.0', 'time_pos_embed.linear_1'],
  ['time_pos_embed.2', 'time_pos_embed.linear_2'],
];
const ATTENTION_KEPT = ['norm', 'proj_in', 'proj_out', 'transformer_blocks', 'time_mixer'];

const TOP_LEVEL: readonly RenamePair[] = [
  ['time_embed.0', 'time_embedding.linear_1'],
  ['time_embed.2', 'time_embedding.linear_2'],
  ['label_emb.0.0', 'add_embedding.linear_1'],
  ['label_emb.0.2', 'add_embedding.linear_2'],
  ['input_blocks.0.0', 'conv_in'],
  ['out.0', 'conv_norm_out'],
  ['out.2', 'conv_out'],
];

function attentionToDiffusers(rest: string): string | undefined {
  const t = /^time_stack\.(\d+)\.(.+)$/.exec(rest);
  if (t) return parseIndex(t[1]) === undefined ? undefined : `temporal_transformer_blocks.${t[1]}.${t[2]}`;
  return renameLeading(rest, ATTENTION_RENAMED) ?? (keepsName(rest) ? rest : undefined);
}

function attentionFromDiffusers(rest: string): string | undefined {
  const t = /^temporal_transformer_blocks\.(\d+)\.(.+)$/.exec(rest);
  if (t) return parseIndex(t[1]) === undefined ? undefined : `time_stack.${t[1]}.${t[2]}`;
  return renameLeading(rest, ATTENTION_RENAMED, true) ?? (keepsName(rest) ? rest : undefined);
}

function keepsName(rest: string): boolean {
  return ATTENTION_KEPT.some((m) => rest.startsWith(`${m}.`));
}

/** Index of the first `input_blocks` entry of each level (after conv_in); each level spans n + 1 (or n at the end). */
function inputStarts(layout: UNetKeyLayout): number[] {
  const starts: number[] = [];
  let at = 1;
  for (const n of layout.numResBlocks) {
    starts.push(at);
    at += n + 1;
  }
  return starts;
}

/** Index of the first `output_blocks` entry of each diffusers up block (up block b = level L-1-b). */
function outputStarts(layout: UNetKeyLayout): number[] {
  const levels = layout.numResBlocks.length;
  const starts: number[] = [];
  let at = 0;
  for (let b = 0; b < levels; b++) {
    starts.push(at);
    at += layout.numResBlocks[levels - 1 - b] + 1;
  }
  return starts;
}

/** The (block, index in block) holding flat index `i`, given each block's start and size. */
function locate(i: number, starts: readonly number[], sizes: readonly number[]): [number, number] | undefined {
  for (let b = 0; b < starts.length; b++) {
    if (i >= starts[b] && i < starts[b] + sizes[b]) return [b, i - starts[b]];
  }
  return undefined;
}

/** The diffusers key of an sgm VideoUNet key (relative), or undefined when no rule applies. */
export function unetKeyToDiffusers(key: string, layout: UNetKeyLayout): string | undefined {
  const top = renameLeading(key, TOP_LEVEL);
  if (top !== undefined) return top;
  const levels = layout.numResBlocks.length;

  const input = /^input_blocks\.(\d+)\.(\d+)\.(.+)$/.exec(key);
  if (input) {
    const i = parseIndex(input[1]);
    const sub = parseIndex(input[2]);
    if (i === undefined || sub === undefined || i === 0) return undefined;
    const sizes = layout.numResBlocks.map((n, b) => (b < levels - 1 ? n + 1 : n));
    const at = locate(i, inputStarts(layout), sizes);
    if (!at) return undefined;
    const [b, l] = at;
    const rest = input[3];
    if (l === layout.numResBlocks[b]) {
      const op = /^op\.(.+)$/.exec(rest);
      return sub === 0 && op ? `down_blocks.${b}.downsamplers.0.conv.${op[1]}` : undefined;
    }
    return blockToDiffusers(`down_blocks.${b}`, l, sub, rest, layout.attention[b]);
  }

  const middle = /^middle_block\.([012])\.(.+)$/.exec(key);
  if (middle) {
    const rest = middle[2];
    if (middle[1] === '1') return prefixed('mid_block.attentions.0', attentionToDiffusers(rest));
    return prefixed(`mid_block.resnets.${middle[1] === '0' ? 0 : 1}`, renameLeading(rest, RESNET));
  }

  const output = /^output_blocks\.(\d+)\.(\d+)\.(.+)$/.exec(key);
  if (output) {
    const i = parseIndex(output[1]);
    const sub = parseIndex(output[2]);
    if (i === undefined || sub === undefined) return undefined;
    const sizes = layout.numResBlocks.map((_, b) => layout.numResBlocks[levels - 1 - b] + 1);
    const at = locate(i, outputStarts(layout), sizes);
    if (!at) return undefined;
    const [b, l] = at;
    const level = levels - 1 - b;
    const rest = output[3];
    const hasAttention = layout.attention[level];
    const upsamplerSub = hasAttention ? 2 : 1;
    if (level > 0 && l === layout.numResBlocks[level] && sub === upsamplerSub) {
      const conv = /^conv\.(.+)$/.exec(rest);
      return conv ? `up_blocks.${b}.upsamplers.0.conv.${conv[1]}` : undefined;
    }
    return blockToDiffusers(`up_blocks.${b}`, l, sub, rest, hasAttention);
  }
  return undefined;
}

function blockToDiffusers(
  block: string,
  l: number,
  sub: number,
  rest: string,
  hasAttention: boolean,
): string | undefined {
  if (sub === 0) return prefixed(`${block}.resnets.${l}`, renameLeading(rest, RESNET));
  if (sub === 1 && hasAttention) return prefixed(`${block}.attentions.${l}`, attentionToDiffusers(rest));
  return undefined;
}

/** The sgm VideoUNet key (relative) of a diffusers UNet key, or undefined when no rule applies. */
export function unetKeyFromDiffusers(key: string, layout: UNetKeyLayout): string | undefined {
  const top = renameLeading(key, TOP_LEVEL, true);
  if (top !== undefined) return top;
  const levels = layout.numResBlocks.length;

  const down = /^down_blocks\.(\d+)\.(resnets|attentions|downsamplers)\.(\d+)\.(.+)$/.exec(key);
  if (down) {
    const b = parseIndex(down[1]);
    const l = parseIndex(down[3]);
    if (b === undefined || l === undefined || b >= levels) return undefined;
    const start = inputStarts(layout)[b];
    const n = layout.numResBlocks[b];
    const rest = down[4];
    if (down[2] === 'downsamplers') {
      const conv = /^conv\.(.+)$/.exec(rest);
      return l === 0 && b < levels - 1 && conv ? `input_blocks.${start + n}.0.op.${conv[1]}` : undefined;
    }
    if (l >= n) return undefined;
    return blockFromDiffusers(`input_blocks.${start + l}`, down[2], rest, layout.attention[b]);
  }

  const mid = /^mid_block\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(key);
  if (mid) {
    const [, kind, index, rest] = mid;
    if (kind === 'attentions') {
      return index === '0' ? prefixed('middle_block.1', attentionFromDiffusers(rest)) : undefined;
    }
    if (index !== '0' && index !== '1') return undefined;
    return prefixed(`middle_block.${index === '0' ? 0 : 2}`, renameLeading(rest, RESNET, true));
  }

  const up = /^up_blocks\.(\d+)\.(resnets|attentions|upsamplers)\.(\d+)\.(.+)$/.exec(key);
  if (up) {
    const b = parseIndex(up[1]);
    const l = parseIndex(up[3]);
    if (b === undefined || l === undefined || b >= levels) return undefined;
    const level = levels - 1 - b;
    const start = outputStarts(layout)[b];
    const n = layout.numResBlocks[level];
    const hasAttention = layout.attention[level];
    const rest = up[4];
    if (up[2] === 'upsamplers') {
      const conv = /^conv\.(.+)$/.exec(rest);
      if (l !== 0 || level === 0 || !conv) return undefined;
      return `output_blocks.${start + n}.${hasAttention ? 2 : 1}.conv.${conv[1]}`;
    }
    if (l > n) return undefined;
    return blockFromDiffusers(`output_blocks.${start + l}`, up[2], rest, hasAttention);
  }
  return undefined;
}

function blockFromDiffusers(block: string, kind: string, rest: string, hasAttention: boolean): string | undefined {
  if (kind === 'resnets') return prefixed(`${block}.0`, renameLeading(rest, RESNET, true));
  if (kind === 'attentions' && hasAttention) return prefixed(`${block}.1`, attentionFromDiffusers(rest));
  return undefined;
}

function prefixed(prefix: string, rest: string | undefined): string | undefined {
  return rest === undefined ? undefined : `${prefix}.${rest}`;
}

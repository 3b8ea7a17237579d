/**
 * CLIP image tower key rules: open_clip `VisionTransformer` (sgm `conditioner.embedders.0.open_clip.model.visual.*`)
 * ⇄ transformers `CLIPVisionModelWithProjection` (`image_encoder/model.safetensors`), by the usual open_clip →
 * transformers convention (diffusers/ComfyUI converters):
 * - `conv1` → `vision_model.embeddings.patch_embedding`, `class_embedding` → `…embeddings.class_embedding`,
 *   `positional_embedding` → `…embeddings.position_embedding.weight`, `ln_pre` / `ln_post` → `pre_layrnorm` /
 *   `post_layernorm` (sic);
 * - `transformer.resblocks.i.{ln_1, ln_2, attn.out_proj, mlp.c_fc, mlp.c_proj}` →
 *   `vision_model.encoder.layers.i.{layer_norm1, layer_norm2, self_attn.out_proj, mlp.fc1, mlp.fc2}`;
 * - the packed `attn.in_proj_{weight,bias}` `[3W, …]` is split in q, k, v order → `self_attn.{q,k,v}_proj`;
 * - `proj` `[W, E]` → `visual_projection.weight` = projᵀ `[E, W]`.
 * sgm keys are relative to the `visual` module; HF keys are the full keys of the image encoder file.
 */
import { parseIndex, type RenamePair, renameLeading } from './rename.ts';
import { COPY, SPLIT_QKV, TRANSPOSE } from './transforms.ts';
import type { SourceMapping, TargetMapping } from './types.ts';

const FIXED: readonly RenamePair[] = [
  ['conv1', 'vision_model.embeddings.patch_embedding'],
  ['ln_pre', 'vision_model.pre_layrnorm'],
  ['ln_post', 'vision_model.post_layernorm'],
];

/** Parameters that are tensors of the module itself (no `.weight` suffix in open_clip). */
const DIRECT: readonly (readonly [string, string])[] = [
  ['class_embedding', 'vision_model.embeddings.class_embedding'],
  ['positional_embedding', 'vision_model.embeddings.position_embedding.weight'],
];

const LAYER: readonly RenamePair[] = [
  ['ln_1', 'layer_norm1'],
  ['ln_2', 'layer_norm2'],
  ['attn.out_proj', 'self_attn.out_proj'],
  ['mlp.c_fc', 'mlp.fc1'],
  ['mlp.c_proj', 'mlp.fc2'],
];

const PROJECTIONS = ['q_proj', 'k_proj', 'v_proj'];

/**
 * transformers keys that hold no parameter of the model and have no sgm counterpart: the `position_ids` buffer
 * that transformers < 4.31 saved with the weights. A reader skips them.
 */
export const CLIP_DERIVED_HF_KEYS: readonly string[] = ['vision_model.embeddings.position_ids'];

/** HF key(s) and transform for an open_clip visual key (relative to `visual.`), or undefined when no rule applies. */
export function clipKeyToHf(key: string): TargetMapping | undefined {
  for (const [sgm, hf] of DIRECT) if (key === sgm) return { keys: [hf], transform: COPY };
  if (key === 'proj') return { keys: ['visual_projection.weight'], transform: TRANSPOSE };
  const fixed = renameLeading(key, FIXED);
  if (fixed !== undefined) return { keys: [fixed], transform: COPY };
  const layer = /^transformer\.resblocks\.(\d+)\.(.+)$/.exec(key);
  if (!layer || parseIndex(layer[1]) === undefined) return undefined;
  const prefix = `vision_model.encoder.layers.${layer[1]}`;
  const packed = /^attn\.in_proj_(weight|bias)$/.exec(layer[2]);
  if (packed) {
    return { keys: PROJECTIONS.map((p) => `${prefix}.self_attn.${p}.${packed[1]}`), transform: SPLIT_QKV };
  }
  const inner = renameLeading(layer[2], LAYER);
  return inner === undefined ? undefined : { keys: [`${prefix}.${inner}`], transform: COPY };
}

/** The open_clip visual key (relative), part and transform for an HF image-encoder key, or undefined. */
export function clipKeyFromHf(key: string): SourceMapping | undefined {
  for (const [sgm, hf] of DIRECT) if (key === hf) return { key: sgm, part: 0, transform: COPY };
  if (key === 'visual_projection.weight') return { key: 'proj', part: 0, transform: TRANSPOSE };
  const fixed = renameLeading(key, FIXED, true);
  if (fixed !== undefined) return { key: fixed, part: 0, transform: COPY };
  const layer = /^vision_model\.encoder\.layers\.(\d+)\.(.+)$/.exec(key);
  if (!layer || parseIndex(layer[1]) === undefined) return undefined;
  const prefix = `transformer.resblocks.${layer[1]}`;
  const proj = /^self_attn\.([qkv])_proj\.(weight|bias)$/.exec(layer[2]);
  if (proj) {
    return { key: `${prefix}.attn.in_proj_${proj[2]}`, part: 'qkv'.indexOf(proj[1]), transform: SPLIT_QKV };
  }
  const inner = renameLeading(layer[2], LAYER, true);
  return inner === undefined ? undefined : { key: `${prefix}.${inner}`, part: 0, transform: COPY };
}

const TEXT_FIXED: readonly RenamePair[] = [['ln_final', 'text_model.final_layer_norm']];
const TEXT_DIRECT: readonly (readonly [string, string])[] = [
  ['token_embedding.weight', 'text_model.embeddings.token_embedding.weight'],
  ['positional_embedding', 'text_model.embeddings.position_embedding.weight'],
];

/**
 * transformers text-encoder keys without an open_clip counterpart (buffers, the CLIP logit scale): skipped by readers.
 */
export const CLIP_TEXT_DERIVED_HF_KEYS: readonly string[] = ['text_model.embeddings.position_ids', 'logit_scale'];

/**
 * The open_clip text key (relative to the text tower: `token_embedding.weight`, `positional_embedding`,
 * `transformer.resblocks.i.*`, `ln_final.*`, `text_projection`), part and transform for a transformers
 * `CLIPTextModelWithProjection` / `CLIPModel` text key, or undefined. The same conventions as the image tower:
 * q/k/v packed into `attn.in_proj_*`, `text_projection.weight` `[E, W]` = open_clip `text_projection`ᵀ.
 */
export function clipTextKeyFromHf(key: string): SourceMapping | undefined {
  for (const [oc, hf] of TEXT_DIRECT) if (key === hf) return { key: oc, part: 0, transform: COPY };
  if (key === 'text_projection.weight') return { key: 'text_projection', part: 0, transform: TRANSPOSE };
  const fixed = renameLeading(key, TEXT_FIXED, true);
  if (fixed !== undefined) return { key: fixed, part: 0, transform: COPY };
  const layer = /^text_model\.encoder\.layers\.(\d+)\.(.+)$/.exec(key);
  if (!layer || parseIndex(layer[1]) === undefined) return undefined;
  const prefix = `transformer.resblocks.${layer[1]}`;
  const proj = /^self_attn\.([qkv])_proj\.(weight|bias)$/.exec(layer[2]);
  if (proj) {
    return { key: `${prefix}.attn.in_proj_${proj[2]}`, part: 'qkv'.indexOf(proj[1]), transform: SPLIT_QKV };
  }
  const inner = renameLeading(layer[2], LAYER, true);
  return inner === undefined ? undefined : { key: `${prefix}.${inner}`, part: 0, transform: COPY };
}

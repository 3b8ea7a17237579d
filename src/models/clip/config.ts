/**
 * Configuration of the OpenCLIP image tower (open_clip `VisionTransformer`, the `visual` of
 * sgm `FrozenOpenCLIPImageEmbedder`), plus the converter from the reference's own description of it: the `clip_arch`
 * object of `golden/pipeline-tiny/config.json` (open_clip model-config names: `embed_dim`, `vision.{image_size,
 * patch_size, width, layers, heads, mlp_ratio}`; open_clip's `vision_cfg` / `head_width` spelling is accepted too).
 */

/** Where the tower's weights live in the sgm single-file checkpoint. */
export const CLIP_VISUAL_PREFIX = 'conditioner.embedders.0.open_clip.model.visual';

export interface ClipVisionConfig {
  /** Side of the square input image (open_clip `image_size`). */
  imageSize: number;
  /** Side of a square patch = conv1 kernel and stride (`patch_size`). */
  patchSize: number;
  /** Transformer width W (`width`). */
  width: number;
  /** Number of residual attention blocks (`layers`). */
  layers: number;
  /** Attention heads (`heads`, or width / head_width). */
  heads: number;
  /** MLP hidden width = int(width · mlpRatio) (`mlp_ratio`). */
  mlpRatio: number;
  /** Width of the projected embedding, columns of `proj` (`embed_dim`). */
  outputDim: number;
  /** eps of every LayerNorm (torch default 1e-5). */
  layerNormEps: number;
  /** The MLP activation; absent: exact (erf) GELU. OpenAI's CLIP models use QuickGELU, x·σ(1.702x). */
  activation?: ClipActivation;
}

/** open_clip `nn.GELU` (exact) or `QuickGELU` (`quick_gelu: true`; transformers `hidden_act: "quick_gelu"`). */
export type ClipActivation = 'gelu' | 'quick_gelu';

/** open_clip `ViT-H-14` (laion2b_s32b_b79k), the SVD image tower. */
export const VIT_H_14: ClipVisionConfig = Object.freeze({
  imageSize: 224,
  patchSize: 14,
  width: 1280,
  layers: 32,
  heads: 16,
  mlpRatio: 4,
  outputDim: 1024,
  layerNormEps: 1e-5,
});

/** The vision part of an open_clip architecture description. */
export interface OpenClipVisionArch {
  image_size: number;
  patch_size: number;
  width: number;
  layers: number;
  heads?: number;
  head_width?: number;
  mlp_ratio?: number;
}

/** An open_clip architecture description: `clip_arch` of pipeline-tiny/config.json, or an open_clip model config. */
export interface OpenClipArch {
  name?: string;
  embed_dim: number;
  vision?: OpenClipVisionArch;
  vision_cfg?: OpenClipVisionArch;
}

/** Converts the reference's parameter names to a ClipVisionConfig (open_clip defaults: head_width 64, mlp_ratio 4). */
export function clipVisionConfigFromArch(arch: OpenClipArch): ClipVisionConfig {
  const v = arch.vision ?? arch.vision_cfg;
  if (!v) throw new Error(`clip arch ${arch.name ?? ''}: no "vision" (or "vision_cfg") section`);
  const heads = v.heads ?? v.width / (v.head_width ?? 64);
  const cfg: ClipVisionConfig = {
    imageSize: v.image_size,
    patchSize: v.patch_size,
    width: v.width,
    layers: v.layers,
    heads,
    mlpRatio: v.mlp_ratio ?? 4,
    outputDim: arch.embed_dim,
    layerNormEps: 1e-5,
  };
  validateClipVisionConfig(cfg);
  return cfg;
}

/** Throws when the dimensions cannot describe an open_clip VisionTransformer. */
export function validateClipVisionConfig(cfg: ClipVisionConfig): void {
  const ints = ['imageSize', 'patchSize', 'width', 'layers', 'heads', 'outputDim'] as const;
  for (const k of ints) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new Error(`clip config: ${k} must be a positive integer`);
  }
  if (cfg.imageSize % cfg.patchSize !== 0) {
    throw new Error(`clip config: image size ${cfg.imageSize} is not a multiple of patch size ${cfg.patchSize}`);
  }
  if (cfg.width % cfg.heads !== 0)
    throw new Error(`clip config: width ${cfg.width} not divisible by ${cfg.heads} heads`);
  if (!(cfg.mlpRatio > 0) || !(cfg.layerNormEps > 0)) throw new Error('clip config: mlpRatio and eps must be > 0');
}

/** Patches per side (open_clip `grid_size`). */
export function clipGridSize(cfg: ClipVisionConfig): number {
  return cfg.imageSize / cfg.patchSize;
}

/** Tokens per image: grid² patches + the class token (257 for ViT-H-14). */
export function clipTokenCount(cfg: ClipVisionConfig): number {
  return clipGridSize(cfg) ** 2 + 1;
}

/** MLP hidden width, open_clip `int(width * mlp_ratio)`. */
export function clipMlpWidth(cfg: ClipVisionConfig): number {
  return Math.trunc(cfg.width * cfg.mlpRatio);
}

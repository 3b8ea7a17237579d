/**
 * open_clip `transformer.py::VisionTransformer` (the `visual` tower of the CLIP model held by sgm
 * `encoders/modules.py::FrozenOpenCLIPImageEmbedder`), inference path with `global_average_pool False`,
 * `attn_pool None`, no patch dropout and no layer scale, exactly as ViT-H-14:
 *
 *   conv1 (patch conv, no bias) → [class token; patches] + positional_embedding → ln_pre
 *   → transformer.resblocks.N (pre-LN: x + attn(ln_1 x); x + mlp(ln_2 x)) → ln_post(token 0) → @ proj
 *
 * The result is the unnormalised embedding [B, outputDim]. Params nesting mirrors open_clip's state-dict keys, so
 * `p` = `conditioner.embedders.0.open_clip.model.visual` reads the sgm checkpoint with no rename table.
 */
import type { SymTensor } from '../../graph/builder.ts';
import { ShapeError } from '../../graph/errors.ts';
import * as op from '../../graph/ops/index.ts';
import { layerNorm, linear } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import { formatShape } from '../../tensor/shape.ts';
import {
  type ClipActivation,
  type ClipVisionConfig,
  clipGridSize,
  clipMlpWidth,
  clipTokenCount,
  validateClipVisionConfig,
} from './config.ts';

/**
 * torch `nn.MultiheadAttention(W, heads)` self-attention as open_clip calls it (`attn(x, x, x, need_weights=False)`):
 * packed `in_proj_weight` [3W, W] / `in_proj_bias` [3W] (q, k, v in that order), softmax(q·kᵀ/√d)·v per head,
 * `out_proj` Linear(W, W). x [B, S, W] → [B, S, W].
 */
export function multiheadSelfAttention(p: Params, x: SymTensor, width: number, heads: number): SymTensor {
  const qkv = op.linear(x, p.get('in_proj_weight', [3 * width, width]), p.get('in_proj_bias', [3 * width])); // [B, S, 3W]
  const [q, k, v] = op.split(qkv, 3, -1); // 3 × [B, S, W] = [B, S, (heads d)]
  const a = op.attention(q, k, v, heads, 1 / Math.sqrt(width / heads)); // [B, S, W]
  return linear(p.pp('out_proj'), a, width, width);
}

/** open_clip `QuickGELU`: x · sigmoid(1.702 x). */
export function quickGelu(x: SymTensor): SymTensor {
  return op.mul(x, op.sigmoid(op.mul(x, 1.702)));
}

/**
 * open_clip `Mlp`: `c_fc` Linear(W, hidden) → GELU (exact erf; or QuickGELU) → `c_proj` Linear(hidden, W).
 */
export function clipMlp(
  p: Params,
  x: SymTensor,
  width: number,
  hidden: number,
  activation: ClipActivation = 'gelu',
): SymTensor {
  const a = linear(p.pp('c_fc'), x, width, hidden);
  const h = activation === 'quick_gelu' ? quickGelu(a) : op.gelu(a);
  return linear(p.pp('c_proj'), h, hidden, width);
}

/** open_clip `ResidualAttentionBlock` (pre-LN, no layer scale): x + attn(ln_1(x)), then + mlp(ln_2(x)). */
export function residualAttentionBlock(p: Params, x: SymTensor, cfg: ClipVisionConfig): SymTensor {
  const eps = cfg.layerNormEps;
  x = op.add(x, multiheadSelfAttention(p.pp('attn'), layerNorm(p.pp('ln_1'), x, cfg.width, eps), cfg.width, cfg.heads));
  const h = layerNorm(p.pp('ln_2'), x, cfg.width, eps);
  return op.add(x, clipMlp(p.pp('mlp'), h, cfg.width, clipMlpWidth(cfg), cfg.activation));
}

/**
 * The visual tower: image x [B, 3, imageSize, imageSize] (already CLIP-preprocessed) → embedding [B, outputDim].
 * `p` is the tower's own prefix (`conditioner.embedders.0.open_clip.model.visual` in the sgm checkpoint).
 */
export function clipVisionTransformer(p: Params, x: SymTensor, cfg: ClipVisionConfig): SymTensor {
  validateClipVisionConfig(cfg);
  const { width: w, imageSize: s, patchSize: ps, layers } = cfg;
  if (x.rank !== 4 || x.shape[1] !== 3 || x.shape[2] !== s || x.shape[3] !== s) {
    throw new ShapeError('clipVisionTransformer', `expects [B, 3, ${s}, ${s}], got ${formatShape(x.shape)}`);
  }
  const b = x.shape[0];
  const grid = clipGridSize(cfg);
  const tokens = clipTokenCount(cfg);

  // Parameters owned directly by VisionTransformer.
  const classEmbedding = p.get('class_embedding', [w]);
  const positional = p.get('positional_embedding', [tokens, w]);
  const proj = p.get('proj', [w, cfg.outputDim]);

  // conv1: Conv2d(3, W, kernel=stride=patch, bias=False).
  const weight = p.pp('conv1').get('weight', [w, 3, ps, ps]);
  let h = op.conv(x, weight, undefined, { stride: ps }); // [B, W, grid, grid]
  h = op.reshape(h, [b, w, grid * grid]); // [B, W, grid, grid] -> [B, W, grid²]
  h = op.transpose(h, [0, 2, 1]); // [B, W, grid²] -> [B, grid², W]

  // cat([class_embedding + zeros(B, 1, W), x], dim=1) + positional_embedding.
  const cls = op.expand(op.reshape(classEmbedding, [1, 1, w]), [b, 1, w]); // [W] -> [B, 1, W]
  h = op.add(op.concat([cls, h], 1), positional); // [B, tokens, W]
  h = layerNorm(p.pp('ln_pre'), h, w, cfg.layerNormEps);

  // open_clip permutes to [tokens, B, W] for nn.MultiheadAttention; batch-first here is the same computation.
  const blocks = p.pp('transformer').pp('resblocks');
  for (let i = 0; i < layers; i++) h = residualAttentionBlock(blocks.pp(i), h, cfg);

  // Class-token pooling ('tok'), ln_post, projection.
  const pooled = op.reshape(op.narrow(h, 1, 0, 1), [b, w]); // [B, 1, W] -> [B, W]
  return op.matmul(layerNorm(p.pp('ln_post'), pooled, w, cfg.layerNormEps), proj); // [B, outputDim]
}

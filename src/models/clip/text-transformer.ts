/**
 * The CLIP text tower: open_clip `CLIP.encode_text` / `TextTransformer` (transformers `CLIPTextModelWithProjection`
 * computes the same), inference path with the defaults every CLIP checkpoint uses (causal mask, no class embedding,
 * `pool_type 'argmax'`, `proj_type 'linear'` without bias, no layer scale):
 *
 *   token_embedding(ids) + positional_embedding → transformer.resblocks.N (pre-LN: x + attn(ln_1 x, causal mask);
 *   x + mlp(ln_2 x)) → ln_final → the features at the EOT token (argmax of the ids) → @ text_projection
 *
 * The result is the unnormalised text embedding [B, outputDim]. Params nesting mirrors open_clip's `CLIP` state-dict
 * keys (`token_embedding.weight`, `positional_embedding`, `transformer.resblocks.i.*`, `ln_final.*`,
 * `text_projection`); a transformers checkpoint is renamed to them when it is read (clip-checkpoint.ts).
 *
 * The EOT position is an input (`pool`: the flat row index b·context + argmax(ids[b]), computed on the host from the
 * ids, see {@link clipTextPoolIndex}), so the graph gathers one row per text. ln_final is applied to that row only:
 * LayerNorm is per token, so this is the same number as normalising every token first.
 */
import type { SymTensor } from '../../graph/builder.ts';
import { ShapeError } from '../../graph/errors.ts';
import * as op from '../../graph/ops/index.ts';
import { layerNorm, linear } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import { formatShape } from '../../tensor/shape.ts';
import type { ClipActivation } from './config.ts';
import { eotIndex } from './tokenizer.ts';
import { clipMlp } from './vision-transformer.ts';

export interface ClipTextConfig {
  /** Tokens per text (open_clip `context_length`, transformers `max_position_embeddings`): 77. */
  contextLength: number;
  /** Rows of the token embedding (`vocab_size`): 49408. */
  vocabSize: number;
  /** Transformer width W (`width`, `hidden_size`). */
  width: number;
  /** Attention heads (`heads`, `num_attention_heads`). */
  heads: number;
  /** Residual attention blocks (`layers`, `num_hidden_layers`). */
  layers: number;
  /** MLP hidden width = int(width · mlpRatio) (`mlp_ratio`; `intermediate_size` / `hidden_size`). */
  mlpRatio: number;
  /** Columns of `text_projection` (`embed_dim`, `projection_dim`). */
  outputDim: number;
  layerNormEps: number;
  /** Absent: exact GELU. */
  activation?: ClipActivation;
}

/** Throws when the dimensions cannot describe an open_clip TextTransformer. */
export function validateClipTextConfig(cfg: ClipTextConfig): void {
  for (const k of ['contextLength', 'vocabSize', 'width', 'heads', 'layers', 'outputDim'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new Error(`clip text config: ${k} must be a positive integer`);
  }
  if (cfg.width % cfg.heads !== 0) {
    throw new Error(`clip text config: width ${cfg.width} not divisible by ${cfg.heads} heads`);
  }
  if (!(cfg.mlpRatio > 0) || !(cfg.layerNormEps > 0)) throw new Error('clip text config: mlpRatio and eps must be > 0');
}

/**
 * torch `nn.MultiheadAttention` self-attention with open_clip's additive causal mask (−inf above the diagonal):
 * packed `in_proj_weight` [3W, W] / `in_proj_bias`, softmax(q·kᵀ/√d + mask)·v per head, `out_proj`.
 */
export function causalSelfAttention(p: Params, x: SymTensor, width: number, heads: number): SymTensor {
  const [b, s] = x.shape;
  const d = width / heads;
  const qkv = op.linear(x, p.get('in_proj_weight', [3 * width, width]), p.get('in_proj_bias', [3 * width]));
  const [q, k, v] = op.split(qkv, 3, -1); // 3 × [B, S, W]
  const perHead = (t: SymTensor) => op.transpose(op.reshape(t, [b, s, heads, d]), [0, 2, 1, 3]); // [B, H, S, d]
  const mask = new Float32Array(s * s);
  for (let i = 0; i < s; i++) for (let j = i + 1; j < s; j++) mask[i * s + j] = Number.NEGATIVE_INFINITY;
  const scores = op.add(
    op.matmul(op.mul(perHead(q), 1 / Math.sqrt(d)), op.transpose(perHead(k), [0, 1, 3, 2])), // [B, H, S, S]
    x.builder.constant(new HostTensor('float32', [s, s], mask)),
  );
  const a = op.matmul(op.softmax(scores, -1), perHead(v)); // [B, H, S, d]
  const merged = op.reshape(op.transpose(a, [0, 2, 1, 3]), [b, s, width]); // [B, S, W]
  return linear(p.pp('out_proj'), merged, width, width);
}

/**
 * The text tower: ids [B, contextLength] (int64) and pool [B] (int64 flat EOT rows) → embedding [B, outputDim].
 * `p` is the prefix of the text parameters (the root of an open_clip `CLIP` state dict; `text` for `CustomTextCLIP`).
 */
export function clipTextTransformer(p: Params, ids: SymTensor, pool: SymTensor, cfg: ClipTextConfig): SymTensor {
  validateClipTextConfig(cfg);
  const { width: w, contextLength: n } = cfg;
  if (ids.rank !== 2 || ids.shape[1] !== n || ids.dtype !== 'int64') {
    throw new ShapeError(
      'clipTextTransformer',
      `expects int64 ids [B, ${n}], got ${ids.dtype} ${formatShape(ids.shape)}`,
    );
  }
  const b = ids.shape[0];
  if (pool.rank !== 1 || pool.shape[0] !== b) {
    throw new ShapeError('clipTextTransformer', `expects pool indices [${b}], got ${formatShape(pool.shape)}`);
  }
  let h = op.gather(p.pp('token_embedding').get('weight', [cfg.vocabSize, w]), ids, 0); // [B, n, W]
  h = op.add(h, p.get('positional_embedding', [n, w]));
  const blocks = p.pp('transformer').pp('resblocks');
  const hidden = Math.trunc(w * cfg.mlpRatio);
  for (let i = 0; i < cfg.layers; i++) {
    const blk = blocks.pp(i);
    h = op.add(h, causalSelfAttention(blk.pp('attn'), layerNorm(blk.pp('ln_1'), h, w, cfg.layerNormEps), w, cfg.heads));
    const m = layerNorm(blk.pp('ln_2'), h, w, cfg.layerNormEps);
    h = op.add(h, clipMlp(blk.pp('mlp'), m, w, hidden, cfg.activation));
  }
  const pooled = op.gather(op.reshape(h, [b * n, w]), pool, 0); // [B, W]: the EOT token of each text
  return op.matmul(
    layerNorm(p.pp('ln_final'), pooled, w, cfg.layerNormEps),
    p.get('text_projection', [w, cfg.outputDim]),
  );
}

/** The `pool` input for ids [B, n]: b·n + argmax(ids[b]) (open_clip `text_global_pool(…, 'argmax')`). */
export function clipTextPoolIndex(ids: HostTensor): HostTensor<'int64'> {
  const [b, n] = ids.shape;
  const data = ids.data as ArrayLike<number | bigint>;
  return HostTensor.int64(
    [b],
    Array.from({ length: b }, (_, i) => i * n + eotIndex(data, i * n, n)),
  );
}

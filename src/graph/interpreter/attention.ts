/**
 * Scaled dot-product multi-head attention with the 3-D input layout of ONNX Attention-23 (q_num_heads =
 * kv_num_heads, float additive mask, no causal flag, no KV cache) — the same as com.microsoft MultiHeadAttention with
 * unpacked q/k/v.
 */
import { broadcastIndexMap } from './elementwise.ts';
import { softmaxVector } from './reduce.ts';
import { type F64Tensor, f64 } from './tensor.ts';

export type AttentionOptions = {
  numHeads: number;
  /** Multiplies QKᵀ; default 1/√D. */
  scale?: number;
  /** Additive mask, broadcastable (numpy rules) to [B, H, Sq, Sk]; use −∞ to mask out. */
  mask?: F64Tensor;
};

/**
 * q [B, Sq, H·D], k [B, Sk, H·D], v [B, Sk, H·Dv] → [B, Sq, H·Dv]. Head h reads columns h·D..(h+1)·D of q and k and
 * h·Dv..(h+1)·Dv of v and writes those columns of the output:
 * out_h = softmax(scale · q_h k_hᵀ + mask[b, h]) v_h, the softmax over Sk. A fully masked row gives NaN.
 */
export function attention(q: F64Tensor, k: F64Tensor, v: F64Tensor, options: AttentionOptions): F64Tensor {
  const H = options.numHeads;
  if (q.shape.length !== 3 || k.shape.length !== 3 || v.shape.length !== 3) {
    throw new Error('attention: q, k, v must be 3-D [B, S, H·D]');
  }
  const [B, Sq, HD] = q.shape;
  const [Bk, Sk, HDk] = k.shape;
  const [Bv, Skv, HDv] = v.shape;
  if (Bk !== B || Bv !== B || Skv !== Sk || HDk !== HD) throw new Error('attention: q/k/v shapes disagree');
  if (!Number.isInteger(H) || H < 1 || HD % H !== 0 || HDv % H !== 0) {
    throw new Error(`attention: hidden sizes ${HD}, ${HDv} not divisible by ${H} heads`);
  }
  const D = HD / H;
  const Dv = HDv / H;
  const scale = options.scale ?? 1 / Math.sqrt(D);
  const maskShape = [B, H, Sq, Sk];
  const maskMap = options.mask ? broadcastIndexMap(options.mask.shape, maskShape) : undefined;
  const out = f64([B, Sq, HDv]);
  const logits = new Float64Array(Sk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < Sq; i++) {
        for (let j = 0; j < Sk; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++)
            dot += q.data[(b * Sq + i) * HD + h * D + d] * k.data[(b * Sk + j) * HD + h * D + d];
          let logit = scale * dot;
          if (options.mask && maskMap) logit += options.mask.data[maskMap[((b * H + h) * Sq + i) * Sk + j]];
          logits[j] = logit;
        }
        const p = softmaxVector(logits);
        for (let e = 0; e < Dv; e++) {
          let s = 0;
          for (let j = 0; j < Sk; j++) s += p[j] * v.data[(b * Sk + j) * HDv + h * Dv + e];
          out.data[(b * Sq + i) * HDv + h * Dv + e] = s;
        }
      }
    }
  }
  return out;
}

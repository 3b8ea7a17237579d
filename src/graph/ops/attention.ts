/**
 * Scaled dot-product attention over [B, S, H·D] tensors. The lowering is chosen by sequence length (DESIGN.md
 * decision 5): ONNX Attention-23 up to 1024 tokens (fastest for temporal and mid-size cases), and
 * com.microsoft.MultiHeadAttention above (flash-style on CPU: memory stays linear in sequence length).
 */
import { formatShape } from '../../tensor/shape.ts';
import type { SymTensor } from '../builder.ts';
import { ShapeError } from '../errors.ts';
import * as K from '../interpreter/index.ts';
import { registerOp } from '../op-registry.ts';
import { FLOAT_DTYPES, need, requireDType, requireRank } from './infer-utils.ts';

/** Sequences longer than this use com.microsoft.MultiHeadAttention. */
export const MHA_MIN_SEQUENCE = 1025;

registerOp({
  name: 'Attention',
  infer([qi, ki, vi], attrs) {
    const q = need('Attention', qi, 'q');
    const k = need('Attention', ki, 'k');
    const v = need('Attention', vi, 'v');
    for (const [t, what] of [
      [q, 'q'],
      [k, 'k'],
      [v, 'v'],
    ] as const) {
      requireRank('Attention', t, 3, what);
      requireDType('Attention', t, FLOAT_DTYPES, what);
    }
    const h = attrs.numHeads as number;
    const [b, sq, hd] = q.shape;
    const ok =
      k.shape[0] === b &&
      v.shape[0] === b &&
      k.shape[2] === hd &&
      k.shape[1] === v.shape[1] &&
      hd % h === 0 &&
      v.shape[2] % h === 0;
    if (!ok) {
      throw new ShapeError(
        'Attention',
        `q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)} do not fit ${h} heads`,
      );
    }
    return [{ shape: [b, sq, v.shape[2]], dtype: q.dtype }];
  },
  lower(ctx, [q, k, v], [out], attrs) {
    const h = attrs.numHeads as number;
    const scale = attrs.scale as number;
    const sq = ctx.infoOf(q).shape[1];
    const sk = ctx.infoOf(k).shape[1];
    if (Math.max(sq, sk) >= MHA_MIN_SEQUENCE) {
      ctx.node(
        'MultiHeadAttention',
        [q, k, v],
        [out],
        { num_heads: { kind: 'int', value: h }, scale: { kind: 'float', value: scale } },
        'com.microsoft',
      );
    } else {
      ctx.node('Attention', [q, k, v], [out], {
        q_num_heads: { kind: 'int', value: h },
        kv_num_heads: { kind: 'int', value: h },
        scale: { kind: 'float', value: scale },
      });
    }
  },
  interpret([q, k, v], attrs) {
    return [K.attention(q!, k!, v!, { numHeads: attrs.numHeads as number, scale: attrs.scale as number })];
  },
});

/**
 * softmax(q·kᵀ·scale)·v per head. q [B, Sq, H·D], k [B, Sk, H·D], v [B, Sk, H·Dv] → [B, Sq, H·Dv].
 * `scale` defaults to 1/√D (sgm `CrossAttention` / `MemoryEfficientCrossAttention`).
 */
export function attention(q: SymTensor, k: SymTensor, v: SymTensor, numHeads: number, scale?: number): SymTensor {
  const d = q.shape[2] / numHeads;
  return q.builder.emit('Attention', [q, k, v], { numHeads, scale: scale ?? 1 / Math.sqrt(d) })[0];
}

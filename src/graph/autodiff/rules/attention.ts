/** VJP rule of multi-head scaled dot-product Attention over [B, S, H·D] tensors. */
import type { SymTensor } from '../../builder.ts';
import * as op from '../../ops/index.ts';
import { transposeLast2 } from '../helpers.ts';
import { registerVjp } from '../vjp.ts';

/**
 * Per head, with the probabilities recomputed: P = softmax(s·Q·Kᵀ), O = P·V. Then V̄ = Pᵀ·Ō, dP = Ō·Vᵀ,
 * dS = P∘(dP − rowsum(dP∘P)), Q̄ = s·dS·K, K̄ = s·dSᵀ·Q. rowsum(dP∘P) = Σⱼ Pᵢⱼ·(Ōᵢ·Vⱼ) = Ōᵢ·Oᵢ is taken from the
 * forward output O (Sq×Dv work instead of Sq×Sk). Memory: the [B, H, Sq, Sk] probabilities are materialised.
 */
registerVjp('Attention', ({ inputs: [q, k, v], outputs: [o], grads: [g], needs, attrs }) => {
  const H = attrs.numHeads as number;
  const s = attrs.scale as number;
  const [B, Sq, HD] = q!.shape;
  const Sk = k!.shape[1];
  const D = HD / H;
  const Dv = v!.shape[2] / H;
  // [B, S, H·d] -> [B, S, H, d] -> [B, H, S, d]
  const heads = (t: SymTensor, S: number, d: number) => op.transpose(op.reshape(t, [B, S, H, d]), [0, 2, 1, 3]);
  // [B, H, S, d] -> [B, S, H, d] -> [B, S, H·d]
  const merge = (t: SymTensor, S: number, d: number) => op.reshape(op.transpose(t, [0, 2, 1, 3]), [B, S, H * d]);
  const qh = heads(q!, Sq, D);
  const kh = heads(k!, Sk, D);
  const gh = heads(g!, Sq, Dv);
  const p = op.softmax(op.matmul(op.mul(qh, s), transposeLast2(kh)), -1); // [B, H, Sq, Sk]
  const dv = needs[2] ? merge(op.matmul(transposeLast2(p), gh), Sk, Dv) : undefined;
  let dq: SymTensor | undefined;
  let dk: SymTensor | undefined;
  if (needs[0] || needs[1]) {
    const vh = heads(v!, Sk, Dv);
    const dp = op.matmul(gh, transposeLast2(vh)); // [B, H, Sq, Sk]
    const rowDot = op.sum(op.mul(gh, heads(o, Sq, Dv)), -1, true); // [B, H, Sq, 1]
    const ds = op.mul(p, op.sub(dp, rowDot));
    if (needs[0]) dq = merge(op.mul(op.matmul(ds, kh), s), Sq, D);
    if (needs[1]) dk = merge(op.mul(op.matmul(transposeLast2(ds), qh), s), Sk, D);
  }
  return [dq, dk, dv];
});

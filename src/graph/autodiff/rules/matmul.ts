/** VJP rules of MatMul (batched, broadcasting, 1-D operands) and Linear (x·Wᵀ + b). */
import type { SymTensor } from '../../builder.ts';
import * as op from '../../ops/index.ts';
import { sumToShape, transposeLast2 } from '../helpers.ts';
import { registerVjp } from '../vjp.ts';

/**
 * Y = A·B over broadcast batch dims: Ā = Ȳ·Bᵀ, B̄ = Aᵀ·Ȳ, each summed over the batch dims its operand was
 * broadcast along. 1-D operands are promoted as numpy does ([k] → [1, k] for A, [k, 1] for B) and the gradient
 * reshaped back. When B is a plain matrix and A is batched, the batch is folded into the rows instead
 * (B̄ = A₂ᵀ·Ȳ₂ with A₂ [(batch n), k], Ȳ₂ [(batch n), m]): one matmul, no reduction.
 */
registerVjp('MatMul', ({ inputs: [a, b], grads: [g], needs }) => {
  const A = a!.rank === 1 ? op.reshape(a!, [1, a!.shape[0]]) : a!; // [k] -> [1, k]
  const B = b!.rank === 1 ? op.reshape(b!, [b!.shape[0], 1]) : b!; // [k] -> [k, 1]
  const n = A.shape[A.rank - 2];
  const m = B.shape[B.rank - 1];
  // Ȳ with the promoted dims restored: [...batch, n, m].
  const G = op.reshape(g!, [...g!.shape.slice(0, g!.rank - (a!.rank === 1 ? 0 : 1) - (b!.rank === 1 ? 0 : 1)), n, m]);
  let da: SymTensor | undefined;
  let db: SymTensor | undefined;
  if (needs[0]) da = op.reshape(sumToShape(op.matmul(G, transposeLast2(B)), A.shape), a!.shape);
  if (needs[1]) {
    if (B.rank === 2 && A.rank > 2) {
      const k = A.shape[A.rank - 1];
      // [...batch, n, k] -> [(batch n), k]; [...batch, n, m] -> [(batch n), m]
      db = op.matmul(op.transpose(op.reshape(A, [-1, k]), [1, 0]), op.reshape(G, [-1, m]));
    } else {
      db = sumToShape(op.matmul(transposeLast2(A), G), B.shape);
    }
    db = op.reshape(db, b!.shape);
  }
  return [da, db];
});

/**
 * y = x·Wᵀ + b with x [..., in], W [out, in], b [out]: x̄ = ȳ·W, W̄ = ȳ₂ᵀ·x₂ (rows flattened:
 * ȳ₂ [R, out], x₂ [R, in]), b̄ = Σ_rows ȳ.
 */
registerVjp('Linear', ({ inputs: [x, w, bias], grads: [g], needs }) => {
  const [outF, inF] = w!.shape;
  const rows = (t: SymTensor, d: number) => op.reshape(t, [-1, d]); // [..., d] -> [R, d]
  return [
    needs[0] ? op.matmul(g!, w!) : undefined,
    needs[1] ? op.matmul(op.transpose(rows(g!, outF), [1, 0]), rows(x!, inF)) : undefined,
    needs[2] && bias
      ? g!.rank === 1
        ? g!
        : op.sum(
            g!,
            g!.shape.slice(0, -1).map((_, i) => i),
          )
      : undefined,
  ];
});

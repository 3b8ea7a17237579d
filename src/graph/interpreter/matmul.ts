/** Matrix products: ONNX MatMul (numpy.matmul semantics) and ONNX Gemm. */
import { broadcastIndexMap, broadcastShapes } from './elementwise.ts';
import { type F64Tensor, f64, numel } from './tensor.ts';

/**
 * ONNX MatMul (numpy.matmul): a 1-D `a` is promoted to [1, K] and a 1-D `b` to [K, 1], the promoted dimension being
 * removed from the result; leading (batch) dimensions broadcast multidirectionally.
 */
export function matmul(a: F64Tensor, b: F64Tensor): F64Tensor {
  if (a.shape.length === 0 || b.shape.length === 0) throw new Error('matmul: scalar operands are not allowed');
  const aShape = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bShape = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const M = aShape[aShape.length - 2];
  const K = aShape[aShape.length - 1];
  const K2 = bShape[bShape.length - 2];
  const N = bShape[bShape.length - 1];
  if (K !== K2) throw new Error(`matmul: inner dimensions differ, [${a.shape.join(', ')}] x [${b.shape.join(', ')}]`);
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  const aMap = broadcastIndexMap(aBatch, batch);
  const bMap = broadcastIndexMap(bBatch, batch);
  const nb = numel(batch);
  const out = f64([...batch, M, N]);
  for (let p = 0; p < nb; p++) {
    const aOff = aMap[p] * M * K;
    const bOff = bMap[p] * K * N;
    const oOff = p * M * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[aOff + i * K + k] * b.data[bOff + k * N + j];
        out.data[oOff + i * N + j] = s;
      }
    }
  }
  const shape = [...batch];
  if (a.shape.length !== 1) shape.push(M);
  if (b.shape.length !== 1) shape.push(N);
  return { shape, data: out.data };
}

export type GemmOptions = { transA?: boolean; transB?: boolean; alpha?: number; beta?: number };

/**
 * ONNX Gemm: Y = alpha·A'·B' + beta·C with A' = transA ? Aᵀ : A (2-D, [M, K] after transposition), B' likewise
 * ([K, N]); C is optional and broadcasts unidirectionally to [M, N]. Defaults: no transposes, alpha = beta = 1.
 */
export function gemm(a: F64Tensor, b: F64Tensor, c?: F64Tensor, options: GemmOptions = {}): F64Tensor {
  const { transA = false, transB = false, alpha = 1, beta = 1 } = options;
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new Error('gemm: A and B must be 2-D');
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [K2, N] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (K !== K2) throw new Error(`gemm: inner dimensions differ (${K} vs ${K2})`);
  const aAt = (i: number, k: number) => (transA ? a.data[k * M + i] : a.data[i * K + k]);
  const bAt = (k: number, j: number) => (transB ? b.data[j * K + k] : b.data[k * N + j]);
  const cMap = c ? broadcastIndexMap(c.shape, [M, N]) : undefined;
  const out = f64([M, N]);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += aAt(i, k) * bAt(k, j);
      let y = alpha * s;
      if (c && cMap) y += beta * c.data[cMap[i * N + j]];
      out.data[i * N + j] = y;
    }
  }
  return out;
}

/** VJP rule of Resize (nearest, linear, cubic; every coordinate transform). */
import type { DType } from '../../../tensor/dtype.ts';
import { HostTensor } from '../../../tensor/host-tensor.ts';
import type { GraphBuilder, SymTensor } from '../../builder.ts';
import * as K from '../../interpreter/index.ts';
import * as op from '../../ops/index.ts';
import { registerVjp } from '../vjp.ts';

/**
 * The interpolation matrix of one resized axis, Wᵀ [in, out] with y[o] = Σᵢ W[o, i]·x[i], taken from the reference
 * kernel itself: resizing the identity [in, in] along its second axis gives row i = Wᵀ[i, :].
 */
export function interpolationMatrixT(inLen: number, outLen: number, attrs: Readonly<Record<string, unknown>>) {
  const eye = K.f64([inLen, inLen]);
  for (let i = 0; i < inLen; i++) eye.data[i * inLen + i] = 1;
  return K.resize(eye, [inLen, outLen], {
    mode: attrs.mode as K.ResizeMode,
    coordinateTransformationMode: attrs.coordinateTransformationMode as K.CoordinateTransformationMode,
    nearestMode: attrs.nearestMode as K.NearestMode,
    cubicCoeffA: attrs.cubicCoeffA as number,
  });
}

/** A constant matrix of the gradient's dtype. */
function matrix(b: GraphBuilder, m: K.F64Tensor, dtype: DType): SymTensor {
  return op.cast(b.constant(new HostTensor('float32', m.shape, Float32Array.from(m.data))), dtype);
}

/** The integer factor f when Wᵀ is nearest upsampling out[o] = in[⌊o/f⌋], else 0. */
function nearestUpsampleFactor(wt: K.F64Tensor, inLen: number, outLen: number): number {
  if (outLen % inLen !== 0) return 0;
  const f = outLen / inLen;
  for (let i = 0; i < inLen; i++) {
    for (let o = 0; o < outLen; o++) {
      if (wt.data[i * outLen + o] !== (Math.floor(o / f) === i ? 1 : 0)) return 0;
    }
  }
  return f;
}

/**
 * Resize is separable — one linear map W_a [out, in] per resized axis a — so its adjoint applies W_aᵀ per axis
 * (in any order): x̄ = ȳ ×_a W_aᵀ, as a MatMul with a constant matrix (ȳ [pre, out] · W [out, in] on the last
 * axis, Wᵀ [in, out] · ȳ [pre, out, post] elsewhere). Nearest upsampling by an integer factor f is a sum-pool
 * instead: ȳ [pre, in, f, post] summed over f.
 */
registerVjp('Resize', ({ inputs: [x], grads: [g], attrs, builder }) => {
  const X = x!.shape;
  let cur: SymTensor = g!;
  for (let a = 2; a < X.length; a++) {
    const inLen = X[a];
    const outLen = cur.shape[a];
    if (inLen === outLen) continue;
    const wt = interpolationMatrixT(inLen, outLen, attrs);
    const pre = cur.shape.slice(0, a).reduce((p, d) => p * d, 1);
    const post = cur.shape.slice(a + 1).reduce((p, d) => p * d, 1);
    const f = attrs.mode === 'nearest' ? nearestUpsampleFactor(wt, inLen, outLen) : 0;
    let flat: SymTensor;
    if (f > 0) {
      flat = op.sum(op.reshape(cur, [pre, inLen, f, post]), [2]); // [.., out, ..] -> [pre, in, f, post] -> [pre, in, post]
    } else if (post === 1) {
      const w = matrix(builder, K.transpose(wt, [1, 0]), cur.dtype);
      flat = op.matmul(op.reshape(cur, [pre, outLen]), w); // [.., out] -> [pre, out] · [out, in]
    } else {
      const w = matrix(builder, wt, cur.dtype);
      flat = op.matmul(w, op.reshape(cur, [pre, outLen, post])); // [in, out] · [pre, out, post]
    }
    cur = op.reshape(
      flat,
      cur.shape.map((d, i) => (i === a ? inLen : d)),
    );
  }
  return [cur];
});

/** Comparison rules of ../shared/golden/README.md ("Exact comparison rules"). */
import assert from 'node:assert/strict';
import type { F64Tensor } from '../../src/graph/interpreter/tensor.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';

type AnyTensor = HostTensor | F64Tensor;

function values(t: AnyTensor): ArrayLike<number> {
  return t.data as ArrayLike<number>;
}

/** max|mine − ref| / max|ref|; when max|ref| = 0, max|mine| instead. */
export function relError(mine: AnyTensor, ref: AnyTensor): number {
  const a = values(mine);
  const b = values(ref);
  assert.deepEqual([...mine.shape], [...ref.shape], 'shape mismatch');
  let diff = 0;
  let scale = 0;
  let mineMax = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= diff)) diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    scale = Math.max(scale, Math.abs(b[i]));
    mineMax = Math.max(mineMax, Math.abs(a[i]));
  }
  return scale === 0 ? mineMax : diff / scale;
}

/** Asserts the golden rule: relative error ≤ tol (or max|mine| ≤ 1e-7 when the reference is all zeros). */
export function assertClose(mine: AnyTensor, ref: AnyTensor, tol: number, what = 'tensor'): number {
  const e = relError(mine, ref);
  const zeroRef = Array.prototype.every.call(values(ref), (v: number) => v === 0);
  const bound = zeroRef ? 1e-7 : tol;
  assert.ok(e <= bound, `${what}: relative error ${e.toExponential(3)} > ${bound}`);
  return e;
}

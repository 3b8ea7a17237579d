/**
 * How one sgm tensor becomes one or more diffusers/transformers tensors, and back. Every transform only moves
 * bytes (no arithmetic), so a round trip restores the exact bytes in any dtype.
 *
 * - `copy`: same shape, same bytes.
 * - `squeeze`: a 1×1 conv weight `[O, I, 1, 1]` stored as a linear weight `[O, I]` (VAE mid-block attention q, k, v,
 *   proj_out → to_q, to_k, to_v, to_out.0; diffusers `loaders/conversion/svd_vae.py`).
 * - `transpose`: a 2-D matrix stored transposed (open_clip `visual.proj` `[width, embed]` → HF
 *   `visual_projection.weight` `[embed, width]`).
 * - `split`: the first dimension cut into `parts` equal row blocks, one target key per block, in order
 *   (open_clip's packed `attn.in_proj_weight` `[3W, W]` → `q_proj`, `k_proj`, `v_proj`).
 */
import { BYTES_PER_ELEMENT, type DType } from '../../tensor/dtype.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import { formatShape, numel, type Shape } from '../../tensor/shape.ts';

export type KeyTransform =
  | { readonly kind: 'copy' }
  | { readonly kind: 'squeeze' }
  | { readonly kind: 'transpose' }
  | { readonly kind: 'split'; readonly parts: number };

export const COPY: KeyTransform = Object.freeze({ kind: 'copy' });
export const SQUEEZE: KeyTransform = Object.freeze({ kind: 'squeeze' });
export const TRANSPOSE: KeyTransform = Object.freeze({ kind: 'transpose' });
export const SPLIT_QKV: KeyTransform = Object.freeze({ kind: 'split', parts: 3 });

/** A short description for messages and tables: `copy`, `squeeze`, `transpose`, `split 3`. */
export function describeTransform(t: KeyTransform): string {
  return t.kind === 'split' ? `split ${t.parts}` : t.kind;
}

/** Number of target tensors the transform produces from one sgm tensor. */
export function partCount(t: KeyTransform): number {
  return t.kind === 'split' ? t.parts : 1;
}

/** The shape of each target tensor for an sgm tensor of `shape`; throws a RangeError if the transform does not fit. */
export function targetShape(shape: Shape, t: KeyTransform): Shape {
  switch (t.kind) {
    case 'copy':
      return shape;
    case 'squeeze':
      if (shape.length === 4 && shape[2] === 1 && shape[3] === 1) return [shape[0], shape[1]];
      if (shape.length === 2) return shape; // already a linear weight
      throw new RangeError(`cannot squeeze ${formatShape(shape)} to a linear weight (expected [O, I, 1, 1])`);
    case 'transpose':
      if (shape.length !== 2) throw new RangeError(`cannot transpose ${formatShape(shape)} (expected 2-D)`);
      return [shape[1], shape[0]];
    case 'split':
      if (shape.length < 1 || shape[0] % t.parts !== 0) {
        throw new RangeError(`cannot split ${formatShape(shape)} in ${t.parts} along dim 0`);
      }
      return [shape[0] / t.parts, ...shape.slice(1)];
  }
}

/**
 * The sgm shape rebuilt from the target parts' shapes (all equal for `split`). `squeeze` restores `[O, I, 1, 1]`
 * from `[O, I]` (a 4-D part is kept as is).
 */
export function sourceShape(partShapes: readonly Shape[], t: KeyTransform): Shape {
  const first = partShapes[0];
  for (const s of partShapes) {
    if (formatShape(s) !== formatShape(first)) {
      throw new RangeError(`parts have different shapes: ${partShapes.map(formatShape).join(', ')}`);
    }
  }
  if (partShapes.length !== partCount(t)) {
    throw new RangeError(`${describeTransform(t)} needs ${partCount(t)} parts, got ${partShapes.length}`);
  }
  switch (t.kind) {
    case 'copy':
      return first;
    case 'squeeze':
      return first.length === 2 ? [first[0], first[1], 1, 1] : first;
    case 'transpose':
      if (first.length !== 2) throw new RangeError(`cannot transpose ${formatShape(first)} (expected 2-D)`);
      return [first[1], first[0]];
    case 'split':
      if (first.length < 1) throw new RangeError('cannot concatenate scalars');
      return [first[0] * t.parts, ...first.slice(1)];
  }
}

/** The sgm tensor's bytes as the target tensors (views for copy/squeeze/split, a new buffer for transpose). */
export function toTargetParts(tensor: HostTensor, t: KeyTransform): HostTensor[] {
  const shape = targetShape(tensor.shape, t);
  switch (t.kind) {
    case 'copy':
      return [tensor];
    case 'squeeze':
      return [tensor.reshape(shape)];
    case 'transpose':
      return [transpose2d(tensor)];
    case 'split': {
      const n = numel(shape);
      const out: HostTensor[] = [];
      for (let p = 0; p < t.parts; p++) out.push(sliceElements(tensor, p * n, n, shape));
      return out;
    }
  }
}

/** The sgm tensor rebuilt from its target parts (exact bytes). */
export function fromTargetParts(parts: readonly HostTensor[], t: KeyTransform): HostTensor {
  const shape = sourceShape(
    parts.map((p) => p.shape),
    t,
  );
  const dtype = parts[0].dtype;
  for (const p of parts) {
    if (p.dtype !== dtype) throw new TypeError(`parts have different dtypes: ${parts.map((q) => q.dtype).join(', ')}`);
  }
  switch (t.kind) {
    case 'copy':
    case 'squeeze':
      return parts[0].reshape(shape);
    case 'transpose':
      return transpose2d(parts[0]);
    case 'split': {
      const out = HostTensor.zeros(dtype, shape);
      const dst = bytesOf(out);
      let at = 0;
      for (const p of parts) {
        const src = bytesOf(p);
        dst.set(src, at);
        at += src.byteLength;
      }
      return out;
    }
  }
}

function bytesOf(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** `n` elements from element `start`, as a tensor of `shape` sharing the buffer. */
function sliceElements(t: HostTensor, start: number, n: number, shape: Shape): HostTensor {
  const data = t.data.subarray(start, start + n) as HostTensor['data'];
  return new HostTensor(t.dtype, shape, data);
}

/** An element-sized unsigned view, so that transposing moves raw bits (NaN payloads included) in any dtype. */
function rawView(dtype: DType, t: HostTensor): Uint8Array | Uint16Array | Uint32Array | BigUint64Array {
  const { buffer, byteOffset, length } = t.data;
  switch (BYTES_PER_ELEMENT[dtype]) {
    case 1:
      return new Uint8Array(buffer, byteOffset, length);
    case 2:
      return new Uint16Array(buffer, byteOffset, length);
    case 4:
      return new Uint32Array(buffer, byteOffset, length);
    default:
      return new BigUint64Array(buffer, byteOffset, length);
  }
}

function transpose2d(t: HostTensor): HostTensor {
  if (t.shape.length !== 2) throw new RangeError(`cannot transpose ${formatShape(t.shape)} (expected 2-D)`);
  const [rows, cols] = t.shape;
  const out = HostTensor.zeros(t.dtype, [cols, rows]);
  const src = rawView(t.dtype, t);
  const dst = rawView(t.dtype, out);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  }
  return out;
}

/**
 * ONNX Resize (opset 19+ semantics, `sizes` input, keep_aspect_ratio_policy 'stretch', antialias 0): separable 1-D
 * interpolation along every axis whose size changes, so with N and C kept it is the usual (bi/tri)linear, bicubic or
 * nearest resampling of the trailing spatial dims. With explicit sizes ONNX uses scale = out/in on each axis.
 */
import { type F64Tensor, f64, numel } from './tensor.ts';

export type ResizeMode = 'nearest' | 'linear' | 'cubic';
export type CoordinateTransformationMode =
  | 'half_pixel'
  | 'half_pixel_symmetric'
  | 'pytorch_half_pixel'
  | 'align_corners'
  | 'asymmetric';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export type ResizeOptions = {
  /** Default 'nearest' (as ONNX). */
  mode?: ResizeMode;
  /** Default 'half_pixel' (as ONNX). */
  coordinateTransformationMode?: CoordinateTransformationMode;
  /** Rounding used by 'nearest'; default 'round_prefer_floor'. */
  nearestMode?: NearestMode;
  /** Keys cubic kernel parameter A; default −0.75 (PyTorch's bicubic). */
  cubicCoeffA?: number;
  /** Cubic only: taps outside the input get weight 0 and the rest are renormalised. Default false. */
  excludeOutside?: boolean;
};

/**
 * Input coordinate of output coordinate `x` along one axis (ONNX coordinate_transformation_mode), scale = out/in.
 * pytorch_half_pixel with a length-1 output maps to 0, as the ONNX spec text and ONNX Runtime do.
 */
export function originalCoordinate(
  x: number,
  inLen: number,
  outLen: number,
  mode: CoordinateTransformationMode,
): number {
  const scale = outLen / inLen;
  switch (mode) {
    case 'half_pixel':
      return (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      // adjustment = out / (scale·in) is exactly 1 with explicit sizes; kept for fidelity to the spec formula.
      const adjustment = outLen / (scale * inLen);
      const offset = (inLen / 2) * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case 'pytorch_half_pixel':
      return outLen > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return outLen === 1 ? 0 : (x * (inLen - 1)) / (outLen - 1);
    case 'asymmetric':
      return x / scale;
  }
}

function nearestIndex(x: number, mode: NearestMode): number {
  const f = Math.floor(x);
  const half = x - f === 0.5;
  switch (mode) {
    case 'round_prefer_floor':
      return half ? f : Math.round(x);
    case 'round_prefer_ceil':
      return half ? f + 1 : Math.round(x);
    case 'floor':
      return f;
    case 'ceil':
      return Math.ceil(x);
  }
}

/** Keys cubic convolution weights for the taps at floor−1, floor, floor+1, floor+2 (ratio r = x − floor(x)). */
export function cubicCoefficients(r: number, A = -0.75): [number, number, number, number] {
  const k1 = (t: number) => ((A + 2) * t - (A + 3)) * t * t + 1; // |t| <= 1
  const k2 = (t: number) => ((A * t - 5 * A) * t + 8 * A) * t - 4 * A; // 1 < |t| < 2
  return [k2(r + 1), k1(r), k1(1 - r), k2(2 - r)];
}

type Taps = { idx: number[]; w: number[] };

/** The (input index, weight) taps that produce each output position along one axis. */
function axisTaps(inLen: number, outLen: number, o: Required<ResizeOptions>): Taps[] {
  const clamp = (i: number) => Math.min(Math.max(i, 0), inLen - 1);
  const taps: Taps[] = [];
  for (let x = 0; x < outLen; x++) {
    const xo = originalCoordinate(x, inLen, outLen, o.coordinateTransformationMode);
    if (o.mode === 'nearest') {
      taps.push({ idx: [clamp(nearestIndex(xo, o.nearestMode))], w: [1] });
    } else if (o.mode === 'linear') {
      const c = Math.min(Math.max(xo, 0), inLen - 1);
      const i0 = Math.floor(c);
      const r = c - i0;
      taps.push({ idx: [i0, clamp(i0 + 1)], w: [1 - r, r] });
    } else {
      const i0 = Math.floor(xo);
      const raw = [i0 - 1, i0, i0 + 1, i0 + 2];
      let w: number[] = cubicCoefficients(xo - i0, o.cubicCoeffA);
      if (o.excludeOutside) {
        w = w.map((v, j) => (raw[j] < 0 || raw[j] >= inLen ? 0 : v));
        const s = w.reduce((p, v) => p + v, 0);
        w = w.map((v) => v / s);
      }
      taps.push({ idx: raw.map(clamp), w });
    }
  }
  return taps;
}

/** Resamples `x` along `axis` to length `outLen` with the given taps. */
function resizeAxis(x: F64Tensor, axis: number, outLen: number, taps: Taps[]): F64Tensor {
  const inLen = x.shape[axis];
  const outer = numel(x.shape.slice(0, axis));
  const inner = numel(x.shape.slice(axis + 1));
  const shape = [...x.shape];
  shape[axis] = outLen;
  const out = f64(shape);
  for (let p = 0; p < outer; p++) {
    for (let j = 0; j < outLen; j++) {
      const { idx, w } = taps[j];
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let t = 0; t < idx.length; t++) s += w[t] * x.data[(p * inLen + idx[t]) * inner + i];
        out.data[(p * outLen + j) * inner + i] = s;
      }
    }
  }
  return out;
}

/**
 * ONNX Resize to the full output shape `outSizes` (same rank as x). Axes whose size is unchanged are copied (every
 * coordinate transformation is the identity there). 'nearest' clamps the rounded index to the input; 'linear' clamps
 * the coordinate to [0, in−1] then interpolates between floor and floor+1; 'cubic' uses the Keys kernel on the four
 * taps around floor(x) with indices clamped to the border (edge padding), optionally `excludeOutside`.
 */
export function resize(x: F64Tensor, outSizes: readonly number[], options: ResizeOptions = {}): F64Tensor {
  const o: Required<ResizeOptions> = {
    mode: options.mode ?? 'nearest',
    coordinateTransformationMode: options.coordinateTransformationMode ?? 'half_pixel',
    nearestMode: options.nearestMode ?? 'round_prefer_floor',
    cubicCoeffA: options.cubicCoeffA ?? -0.75,
    excludeOutside: options.excludeOutside ?? false,
  };
  if (outSizes.length !== x.shape.length) throw new Error(`resize: need ${x.shape.length} output sizes`);
  let y: F64Tensor = { shape: [...x.shape], data: x.data.slice() };
  for (let a = 0; a < outSizes.length; a++) {
    const inLen = x.shape[a];
    const outLen = outSizes[a];
    if (!Number.isInteger(outLen) || outLen < 0) throw new Error(`resize: bad output size ${outLen}`);
    if (outLen === inLen) continue;
    if (inLen === 0) throw new Error('resize: cannot resize an empty axis to a nonzero size');
    y = resizeAxis(y, a, outLen, axisTaps(inLen, outLen, o));
  }
  return y;
}

/**
 * sgm `encoders/modules.py::FrozenOpenCLIPImageEmbedder.preprocess` as a graph, on an image in [-1, 1]:
 *
 *   kornia.geometry.resize(x, (224, 224), interpolation='bicubic', align_corners=True, antialias=True)   (kornia 0.6.9)
 *   x = (x + 1) / 2
 *   kornia.enhance.normalize(x, CLIP_MEAN, CLIP_STD)
 *
 * The aspect ratio is squashed (no crop). kornia's antialias (svd-spec.md §2.2): only when some axis is downscaled
 * (max(factors) > 1, factor = in / out per axis) a separable Gaussian blur runs first, on both axes, with
 * σ = max((factor − 1)/2, 0.001) and kernel size int(max(4σ, 3)) made odd, taps exp(−x²/2σ²) normalised
 * (x = i − ks//2), reflect padding, the width (x) pass before the height (y) pass (`filter2d_separable`). Then
 * `F.interpolate(mode='bicubic', align_corners=True)`: Keys cubic A = −0.75 with border-clamped taps.
 *
 * The bicubic step is not ONNX Resize: PyTorch forms the source coordinate from a float32 scale
 * (`float((in − 1) / (out − 1)) · o`) and its float32 weights carry rounding of the same order as the 1e-5
 * tolerance (op.resize, i.e. ONNX Runtime's Resize, lands at 5e-6 to 1.05e-5 of max|ref| on the three goldens).
 * So the tap indices and float32 weights are computed on the host as PyTorch's CPU kernel computes them
 * (`torchBicubicTaps`) and applied with Gather + Mul + ReduceSum, width first then height, as `upsample_bicubic2d`
 * accumulates them.
 */
import type { SymTensor } from '../../graph/builder.ts';
import { ShapeError } from '../../graph/errors.ts';
import * as op from '../../graph/ops/index.ts';
import { HostTensor } from '../../tensor/host-tensor.ts';
import { formatShape } from '../../tensor/shape.ts';

/** open_clip OPENAI_DATASET_MEAN / OPENAI_DATASET_STD (sgm's registered `mean` / `std` buffers). */
export const CLIP_MEAN: readonly number[] = Object.freeze([0.48145466, 0.4578275, 0.40821073]);
export const CLIP_STD: readonly number[] = Object.freeze([0.26862954, 0.26130258, 0.27577711]);

/** The size sgm resizes to (hard-coded (224, 224) in `preprocess`). */
export const CLIP_INPUT_SIZE = 224;

/**
 * kornia 0.6.9 `filters.kernels.gaussian(window_size, sigma)` in float32: x = arange(ks) − ks//2 (+0.5 for even ks),
 * g = exp(−x² / float(2σ²)), g / g.sum(). The divisor 2σ² is formed in double (a Python float) and rounded to
 * float32 by the tensor division, as torch does.
 */
export function gaussianKernel1d(kernelSize: number, sigma: number): Float32Array {
  const g = new Float32Array(kernelSize);
  const denom = Math.fround(2 * sigma ** 2);
  const half = Math.floor(kernelSize / 2);
  for (let i = 0; i < kernelSize; i++) {
    const x = i - half + (kernelSize % 2 === 0 ? 0.5 : 0);
    g[i] = Math.exp(Math.fround(-Math.fround(x * x) / denom));
  }
  let sum = 0;
  for (const v of g) sum = Math.fround(sum + v);
  for (let i = 0; i < kernelSize; i++) g[i] = Math.fround(g[i] / sum);
  return g;
}

/** The antialias Gaussian kornia uses along one axis. */
export interface AntialiasAxis {
  /** in / out (> 1 when downscaling). */
  factor: number;
  /** max((factor − 1)/2, 0.001). */
  sigma: number;
  /** int(max(4σ, 3)) made odd. */
  kernelSize: number;
  /** Normalised float32 taps. */
  taps: Float32Array;
  /** True when every off-centre tap is exactly 0 in float32: the pass is the identity and is skipped. */
  identity: boolean;
}

/** What kornia 0.6.9 `resize(..., antialias=True)` does before interpolating from `inSize` to `outSize` ([h, w]). */
export interface AntialiasPlan {
  /** kornia blurs only when max(factors) > 1 (some axis is downscaled). */
  blur: boolean;
  y: AntialiasAxis;
  x: AntialiasAxis;
}

function antialiasAxis(inLen: number, outLen: number): AntialiasAxis {
  const factor = inLen / outLen;
  const sigma = Math.max((factor - 1) / 2, 0.001);
  let kernelSize = Math.trunc(Math.max(2 * 2 * sigma, 3));
  if (kernelSize % 2 === 0) kernelSize += 1;
  const taps = gaussianKernel1d(kernelSize, sigma);
  const centre = Math.floor(kernelSize / 2);
  const identity = taps.every((v, i) => (i === centre ? v === 1 : v === 0));
  return { factor, sigma, kernelSize, taps, identity };
}

export function korniaAntialiasPlan(
  inSize: readonly [number, number],
  outSize: readonly [number, number],
): AntialiasPlan {
  const y = antialiasAxis(inSize[0], outSize[0]);
  const x = antialiasAxis(inSize[1], outSize[1]);
  return { blur: Math.max(y.factor, x.factor) > 1, y, x };
}

/**
 * kornia `filter2d` with a 1-D kernel along `axis` (3 = width, 2 = height) of x [B, C, H, W]: reflect padding of
 * ks//2 on both sides, then a per-channel correlation.
 */
function gaussianPass(x: SymTensor, axis: 2 | 3, a: AntialiasAxis): SymTensor {
  if (a.identity) return x; // taps [0, …, 1, …, 0]: exactly the input
  const [b, c, h, w] = x.shape;
  const r = Math.floor(a.kernelSize / 2);
  if (x.shape[axis] <= r) {
    throw new ShapeError('clipPreprocess', `reflect padding ${r} needs more than ${r} pixels along axis ${axis}`);
  }
  const kShape = axis === 3 ? [1, 1, 1, a.kernelSize] : [1, 1, a.kernelSize, 1];
  const kernel = x.builder.constant(new HostTensor('float32', kShape, Float32Array.from(a.taps)));
  let y = op.reshape(x, [b * c, 1, h, w]); // [B, C, H, W] -> [(B C), 1, H, W]
  const pads = axis === 3 ? [0, 0, 0, r, 0, 0, 0, r] : [0, 0, r, 0, 0, 0, r, 0];
  y = op.pad(y, pads, { mode: 'reflect' });
  y = op.conv(y, kernel); // [(B C), 1, H, W]
  return op.reshape(y, [b, c, h, w]); // [(B C), 1, H, W] -> [B, C, H, W]
}

/**
 * kornia 0.6.9 `geometry.transform.resize(x, size, interpolation='bicubic', align_corners=True, antialias)` of
 * x [B, C, H, W] to [B, C, size[0], size[1]].
 */
export function korniaResizeBicubic(
  x: SymTensor,
  size: readonly [number, number],
  opts: { antialias?: boolean } = {},
): SymTensor {
  if (x.rank !== 4) throw new ShapeError('korniaResizeBicubic', `expects [B, C, H, W], got ${formatShape(x.shape)}`);
  const inSize = [x.shape[2], x.shape[3]] as const;
  if (inSize[0] === size[0] && inSize[1] === size[1]) return x; // kornia returns the input unchanged
  const plan = korniaAntialiasPlan(inSize, size);
  if ((opts.antialias ?? true) && plan.blur) {
    x = gaussianPass(x, 3, plan.x); // width pass first (filter2d_separable: kernel_x, then kernel_y)
    x = gaussianPass(x, 2, plan.y);
  }
  x = bicubicAxis(x, 3, size[1]); // width first, as upsample_bicubic2d's inner loop
  return bicubicAxis(x, 2, size[0]);
}

/** Per output position: the 4 (border-clamped) input indices and float32 Keys weights, row-major [out, 4]. */
export interface BicubicTaps {
  index: Int32Array;
  weight: Float32Array;
}

/**
 * PyTorch CPU `upsample_bicubic2d` (align_corners=True) taps along one axis, as its kernel computes them in float32
 * (`HelperInterpCubic::compute_indices_weights`: `area_pixel_compute_scale`, `area_pixel_compute_source_index`,
 * `get_cubic_upsample_coefficients` with A = −0.75) in the x86-64 build, whose compiler fuses multiply-adds: the
 * source coordinate `scale · o` is floored after rounding to float32 but `t = scale · o − floor` is one fused
 * operation, and the Keys polynomials are Horner chains of fused multiply-adds. This model was fitted to the
 * goldens: rounding `scale · o` to float32 before taking t leaves 1e-5 (32×720) and 6e-6 (1024×48); this one
 * leaves ~5e-7. The coordinate rounding is what matters on wide inputs (a float32 ulp at 700 is 6e-5 pixel).
 */
export function torchBicubicTaps(inLen: number, outLen: number): BicubicTaps {
  const f = Math.fround;
  // fma(a, b, c) for float32 a, b, c: a·b is exact in double; the one rounding to float32 follows (a double rounding
  // of the sum can differ from a true fma by one ulp in rare ties, far below the tolerance).
  const fma = (a: number, b: number, c: number) => f(a * b + c);
  const cc1 = (x: number) => fma(f(fma(1.25, x, -2.25) * x), x, 1); // ((A+2)x − (A+3))·x·x + 1
  const cc2 = (x: number) => fma(fma(fma(-0.75, x, 3.75), x, -6), x, 3); // ((Ax − 5A)x + 8A)x − 4A
  const scale = outLen > 1 ? f((inLen - 1) / (outLen - 1)) : 0;
  const index = new Int32Array(outLen * 4);
  const weight = new Float32Array(outLen * 4);
  for (let o = 0; o < outLen; o++) {
    const real = scale * o; // exact in double (24-bit scale × small integer)
    const i0 = Math.floor(f(real));
    const t = f(real - i0);
    const t2 = f(1 - t);
    weight.set([cc2(f(t + 1)), cc1(t), cc1(t2), cc2(f(t2 + 1))], 4 * o);
    for (let j = 0; j < 4; j++) index[4 * o + j] = Math.min(Math.max(i0 - 1 + j, 0), inLen - 1);
  }
  return { index, weight };
}

/** Bicubic (align_corners) resampling of x [B, C, H, W] along `axis` to `outLen`; identity when the size is kept. */
function bicubicAxis(x: SymTensor, axis: 2 | 3, outLen: number): SymTensor {
  const inLen = x.shape[axis];
  if (inLen === outLen) return x; // weights [0, 1, 0, 0] at every position: exactly the input
  const taps = torchBicubicTaps(inLen, outLen);
  const b = x.builder;
  const index = b.constant(HostTensor.int64([outLen, 4], taps.index), 'int64');
  const gathered = op.gather(x, index, axis); // W: [B, C, H, outW, 4]; H: [B, C, outH, 4, W]
  const wShape = axis === 3 ? [outLen, 4] : [outLen, 4, 1];
  const weight = b.constant(new HostTensor('float32', wShape, taps.weight));
  return op.sum(op.mul(gathered, weight), axis + 1); // sum over the 4 taps -> [B, C, ·, ·]
}

/** CLIP normalisation of x [B, 3, H, W] in [0, 1]: (x − mean) / std per channel (kornia.enhance.normalize). */
export function clipNormalize(x: SymTensor): SymTensor {
  const c = x.shape[1];
  if (c !== 3) throw new ShapeError('clipNormalize', `expects 3 channels, got ${formatShape(x.shape)}`);
  const mean = x.builder.constant(HostTensor.float32([1, 3, 1, 1], CLIP_MEAN));
  const std = x.builder.constant(HostTensor.float32([1, 3, 1, 1], CLIP_STD));
  return op.div(op.sub(x, mean), std);
}

/**
 * `FrozenOpenCLIPImageEmbedder.preprocess` (antialias True): image x [B, 3, H, W] in [-1, 1] →
 * [B, 3, size, size], the input of the CLIP visual tower.
 */
export function clipPreprocess(x: SymTensor, size = CLIP_INPUT_SIZE, opts: { antialias?: boolean } = {}): SymTensor {
  if (x.rank !== 4 || x.shape[1] !== 3) {
    throw new ShapeError('clipPreprocess', `expects an image [B, 3, H, W], got ${formatShape(x.shape)}`);
  }
  const resized = korniaResizeBicubic(x, [size, size], opts);
  return clipNormalize(op.div(op.add(resized, 1), 2)); // [-1, 1] -> [0, 1] -> CLIP-normalised
}

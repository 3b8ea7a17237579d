/**
 * Resize (ONNX Resize-19 semantics) of the trailing spatial dims: nearest, (bi/tri)linear, bicubic, with
 * align_corners / half_pixel / asymmetric coordinate transforms.
 *
 * PyTorch equivalences: `F.interpolate(mode='nearest')` = nearest + asymmetric + floor;
 * `mode='bilinear'|'bicubic', align_corners=True` = linear|cubic + align_corners with cubic A = −0.75;
 * `align_corners=False` = pytorch_half_pixel.
 */
import { formatShape } from '../../tensor/shape.ts';
import type { SymTensor } from '../builder.ts';
import { ShapeError } from '../errors.ts';
import * as K from '../interpreter/index.ts';
import { registerOp } from '../op-registry.ts';
import { FLOAT_DTYPES, need, requireDType } from './infer-utils.ts';

export type ResizeMode = 'nearest' | 'linear' | 'cubic';
export type CoordinateTransform = 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

registerOp({
  name: 'Resize',
  infer([a], attrs) {
    const x = need('Resize', a, 'X');
    requireDType('Resize', x, FLOAT_DTYPES);
    const sizes = attrs.sizes as readonly number[];
    if (sizes.length !== x.shape.length || sizes[0] !== x.shape[0] || sizes[1] !== x.shape[1] || x.shape.length < 3) {
      throw new ShapeError('Resize', `sizes ${formatShape(sizes)} must keep N and C of ${formatShape(x.shape)}`);
    }
    if (sizes.some((d) => !Number.isInteger(d) || d < 1)) throw new ShapeError('Resize', `invalid sizes ${sizes}`);
    return [{ shape: sizes, dtype: x.dtype }];
  },
  lower(ctx, [x], [out], attrs) {
    ctx.node('Resize', [x, '', '', ctx.int64s(attrs.sizes as number[])], [out], {
      mode: { kind: 'string', value: attrs.mode as string },
      coordinate_transformation_mode: { kind: 'string', value: attrs.coordinateTransformationMode as string },
      nearest_mode: { kind: 'string', value: attrs.nearestMode as string },
      cubic_coeff_a: { kind: 'float', value: attrs.cubicCoeffA as number },
    });
  },
  interpret([x], attrs) {
    return [
      K.resize(x!, attrs.sizes as number[], {
        mode: attrs.mode as ResizeMode,
        coordinateTransformationMode: attrs.coordinateTransformationMode as CoordinateTransform,
        nearestMode: attrs.nearestMode as NearestMode,
        cubicCoeffA: attrs.cubicCoeffA as number,
      }),
    ];
  },
});

export interface ResizeOptions {
  mode?: ResizeMode;
  /** torch's align_corners (linear/cubic only). Default false → pytorch_half_pixel. */
  alignCorners?: boolean;
  /** Explicit ONNX coordinate transform; overrides alignCorners. */
  coordinateTransformationMode?: CoordinateTransform;
  nearestMode?: NearestMode;
  cubicCoeffA?: number;
}

/** Resizes the spatial dims of x [N, C, ...] to `size` (one entry per spatial dim), torch.nn.functional.interpolate style. */
export function resize(x: SymTensor, size: readonly number[], opts: ResizeOptions = {}): SymTensor {
  const mode = opts.mode ?? 'nearest';
  if (size.length !== x.rank - 2) {
    throw new ShapeError('Resize', `size needs ${x.rank - 2} entries for ${formatShape(x.shape)}, got ${size.length}`);
  }
  const coord =
    opts.coordinateTransformationMode ??
    (mode === 'nearest' ? 'asymmetric' : opts.alignCorners ? 'align_corners' : 'pytorch_half_pixel');
  return x.builder.emit('Resize', [x], {
    sizes: [x.shape[0], x.shape[1], ...size],
    mode,
    coordinateTransformationMode: coord,
    nearestMode: opts.nearestMode ?? 'floor',
    cubicCoeffA: opts.cubicCoeffA ?? -0.75,
  })[0];
}

/**
 * Normalisation primitives: LayerNorm and GroupNorm (DESIGN.md decision 4: ONNX GroupNormalization-21 has no CPU
 * kernel and loses precision on badly centred inputs, so GroupNorm has its own exact lowering).
 */
import { formatShape } from '../../tensor/shape.ts';
import type { SymTensor } from '../builder.ts';
import { ShapeError } from '../errors.ts';
import * as K from '../interpreter/index.ts';
import { registerOp } from '../op-registry.ts';
import { broadcastShapes, FLOAT_DTYPES, need, normAxis, requireDType } from './infer-utils.ts';

registerOp({
  name: 'LayerNorm',
  infer([a, s, b], attrs) {
    const x = need('LayerNorm', a, 'X');
    requireDType('LayerNorm', x, FLOAT_DTYPES);
    const axis = normAxis('LayerNorm', attrs.axis as number, x.shape.length);
    const normShape = x.shape.slice(axis);
    for (const [p, what] of [
      [s, 'scale'],
      [b, 'bias'],
    ] as const) {
      if (!p) continue;
      const joined = broadcastShapes('LayerNorm', normShape, p.shape);
      if (joined.length !== normShape.length || joined.some((d, i) => d !== normShape[i])) {
        throw new ShapeError('LayerNorm', `${what} ${formatShape(p.shape)} does not fit ${formatShape(normShape)}`);
      }
    }
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  lower(ctx, [x, s, b], [out], attrs) {
    // ONNX LayerNormalization requires Scale; a [1] tensor of ones broadcasts.
    const scale = s || ctx.float32([1], [1]);
    ctx.node('LayerNormalization', b ? [x, scale, b] : [x, scale], [out], {
      axis: { kind: 'int', value: attrs.axis as number },
      epsilon: { kind: 'float', value: attrs.epsilon as number },
    });
  },
  interpret([x, s, b], attrs) {
    return [K.layerNorm(x!, s, b, { axis: attrs.axis as number, epsilon: attrs.epsilon as number })];
  },
});

/**
 * torch.nn.GroupNorm as one primitive (statistics over C/G channels × all remaining dims, biased variance, per-channel
 * affine). Lowered for speed and exactness on the CPU provider (DESIGN.md decision 4, refined; measured on
 * [2,320,64,64]: 2.9–3.7 ms against 5.0–5.3 ms for LayerNormalization + Mul + Add):
 *   Reshape [N, G, K] → subtract each group's first element (a cheap shift that keeps badly centred inputs exact:
 *   InstanceNormalization alone loses 6e-5 on inputs with mean 300) → InstanceNormalization (unit scale) →
 *   Reshape back → BatchNormalization(γ, β, mean 0, var 1, ε 0) = γ·x + β in one pass.
 */
registerOp({
  name: 'GroupNorm',
  infer([a, g, b], attrs) {
    const x = need('GroupNorm', a, 'X');
    requireDType('GroupNorm', x, FLOAT_DTYPES);
    const groups = attrs.numGroups as number;
    if (x.shape.length < 3) throw new ShapeError('GroupNorm', `input must have rank ≥ 3, got ${formatShape(x.shape)}`);
    const c = x.shape[1];
    if (c % groups !== 0) throw new ShapeError('GroupNorm', `${c} channels do not split into ${groups} groups`);
    for (const [p, what] of [
      [g, 'weight'],
      [b, 'bias'],
    ] as const) {
      if (p && (p.shape.length !== 1 || p.shape[0] !== c)) {
        throw new ShapeError('GroupNorm', `${what} ${formatShape(p.shape)} does not match ${c} channels`);
      }
    }
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  lower(ctx, [x, g, b], [out], attrs) {
    const shape = ctx.infoOf(x).shape;
    const groups = attrs.numGroups as number;
    const c = shape[1];
    const grouped = ctx.node('Reshape', [x, ctx.int64s([shape[0], groups, -1])]);
    const first = ctx.node('Slice', [grouped, ctx.int64s([0]), ctx.int64s([1]), ctx.int64s([2])]);
    const centred = ctx.node('Sub', [grouped, first]);
    const normed = ctx.node(
      'InstanceNormalization',
      [centred, ctx.float32(new Array(groups).fill(1), [groups]), ctx.float32(new Array(groups).fill(0), [groups])],
      1,
      {
        epsilon: { kind: 'float', value: attrs.epsilon as number },
      },
    );
    const y = ctx.node('Reshape', [normed, ctx.int64s(shape)], g || b ? 1 : [out]);
    if (g && b) {
      ctx.node(
        'BatchNormalization',
        [y, g, b, ctx.float32(new Array(c).fill(0), [c]), ctx.float32(new Array(c).fill(1), [c])],
        [out],
        {
          epsilon: { kind: 'float', value: 0 },
        },
      );
    } else if (g || b) {
      const affine = [c, ...new Array(shape.length - 2).fill(1)];
      const p = ctx.node('Reshape', [g || b, ctx.int64s(affine)]);
      ctx.node(g ? 'Mul' : 'Add', [y, p], [out]);
    }
  },
  interpret([x, g, b], attrs) {
    return [K.groupNorm(x!, attrs.numGroups as number, g, b, attrs.epsilon as number)];
  },
});

/** Layer normalisation over the dims from `axis` to the end (torch.nn.LayerNorm with normalized_shape = those dims). */
export function layerNorm(x: SymTensor, scale?: SymTensor, bias?: SymTensor, epsilon = 1e-5, axis = -1): SymTensor {
  return x.builder.emit('LayerNorm', [x, scale, bias], { axis, epsilon })[0];
}

/**
 * Normalisation primitives. LayerNormalization is the one primitive; group norm is built on it (DESIGN.md decision 4:
 * ONNX GroupNormalization-21 has no CPU kernel and loses precision on badly centred inputs).
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

/** Layer normalisation over the dims from `axis` to the end (torch.nn.LayerNorm with normalized_shape = those dims). */
export function layerNorm(x: SymTensor, scale?: SymTensor, bias?: SymTensor, epsilon = 1e-5, axis = -1): SymTensor {
  return x.builder.emit('LayerNorm', [x, scale, bias], { axis, epsilon })[0];
}

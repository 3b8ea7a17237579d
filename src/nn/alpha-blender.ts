/**
 * sgm `diffusionmodules.util.AlphaBlender`: y = α·x_spatial + (1 − α)·x_temporal with
 * - `fixed`: α = the configured constant;
 * - `learned`: α = sigmoid(mix_factor);
 * - `learned_with_images`: α = 1 where `image_only_indicator` [b, t] is nonzero, else sigmoid(mix_factor), reshaped by
 *   the caller's pattern (`b t -> (b t) 1 1` in SpatialVideoTransformer, `b t -> b 1 t 1 1` in VideoResBlock).
 * `mix_factor` is a [1] parameter. (The VAE decoder blends the other way round and does not use this class.)
 */
import type { SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';
import type { Params } from './params.ts';

export type MergeStrategy = 'fixed' | 'learned' | 'learned_with_images';

export interface BlendSpec {
  strategy: MergeStrategy;
  /** α for `fixed`. */
  alpha?: number;
  /** [b, t] float (nonzero = image-only) for `learned_with_images`. */
  imageOnlyIndicator?: SymTensor;
  /** Shape that α [b, t] takes to broadcast against the inputs, e.g. [b·t, 1, 1] or [b, 1, t, 1, 1]. */
  alphaShape?: readonly number[];
}

export function alphaBlend(p: Params, xSpatial: SymTensor, xTemporal: SymTensor, s: BlendSpec): SymTensor {
  let alpha: SymTensor;
  if (s.strategy === 'fixed') {
    alpha = xSpatial.builder.constant(s.alpha ?? 0.5);
  } else {
    alpha = op.sigmoid(p.get('mix_factor', [1]));
    if (s.strategy === 'learned_with_images') {
      if (!s.imageOnlyIndicator || !s.alphaShape) {
        throw new Error('AlphaBlender learned_with_images needs image_only_indicator and its broadcast shape');
      }
      const isImage = op.logicalNot(op.equal(s.imageOnlyIndicator, 0)); // [b, t] bool, torch's `.bool()`
      alpha = op.reshape(op.where(isImage, 1, op.expand(alpha, s.imageOnlyIndicator.shape)), s.alphaShape);
    }
  }
  // α·xs + (1 − α)·xt = xt + α·(xs − xt)
  return op.add(op.mul(alpha, xSpatial), op.mul(op.sub(1, alpha), xTemporal));
}

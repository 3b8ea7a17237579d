/**
 * sgm `sgm/modules/diffusionmodules/util.py::AlphaBlender` as the UNet uses it (`time_mixer`):
 * α·x_spatial + (1 − α)·x_temporal. `learned` and `learned_with_images` go through nn `alphaBlend`
 * (α = sigmoid(mix_factor), forced to 1 on image-only frames). For `fixed` the reference registers `mix_factor` as a
 * persistent buffer (so it is a checkpoint key) and uses it as α directly, without sigmoid; so do we.
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { alphaBlend } from '../../nn/alpha-blender.ts';
import type { Params } from '../../nn/params.ts';
import type { MergeStrategy } from './config.ts';

export interface TimeMixerSpec {
  strategy: MergeStrategy;
  /** [b, t]; required for `learned_with_images`. */
  imageOnlyIndicator?: SymTensor;
  /** Shape α [b, t] takes to broadcast (the reference's rearrange pattern). */
  alphaShape: readonly number[];
}

export function timeMixer(p: Params, xSpatial: SymTensor, xTemporal: SymTensor, s: TimeMixerSpec): SymTensor {
  if (s.strategy === 'fixed') {
    const alpha = p.get('mix_factor', [1]);
    return op.add(op.mul(alpha, xSpatial), op.mul(op.sub(1, alpha), xTemporal));
  }
  return alphaBlend(p, xSpatial, xTemporal, {
    strategy: s.strategy,
    imageOnlyIndicator: s.imageOnlyIndicator,
    alphaShape: s.alphaShape,
  });
}

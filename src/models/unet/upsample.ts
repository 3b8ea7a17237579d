/**
 * sgm `sgm/modules/diffusionmodules/openaimodel.py::Upsample`, dims 2 (svd-spec.md §2.10): nearest ×2
 * (`F.interpolate(scale_factor=2, mode="nearest")`), then with `conv_resample` a 3×3 conv, padding 1 (`conv`).
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { conv } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';

/** x [N, C, h, w] → [N, C, 2h, 2w]. */
export function upsample(p: Params, x: SymTensor, channels: number, useConv: boolean): SymTensor {
  const [, , h, w] = x.shape;
  const up = op.resize(x, [2 * h, 2 * w], { mode: 'nearest' });
  return useConv ? conv(p.pp('conv'), up, channels, channels, { kernel: 3, padding: 1 }) : up;
}

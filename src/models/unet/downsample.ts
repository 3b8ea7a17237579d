/**
 * sgm `sgm/modules/diffusionmodules/openaimodel.py::Downsample`, dims 2 (svd-spec.md §2.10): with `conv_resample`
 * a 3×3 conv, stride 2, symmetric padding 1 (`op`); without, 2×2 average pooling (floor).
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { conv } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';

/** x [N, C, h, w] → [N, C, ⌈h/2⌉, ⌈w/2⌉] (conv) or [N, C, ⌊h/2⌋, ⌊w/2⌋] (pooling). */
export function downsample(p: Params, x: SymTensor, channels: number, useConv: boolean): SymTensor {
  if (useConv) return conv(p.pp('op'), x, channels, channels, { kernel: 3, stride: 2, padding: 1 });
  const [n, c, h, w] = x.shape;
  const h2 = Math.floor(h / 2);
  const w2 = Math.floor(w / 2);
  const even = h === 2 * h2 && w === 2 * w2 ? x : op.slice(x, [0, 0], [2 * h2, 2 * w2], [2, 3]);
  // [N, C, 2·h2, 2·w2] -> [N, C, h2, 2, w2, 2], mean over the 2×2 windows
  return op.mean(op.reshape(even, [n, c, h2, 2, w2, 2]), [3, 5]);
}

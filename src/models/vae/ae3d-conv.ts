/**
 * `sgm/modules/autoencoding/temporal_ae.py::AE3DConv`: the decoder's output Conv2d (its own `weight`/`bias`), then
 * `time_mix_conv`, a Conv3d over [b, C, t, H, W] with the video kernel and padding k//2 — no residual, no blending.
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { conv } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import type { Tap } from './tap.ts';

/** x [(b t), inC, H, W] → [(b t), outC, H, W]. */
export function ae3dConv(
  p: Params,
  x: SymTensor,
  inC: number,
  outC: number,
  timesteps: number,
  kernel: readonly number[],
  tap?: Tap,
): SymTensor {
  const y = conv(p, x, inC, outC, { kernel: 3, padding: 1 }); // [(b t), outC, H, W]
  const [bt, c, h, w] = y.shape;
  if (bt % timesteps !== 0) throw new Error(`AE3DConv: batch ${bt} is not a multiple of ${timesteps} frames`);
  const b = bt / timesteps;
  const y5 = op.transpose(op.reshape(y, [b, timesteps, c, h, w]), [0, 2, 1, 3, 4]); // -> [b, outC, t, H, W]
  tap?.(`${p.prefix}.time_mix_conv:input`, y5);
  const padding = kernel.map((k) => Math.floor(k / 2));
  const mixed = conv(p.pp('time_mix_conv'), y5, outC, outC, { kernel, padding }); // [b, outC, t, H, W]
  tap?.(`${p.prefix}.time_mix_conv`, mixed);
  return op.reshape(op.transpose(mixed, [0, 2, 1, 3, 4]), [bt, c, h, w]); // [b, outC, t, H, W] -> [(b t), outC, H, W]
}

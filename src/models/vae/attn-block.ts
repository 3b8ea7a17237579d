/**
 * `sgm/modules/diffusionmodules/model.py::AttnBlock` (and `MemoryEfficientAttnBlock`, the same math and parameters):
 * single-head self-attention over the H·W positions of each image, q/k/v/proj_out 1×1 convs with bias, scale C^−0.5,
 * residual.
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';
import { conv } from '../../nn/layers.ts';
import type { Params } from '../../nn/params.ts';
import { vaeNorm } from './resnet-block.ts';

/** x [N, C, H, W] → x + proj_out(attention(norm(x))); `groups`: the GroupNorm groups of `norm` (`normGroups`). */
export function attnBlock(p: Params, x: SymTensor, channels: number, groups: number): SymTensor {
  const [n, c, h, w] = x.shape;
  const hn = vaeNorm(p.pp('norm'), x, channels, groups);
  const tokens = (name: string) => {
    const y = conv(p.pp(name), hn, channels, channels, { kernel: 1 }); // [N, C, H, W]
    return op.transpose(op.reshape(y, [n, c, h * w]), [0, 2, 1]); // [N, C, H·W] -> [N, H·W, C]
  };
  const q = tokens('q');
  const k = tokens('k');
  const v = tokens('v');
  const a = op.attention(q, k, v, 1, 1 / Math.sqrt(c)); // [N, H·W, C]
  const img = op.reshape(op.transpose(a, [0, 2, 1]), [n, c, h, w]); // [N, H·W, C] -> [N, C, H, W]
  return op.add(x, conv(p.pp('proj_out'), img, channels, channels, { kernel: 1 }));
}

/** `make_attn(C, attn_type)`: the AttnBlock (its norm in `groups` groups), or the identity for `none`. */
export function makeAttn(p: Params, x: SymTensor, channels: number, attnType: string, groups: number): SymTensor {
  return attnType === 'none' ? x : attnBlock(p, x, channels, groups);
}

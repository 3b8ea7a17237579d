/**
 * Basic layers over Params, with the reference's parameter names (torch.nn.Linear / Conv / GroupNorm / LayerNorm).
 */
import type { SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';
import type { Params } from './params.ts';

/** torch.nn.Linear(inF, outF): `weight` [outF, inF], `bias` [outF]. */
export function linear(p: Params, x: SymTensor, inF: number, outF: number, bias = true): SymTensor {
  return op.linear(x, p.get('weight', [outF, inF]), bias ? p.get('bias', [outF]) : undefined);
}

export interface ConvSpec {
  /** Kernel size per spatial dim, or one number for all. */
  kernel: number | readonly number[];
  stride?: number | readonly number[];
  padding?: number | readonly number[];
  bias?: boolean;
}

/** torch.nn.Conv1d/2d/3d by the input's rank: `weight` [outC, inC, ...k], `bias` [outC]. */
export function conv(p: Params, x: SymTensor, inC: number, outC: number, spec: ConvSpec): SymTensor {
  const nd = x.rank - 2;
  const k = typeof spec.kernel === 'number' ? new Array(nd).fill(spec.kernel) : [...spec.kernel];
  const w = p.get('weight', [outC, inC, ...k]);
  const b = spec.bias === false ? undefined : p.get('bias', [outC]);
  return op.conv(x, w, b, { stride: spec.stride, padding: spec.padding });
}

/** torch.nn.GroupNorm(groups, C, eps) over x [N, C, ...]; `weight`, `bias` [C]. */
export function groupNorm(p: Params, x: SymTensor, channels: number, eps: number, groups = 32): SymTensor {
  return op.groupNorm(x, groups, p.get('weight', [channels]), p.get('bias', [channels]), eps);
}

/** torch.nn.LayerNorm(C, eps) over the last dim; `weight`, `bias` [C]. */
export function layerNorm(p: Params, x: SymTensor, channels: number, eps = 1e-5): SymTensor {
  return op.layerNorm(x, p.get('weight', [channels]), p.get('bias', [channels]), eps, -1);
}

/**
 * sgm `FeedForward(dim, dim_out, mult=4, glu=True)`: `net.0` = GEGLU (`proj`: Linear(dim, 2·inner); split the last dim
 * into (a, gate) in that order; a · GELU_erf(gate)), `net.1` = Dropout(0), `net.2` = Linear(inner, dim_out).
 */
import type { SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';
import { linear } from './layers.ts';
import type { Params } from './params.ts';

export function geglu(p: Params, x: SymTensor, dimIn: number, dimOut: number): SymTensor {
  const [a, gate] = op.split(linear(p.pp('proj'), x, dimIn, 2 * dimOut), 2, -1);
  return op.mul(a, op.gelu(gate));
}

export function feedForward(p: Params, x: SymTensor, dim: number, dimOut = dim, mult = 4): SymTensor {
  const inner = dim * mult;
  const h = geglu(p.pp('net').pp(0), x, dim, inner);
  return linear(p.pp('net').pp(2), h, inner, dimOut);
}

/**
 * sgm `FeedForward(dim, dim_out, mult=4, glu=True)`: `net.0` = GEGLU (`proj`: Linear(dim, 2·inner); split the last dim
 * into (a, gate) in that order; a · GELU_erf(gate)), `net.1` = Dropout(0), `net.2` = Linear(inner, dim_out).
 */
import type { SymTensor } from '../graph/builder.ts';
import * as op from '../graph/ops/index.ts';
import { linear } from './layers.ts';
import type { Params } from './params.ts';

/**
 * GEGLU as two Linears over the halves of `proj`'s weight and bias (the same dot products as one Linear followed by a
 * split of its output): splitting the [2·inner, dim] weight instead of the [tokens, 2·inner] activation saves a
 * strided copy of the largest activation of the block in the forward pass and its Concat in the backward pass.
 */
export function geglu(p: Params, x: SymTensor, dimIn: number, dimOut: number): SymTensor {
  const proj = p.pp('proj');
  const [wa, wg] = op.split(proj.get('weight', [2 * dimOut, dimIn]), 2, 0);
  const [ba, bg] = op.split(proj.get('bias', [2 * dimOut]), 2, 0);
  return op.mul(op.linear(x, wa, ba), op.gelu(op.linear(x, wg, bg)));
}

export function feedForward(p: Params, x: SymTensor, dim: number, dimOut = dim, mult = 4): SymTensor {
  const inner = dim * mult;
  const h = geglu(p.pp('net').pp(0), x, dim, inner);
  return linear(p.pp('net').pp(2), h, inner, dimOut);
}

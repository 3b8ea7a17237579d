/** Matrix products and convolutions: MatMul (batched), Linear (x·Wᵀ + b), Conv and ConvTranspose (1-D/2-D/3-D). */
import { formatShape } from '../../tensor/shape.ts';
import type { SymTensor } from '../builder.ts';
import { ShapeError } from '../errors.ts';
import * as K from '../interpreter/index.ts';
import type { Attrs } from '../ir.ts';
import type { AttrValue } from '../onnx/model-proto.ts';
import { registerOp } from '../op-registry.ts';
import { broadcastShapes, FLOAT_DTYPES, need, requireDType, requireRank, requireSameDType } from './infer-utils.ts';

registerOp({
  name: 'MatMul',
  infer([a, b]) {
    const x = need('MatMul', a, 'A');
    const y = need('MatMul', b, 'B');
    requireSameDType('MatMul', x, y);
    requireDType('MatMul', x, FLOAT_DTYPES);
    if (x.shape.length === 0 || y.shape.length === 0) throw new ShapeError('MatMul', 'scalars are not allowed');
    const as = x.shape.length === 1 ? [1, x.shape[0]] : x.shape;
    const bs = y.shape.length === 1 ? [y.shape[0], 1] : y.shape;
    const k1 = as[as.length - 1];
    const k2 = bs[bs.length - 2];
    if (k1 !== k2) {
      throw new ShapeError('MatMul', `inner dimensions differ: ${formatShape(x.shape)} @ ${formatShape(y.shape)}`);
    }
    const batch = broadcastShapes('MatMul', as.slice(0, -2), bs.slice(0, -2));
    const out = [...batch];
    if (x.shape.length > 1) out.push(as[as.length - 2]);
    if (y.shape.length > 1) out.push(bs[bs.length - 1]);
    return [{ shape: out, dtype: x.dtype }];
  },
  lower(ctx, [a, b], [out]) {
    ctx.node('MatMul', [a, b], [out]);
  },
  interpret([a, b]) {
    return [K.matmul(a!, b!)];
  },
});

/**
 * Linear layer y = x·Wᵀ + b with W [out, in] as stored by torch.nn.Linear. Lowered as Reshape → Gemm(transB) →
 * Reshape so that W is consumed in its stored layout (no per-call transpose).
 */
registerOp({
  name: 'Linear',
  infer([a, w, b]) {
    const x = need('Linear', a, 'x');
    const weight = need('Linear', w, 'weight');
    requireSameDType('Linear', x, weight);
    requireRank('Linear', weight, 2, 'weight');
    if (x.shape.length < 1) throw new ShapeError('Linear', 'input must have rank ≥ 1');
    const inF = x.shape[x.shape.length - 1];
    if (weight.shape[1] !== inF) {
      throw new ShapeError(
        'Linear',
        `input ${formatShape(x.shape)} does not match weight ${formatShape(weight.shape)}`,
      );
    }
    if (b && (b.shape.length !== 1 || b.shape[0] !== weight.shape[0])) {
      throw new ShapeError('Linear', `bias ${formatShape(b.shape)} does not match weight ${formatShape(weight.shape)}`);
    }
    return [{ shape: [...x.shape.slice(0, -1), weight.shape[0]], dtype: x.dtype }];
  },
  lower(ctx, [x, w, b], [out]) {
    const xs = ctx.infoOf(x).shape;
    const ws = ctx.infoOf(w).shape;
    const inputs = b ? [x, w, b] : [x, w];
    if (xs.length === 2) {
      ctx.node('Gemm', inputs, [out], { transB: { kind: 'int', value: 1 } });
      return;
    }
    const flat = ctx.node('Reshape', [x, ctx.int64s([-1, ws[1]])]);
    const y = ctx.node('Gemm', b ? [flat, w, b] : [flat, w], 1, { transB: { kind: 'int', value: 1 } });
    ctx.node('Reshape', [y, ctx.int64s([...xs.slice(0, -1), ws[0]])], [out]);
  },
  interpret([x, w, b]) {
    const wt = K.transpose(w!, [1, 0]);
    const y = K.matmul(x!, wt);
    return [b ? K.binary(y, b, (p, q) => p + q) : y];
  },
});

interface ConvAttrs {
  strides: readonly number[];
  dilations: readonly number[];
  pads: readonly number[];
  group: number;
  outputPadding?: readonly number[];
}

function convAttrs(attrs: Attrs): ConvAttrs {
  return attrs as unknown as ConvAttrs;
}

/** ONNX attributes shared by Conv and ConvTranspose. */
function onnxConvAttrs(a: ConvAttrs, kernel: readonly number[]): Record<string, AttrValue> {
  return {
    strides: { kind: 'ints', value: a.strides },
    dilations: { kind: 'ints', value: a.dilations },
    pads: { kind: 'ints', value: a.pads },
    group: { kind: 'int', value: a.group },
    kernel_shape: { kind: 'ints', value: kernel },
  };
}

function checkConvCommon(op: string, xs: readonly number[], ws: readonly number[], a: ConvAttrs): number {
  const nd = xs.length - 2;
  if (nd < 1 || nd > 3) throw new ShapeError(op, `input must be 3-D, 4-D or 5-D, got ${formatShape(xs)}`);
  if (ws.length !== xs.length) {
    throw new ShapeError(op, `weight ${formatShape(ws)} does not match input ${formatShape(xs)} in rank`);
  }
  if (a.strides.length !== nd || a.dilations.length !== nd || a.pads.length !== 2 * nd) {
    throw new ShapeError(op, `strides/dilations need ${nd} entries and pads ${2 * nd}`);
  }
  if (!Number.isInteger(a.group) || a.group < 1) throw new ShapeError(op, `invalid group ${a.group}`);
  return nd;
}

registerOp({
  name: 'Conv',
  infer([xi, wi, bi], attrs) {
    const x = need('Conv', xi, 'X');
    const w = need('Conv', wi, 'W');
    requireSameDType('Conv', x, w);
    const a = convAttrs(attrs);
    const nd = checkConvCommon('Conv', x.shape, w.shape, a);
    const [n, c] = x.shape;
    const m = w.shape[0];
    if (c !== w.shape[1] * a.group || m % a.group !== 0) {
      throw new ShapeError(
        'Conv',
        `input ${formatShape(x.shape)} and weight ${formatShape(w.shape)} disagree on channels (group ${a.group})`,
      );
    }
    if (bi && (bi.shape.length !== 1 || bi.shape[0] !== m)) {
      throw new ShapeError('Conv', `bias ${formatShape(bi.shape)} does not match ${m} output channels`);
    }
    const out = [n, m];
    for (let i = 0; i < nd; i++) {
      const eff = a.dilations[i] * (w.shape[2 + i] - 1) + 1;
      const padded = x.shape[2 + i] + a.pads[i] + a.pads[i + nd];
      const o = Math.floor((padded - eff) / a.strides[i]) + 1;
      if (o < 1) {
        throw new ShapeError('Conv', `kernel ${formatShape(w.shape)} larger than padded input ${formatShape(x.shape)}`);
      }
      out.push(o);
    }
    return [{ shape: out, dtype: x.dtype }];
  },
  lower(ctx, [x, w, b], [out], attrs) {
    const a = convAttrs(attrs);
    const ws = ctx.infoOf(w).shape;
    ctx.node('Conv', b ? [x, w, b] : [x, w], [out], onnxConvAttrs(a, ws.slice(2)));
  },
  interpret([x, w, b], attrs) {
    const a = convAttrs(attrs);
    return [K.conv(x!, w!, b, { strides: a.strides, dilations: a.dilations, pads: a.pads, group: a.group })];
  },
});

registerOp({
  name: 'ConvTranspose',
  infer([xi, wi, bi], attrs) {
    const x = need('ConvTranspose', xi, 'X');
    const w = need('ConvTranspose', wi, 'W');
    requireSameDType('ConvTranspose', x, w);
    const a = convAttrs(attrs);
    const nd = checkConvCommon('ConvTranspose', x.shape, w.shape, a);
    const op = a.outputPadding ?? new Array(nd).fill(0);
    if (x.shape[1] !== w.shape[0]) {
      throw new ShapeError('ConvTranspose', `input ${formatShape(x.shape)} vs weight ${formatShape(w.shape)} channels`);
    }
    const m = w.shape[1] * a.group;
    if (bi && (bi.shape.length !== 1 || bi.shape[0] !== m)) {
      throw new ShapeError('ConvTranspose', `bias ${formatShape(bi.shape)} does not match ${m} output channels`);
    }
    const out = [x.shape[0], m];
    for (let i = 0; i < nd; i++) {
      const o =
        a.strides[i] * (x.shape[2 + i] - 1) +
        op[i] +
        (w.shape[2 + i] - 1) * a.dilations[i] +
        1 -
        a.pads[i] -
        a.pads[i + nd];
      if (o < 1) throw new ShapeError('ConvTranspose', `output size ${o} < 1`);
      out.push(o);
    }
    return [{ shape: out, dtype: x.dtype }];
  },
  lower(ctx, [x, w, b], [out], attrs) {
    const a = convAttrs(attrs);
    const ws = ctx.infoOf(w).shape;
    const nd = ws.length - 2;
    ctx.node('ConvTranspose', b ? [x, w, b] : [x, w], [out], {
      ...onnxConvAttrs(a, ws.slice(2)),
      output_padding: { kind: 'ints', value: a.outputPadding ?? new Array(nd).fill(0) },
    });
  },
  interpret([x, w, b], attrs) {
    const a = convAttrs(attrs);
    const nd = w!.shape.length - 2;
    return [
      K.convTranspose(x!, w!, b, {
        strides: a.strides,
        dilations: a.dilations,
        pads: a.pads,
        group: a.group,
        outputPadding: a.outputPadding ?? new Array(nd).fill(0),
      }),
    ];
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Public op functions.

export function matmul(a: SymTensor, b: SymTensor): SymTensor {
  return a.builder.emit('MatMul', [a, b])[0];
}

/** torch.nn.Linear: x [..., in] · W[out, in]ᵀ + b[out] → [..., out]. */
export function linear(x: SymTensor, weight: SymTensor, bias?: SymTensor): SymTensor {
  return x.builder.emit('Linear', [x, weight, bias])[0];
}

export interface ConvOptions {
  /** One per spatial dim, or a single number for all (default 1). */
  stride?: number | readonly number[];
  dilation?: number | readonly number[];
  /**
   * Symmetric padding per spatial dim (number or one per dim), or ONNX-style asymmetric
   * [d1_begin, d2_begin, ..., d1_end, d2_end, ...] when given 2·nd entries.
   */
  padding?: number | readonly number[];
  groups?: number;
  /** ConvTranspose only. */
  outputPadding?: number | readonly number[];
}

function perDim(v: number | readonly number[] | undefined, nd: number, dflt: number, what: string): number[] {
  if (v === undefined) return new Array(nd).fill(dflt);
  if (typeof v === 'number') return new Array(nd).fill(v);
  if (v.length !== nd) throw new ShapeError('Conv', `${what} needs ${nd} entries, got ${v.length}`);
  return [...v];
}

function padsOf(p: number | readonly number[] | undefined, nd: number): number[] {
  if (p === undefined) return new Array(2 * nd).fill(0);
  if (typeof p === 'number') return new Array(2 * nd).fill(p);
  if (p.length === nd) return [...p, ...p];
  if (p.length === 2 * nd) return [...p];
  throw new ShapeError('Conv', `padding needs ${nd} or ${2 * nd} entries, got ${p.length}`);
}

function convAttrsOf(x: SymTensor, opts: ConvOptions, transpose: boolean): Attrs {
  const nd = x.rank - 2;
  if (nd < 1 || nd > 3) throw new ShapeError('Conv', `input must be 3-D, 4-D or 5-D, got ${formatShape(x.shape)}`);
  const attrs: Record<string, number | readonly number[]> = {
    strides: perDim(opts.stride, nd, 1, 'stride'),
    dilations: perDim(opts.dilation, nd, 1, 'dilation'),
    pads: padsOf(opts.padding, nd),
    group: opts.groups ?? 1,
  };
  if (transpose) attrs.outputPadding = perDim(opts.outputPadding, nd, 0, 'outputPadding');
  return attrs;
}

/** N-d convolution (torch.nn.Conv1d/2d/3d semantics): x [N, C, ...], weight [M, C/groups, ...k]. */
export function conv(x: SymTensor, weight: SymTensor, bias?: SymTensor, opts: ConvOptions = {}): SymTensor {
  return x.builder.emit('Conv', [x, weight, bias], convAttrsOf(x, opts, false))[0];
}

/** Transposed convolution (torch.nn.ConvTranspose semantics): weight [C, M/groups, ...k]. */
export function convTranspose(x: SymTensor, weight: SymTensor, bias?: SymTensor, opts: ConvOptions = {}): SymTensor {
  return x.builder.emit('ConvTranspose', [x, weight, bias], convAttrsOf(x, opts, true))[0];
}

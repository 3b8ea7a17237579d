/**
 * Elementwise primitives with numpy/ONNX broadcasting: arithmetic, comparison, unary math, activations, where, cast.
 */
import type { DType } from '../../tensor/dtype.ts';
import type { SymTensor } from '../builder.ts';
import { ShapeError } from '../errors.ts';
import * as K from '../interpreter/index.ts';
import type { Attrs, ValueInfo } from '../ir.ts';
import { ONNX_DTYPE } from '../onnx/model-proto.ts';
import { registerOp } from '../op-registry.ts';
import { broadcastShapes, FLOAT_DTYPES, NUMERIC_DTYPES, need, requireDType, requireSameDType } from './infer-utils.ts';

type Scalar = number;

const BINARY: Record<string, { onnx: string; fn: (a: number, b: number) => number; compare?: boolean }> = {
  Add: { onnx: 'Add', fn: (a, b) => a + b },
  Sub: { onnx: 'Sub', fn: (a, b) => a - b },
  Mul: { onnx: 'Mul', fn: (a, b) => a * b },
  Div: { onnx: 'Div', fn: (a, b) => a / b },
  Pow: { onnx: 'Pow', fn: (a, b) => a ** b },
  Max: { onnx: 'Max', fn: (a, b) => Math.max(a, b) },
  Min: { onnx: 'Min', fn: (a, b) => Math.min(a, b) },
  Equal: { onnx: 'Equal', fn: (a, b) => +(a === b), compare: true },
  Less: { onnx: 'Less', fn: (a, b) => +(a < b), compare: true },
  LessOrEqual: { onnx: 'LessOrEqual', fn: (a, b) => +(a <= b), compare: true },
  Greater: { onnx: 'Greater', fn: (a, b) => +(a > b), compare: true },
  GreaterOrEqual: { onnx: 'GreaterOrEqual', fn: (a, b) => +(a >= b), compare: true },
  And: { onnx: 'And', fn: (a, b) => +(a !== 0 && b !== 0), compare: true },
  Or: { onnx: 'Or', fn: (a, b) => +(a !== 0 || b !== 0), compare: true },
};

for (const [name, spec] of Object.entries(BINARY)) {
  registerOp({
    name,
    infer([a, b]) {
      const x = need(name, a, 'A');
      const y = need(name, b, 'B');
      requireSameDType(name, x, y);
      if (name === 'And' || name === 'Or') requireDType(name, x, ['bool']);
      else requireDType(name, x, NUMERIC_DTYPES);
      return [{ shape: broadcastShapes(name, x.shape, y.shape), dtype: spec.compare ? 'bool' : x.dtype }];
    },
    lower(ctx, [a, b], [out]) {
      ctx.node(spec.onnx, [a, b], [out]);
    },
    interpret([a, b]) {
      return [K.binary(a!, b!, spec.fn)];
    },
  });
}

const erfFn = K.erf;
const UNARY: Record<string, { fn: (x: number) => number; lower: (x: string) => [string, string][] | string }> = {
  Neg: { fn: (x) => -x, lower: () => 'Neg' },
  Abs: { fn: Math.abs, lower: () => 'Abs' },
  Exp: { fn: Math.exp, lower: () => 'Exp' },
  Log: { fn: Math.log, lower: () => 'Log' },
  Sqrt: { fn: Math.sqrt, lower: () => 'Sqrt' },
  Reciprocal: { fn: (x) => 1 / x, lower: () => 'Reciprocal' },
  Rsqrt: {
    fn: (x) => 1 / Math.sqrt(x),
    lower: () => [
      ['Sqrt', ''],
      ['Reciprocal', ''],
    ],
  },
  Sin: { fn: Math.sin, lower: () => 'Sin' },
  Cos: { fn: Math.cos, lower: () => 'Cos' },
  Tanh: { fn: Math.tanh, lower: () => 'Tanh' },
  Erf: { fn: erfFn, lower: () => 'Erf' },
  Sigmoid: { fn: (x) => 1 / (1 + Math.exp(-x)), lower: () => 'Sigmoid' },
  Relu: { fn: (x) => Math.max(x, 0), lower: () => 'Relu' },
  Not: { fn: (x) => +(x === 0), lower: () => 'Not' },
};

for (const [name, spec] of Object.entries(UNARY)) {
  registerOp({
    name,
    infer([a]) {
      const x = need(name, a, 'X');
      requireDType(
        name,
        x,
        name === 'Not' ? ['bool'] : name === 'Neg' || name === 'Abs' ? NUMERIC_DTYPES : FLOAT_DTYPES,
      );
      return [{ shape: x.shape, dtype: x.dtype }];
    },
    lower(ctx, [x], [out]) {
      const plan = spec.lower(x);
      if (typeof plan === 'string') {
        ctx.node(plan, [x], [out]);
        return;
      }
      let cur = x;
      plan.forEach(([op], i) => {
        cur = ctx.node(op, [cur], i === plan.length - 1 ? [out] : 1);
      });
    },
    interpret([x]) {
      return [K.unary(x!, spec.fn)];
    },
  });
}

/** SiLU(x) = x·σ(x) (sgm `nn.SiLU`). Lowered as Sigmoid + Mul, which ORT fuses on CPU. */
registerOp({
  name: 'Silu',
  infer([a]) {
    const x = need('Silu', a, 'X');
    requireDType('Silu', x, FLOAT_DTYPES);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  lower(ctx, [x], [out]) {
    const s = ctx.node('Sigmoid', [x]);
    ctx.node('Mul', [x, s], [out]);
  },
  interpret([x]) {
    return [K.unary(x!, (v) => v / (1 + Math.exp(-v)))];
  },
});

/** GELU, exact (erf) or tanh approximation: ONNX Gelu-20. */
registerOp({
  name: 'Gelu',
  infer([a]) {
    const x = need('Gelu', a, 'X');
    requireDType('Gelu', x, FLOAT_DTYPES);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  lower(ctx, [x], [out], attrs) {
    ctx.node('Gelu', [x], [out], { approximate: { kind: 'string', value: attrs.approximate as string } });
  },
  interpret([x], attrs) {
    const tanh = attrs.approximate === 'tanh';
    const c = Math.sqrt(2 / Math.PI);
    return [
      K.unary(x!, (v) =>
        tanh ? 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v))) : 0.5 * v * (1 + erfFn(v / Math.SQRT2)),
      ),
    ];
  },
});

registerOp({
  name: 'Where',
  infer([c, a, b]) {
    const cond = need('Where', c, 'condition');
    const x = need('Where', a, 'X');
    const y = need('Where', b, 'Y');
    requireDType('Where', cond, ['bool'], 'condition');
    requireSameDType('Where', x, y);
    return [
      { shape: broadcastShapes('Where', broadcastShapes('Where', cond.shape, x.shape), y.shape), dtype: x.dtype },
    ];
  },
  lower(ctx, inputs, [out]) {
    ctx.node('Where', inputs, [out]);
  },
  interpret([c, a, b]) {
    return [K.where(c!, a!, b!)];
  },
});

registerOp({
  name: 'Cast',
  infer([a], attrs) {
    const x = need('Cast', a, 'X');
    const to = attrs.to as DType;
    if (!(to in ONNX_DTYPE)) throw new ShapeError('Cast', `unknown target dtype ${String(to)}`);
    return [{ shape: x.shape, dtype: to }];
  },
  lower(ctx, [x], [out], attrs) {
    ctx.node('Cast', [x], [out], { to: { kind: 'int', value: ONNX_DTYPE[attrs.to as DType] } });
  },
  interpret([x], attrs) {
    return [K.cast(x!, attrs.to as DType)];
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Public op functions.

function lift(ref: SymTensor, v: SymTensor | Scalar): SymTensor {
  return typeof v === 'number' ? ref.builder.constant(v, ref.dtype) : v;
}

function bin(op: string, a: SymTensor | Scalar, b: SymTensor | Scalar): SymTensor {
  const ref = typeof a === 'number' ? (b as SymTensor) : a;
  if (typeof ref === 'number') throw new ShapeError(op, 'at least one operand must be a tensor');
  return ref.builder.emit(op, [lift(ref, a), lift(ref, b)])[0];
}

export const add = (a: SymTensor | Scalar, b: SymTensor | Scalar) => bin('Add', a, b);
export const sub = (a: SymTensor | Scalar, b: SymTensor | Scalar) => bin('Sub', a, b);
export const mul = (a: SymTensor | Scalar, b: SymTensor | Scalar) => bin('Mul', a, b);
export const div = (a: SymTensor | Scalar, b: SymTensor | Scalar) => bin('Div', a, b);
export const pow = (a: SymTensor | Scalar, b: SymTensor | Scalar) => bin('Pow', a, b);
export const maximum = (a: SymTensor | Scalar, b: SymTensor | Scalar) => bin('Max', a, b);
export const minimum = (a: SymTensor | Scalar, b: SymTensor | Scalar) => bin('Min', a, b);
export const equal = (a: SymTensor | Scalar, b: SymTensor | Scalar) => bin('Equal', a, b);
export const less = (a: SymTensor | Scalar, b: SymTensor | Scalar) => bin('Less', a, b);
export const lessEqual = (a: SymTensor | Scalar, b: SymTensor | Scalar) => bin('LessOrEqual', a, b);
export const greater = (a: SymTensor | Scalar, b: SymTensor | Scalar) => bin('Greater', a, b);
export const greaterEqual = (a: SymTensor | Scalar, b: SymTensor | Scalar) => bin('GreaterOrEqual', a, b);
export const logicalAnd = (a: SymTensor, b: SymTensor) => bin('And', a, b);
export const logicalOr = (a: SymTensor, b: SymTensor) => bin('Or', a, b);

const un = (op: string) => (x: SymTensor) => x.builder.emit(op, [x])[0];
export const neg = un('Neg');
export const abs = un('Abs');
export const exp = un('Exp');
export const log = un('Log');
export const sqrt = un('Sqrt');
export const reciprocal = un('Reciprocal');
export const rsqrt = un('Rsqrt');
export const sin = un('Sin');
export const cos = un('Cos');
export const tanh = un('Tanh');
export const erf = un('Erf');
export const sigmoid = un('Sigmoid');
export const relu = un('Relu');
export const logicalNot = un('Not');
/** SiLU / swish: x·σ(x). */
export const silu = un('Silu');

/** GELU; `approximate: 'tanh'` is the tanh form (sgm uses the exact erf form in GEGLU). */
export function gelu(x: SymTensor, approximate: 'none' | 'tanh' = 'none'): SymTensor {
  return x.builder.emit('Gelu', [x], { approximate })[0];
}

/** Elementwise select: cond ? a : b (broadcasting). */
export function where(cond: SymTensor, a: SymTensor | Scalar, b: SymTensor | Scalar): SymTensor {
  const ref = typeof a === 'number' ? (b as SymTensor) : a;
  return cond.builder.emit('Where', [cond, lift(ref, a), lift(ref, b)])[0];
}

export function cast(x: SymTensor, to: DType): SymTensor {
  if (x.dtype === to) return x;
  return x.builder.emit('Cast', [x], { to })[0];
}

export type { Attrs, ValueInfo };

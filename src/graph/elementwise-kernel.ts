/**
 * A graph of float32 elementwise arithmetic compiled into one fused loop over typed arrays (DESIGN.md decision 10):
 * e.g. the AdamW update of every parameter tensor in one pass per tensor, reading the parameter, its moments and its
 * gradient once and writing the new values in place, instead of ~12 separate ONNX ops per tensor each with its own
 * launch and full memory pass.
 *
 * The graph describes one element: every value is a float32 scalar ([]). Some inputs vary per element (one array
 * each, `elements`), the others are uniform per call (`scalars`). Every op is the correctly rounded IEEE float32
 * operation, as ORT's CPU kernels compute it, so the loop gives the same bits as the same graph run by ORT (tested):
 * the WebAssembly SIMD form (elementwise-kernel-wasm.ts, four lanes of f32 arithmetic) where the runtime has it, else
 * a JS loop that rounds every result to float32 (`Math.fround`; float64 holds the exact sum, product, quotient and
 * square root of floats well enough that rounding it once gives the float32 result: 53 ≥ 2·24 + 2 bits).
 */
import { wasmKernel } from './elementwise-kernel-wasm.ts';
import { GraphError } from './errors.ts';
import type { Graph } from './ir.ts';

/** What to compile: the per-element graph, which inputs are arrays, and which array each output overwrites. */
export interface ElementwiseKernelSpec {
  graph: Graph;
  /** Inputs that vary per element (one Float32Array each, in this order); the other inputs are uniform scalars. */
  elements: readonly string[];
  /** Output name → the element input whose array it overwrites in place. */
  writes: Readonly<Record<string, string>>;
}

export type KernelOp = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Sqrt' | 'Neg';

/**
 * An operand: `x<k>` element k's value, `s<k>` scalar k, `c<k>` constant k, `t<k>` the result of instruction k.
 */
export type Operand = string;

/** The kernel as straight-line code over one element: plain data (it travels to the engine worker). */
export interface KernelProgram {
  /** Number of arrays per call. */
  arrays: number;
  /** The arrays whose values are read, by index. */
  reads: number[];
  scalars: number;
  /** Constant values (float32). */
  consts: number[];
  code: { op: KernelOp; args: Operand[] }[];
  /** Values written back, after all reads of the element. */
  stores: { array: number; value: Operand }[];
}

/** A compiled kernel; `instantiateKernel` turns it into a function. */
export interface ElementwiseKernel {
  readonly name: string;
  /** Per-element inputs, in the order of the arrays a call passes. */
  readonly elements: readonly string[];
  /** Uniform inputs, in the order of the scalars a call passes. */
  readonly scalars: readonly string[];
  readonly program: KernelProgram;
}

/** The kernel as a function: updates `arrays` (all of length ≥ n) in place for elements 0 … n−1. */
export type KernelFn = (arrays: readonly Float32Array[], scalars: readonly number[], n: number) => void;

const OPS = new Set<string>(['Add', 'Sub', 'Mul', 'Div', 'Sqrt', 'Neg']);

export function compileElementwiseKernel(spec: ElementwiseKernelSpec): ElementwiseKernel {
  const { graph } = spec;
  const fail = (msg: string): never => {
    throw new GraphError(`elementwise kernel "${graph.name}": ${msg}`);
  };
  for (const [id, info] of graph.values.entries()) {
    if (info.shape.length !== 0 || info.dtype !== 'float32')
      fail(`value %${id} is ${info.dtype} [${info.shape}]; every value must be a float32 scalar`);
  }
  const inputId = new Map(graph.inputs.map((i) => [i.name, i.value]));
  for (const e of spec.elements) if (!inputId.has(e)) fail(`element input "${e}" is not an input`);
  const elementSet = new Set(spec.elements);
  const scalars = graph.inputs.map((i) => i.name).filter((n) => !elementSet.has(n));
  const written = new Set<string>();
  for (const o of graph.outputs) {
    const target = spec.writes[o.name];
    if (target === undefined || !elementSet.has(target)) fail(`output "${o.name}" must write an element input`);
    if (written.has(target)) fail(`two outputs write "${target}"`);
    written.add(target);
  }

  // Only the nodes that reach an output, in order.
  const live = new Set(graph.outputs.map((o) => o.value));
  const nodes = [...graph.nodes].reverse().filter((node) => {
    if (!node.outputs.some((o) => live.has(o))) return false;
    for (const i of node.inputs) live.add(i);
    return true;
  });
  nodes.reverse();

  const operand = new Map<number, Operand>();
  const reads: number[] = [];
  spec.elements.forEach((e, k) => {
    const id = inputId.get(e)!;
    operand.set(id, `x${k}`);
    if (live.has(id)) reads.push(k);
  });
  scalars.forEach((s, k) => {
    operand.set(inputId.get(s)!, `s${k}`);
  });
  const consts: number[] = [];
  for (const [id, t] of graph.constants) {
    operand.set(id, `c${consts.length}`);
    consts.push(Math.fround((t.data as Float32Array)[0]));
  }
  const code = nodes.map((node, k) => {
    if (!OPS.has(node.op)) fail(`op ${node.op} is not supported (${[...OPS].join(', ')})`);
    const args = node.inputs.map((i) => operand.get(i) ?? fail(`node ${node.op} reads an unknown value %${i}`));
    operand.set(node.outputs[0], `t${k}`);
    return { op: node.op as KernelOp, args };
  });
  const stores = graph.outputs.map((o) => ({
    array: spec.elements.indexOf(spec.writes[o.name]),
    value: operand.get(o.value)!,
  }));
  return {
    name: graph.name,
    elements: [...spec.elements],
    scalars,
    program: { arrays: spec.elements.length, reads, scalars: scalars.length, consts, code, stores },
  };
}

/** A float32 value as a JS literal that reads back exactly (−0, NaN and ±∞ included). */
function literal(v: number): string {
  if (Object.is(v, -0)) return '-0';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return `(${String(v)})`;
}

const JS_BINARY: Record<string, string> = { Add: '+', Sub: '-', Mul: '*', Div: '/' };

/** The JS form of a program: the body of `function (arrays, scalars, n)`. */
export function kernelSource(p: KernelProgram): string {
  const ref = (o: Operand) => (o[0] === 'c' ? literal(p.consts[Number(o.slice(1))]) : o);
  const head = ['"use strict";', 'const f = Math.fround, sqrt = Math.sqrt;'];
  for (let k = 0; k < p.arrays; k++) head.push(`const a${k} = arrays[${k}];`);
  for (let k = 0; k < p.scalars; k++) head.push(`const s${k} = f(scalars[${k}]);`);
  const body = p.reads.map((k) => `const x${k} = a${k}[i];`);
  p.code.forEach(({ op, args }, k) => {
    const [a, b] = args.map(ref);
    const expr = op === 'Sqrt' ? `f(sqrt(${a}))` : op === 'Neg' ? `(-${a})` : `f(${a} ${JS_BINARY[op]} ${b})`;
    body.push(`const t${k} = ${expr};`);
  });
  for (const s of p.stores) body.push(`a${s.array}[i] = ${ref(s.value)};`);
  return [...head, 'for (let i = 0; i < n; i++) {', ...body.map((l) => `  ${l}`), '}', ''].join('\n');
}

/**
 * The kernel as a function (code generated from our own IR only): WebAssembly SIMD when `simd` allows and the
 * runtime supports it, else the JS loop.
 */
export function instantiateKernel(kernel: ElementwiseKernel, opts: { simd?: boolean } = {}): KernelFn {
  if (opts.simd !== false) {
    const fn = wasmKernel(kernel.program);
    if (fn) return fn;
  }
  return new Function('arrays', 'scalars', 'n', kernelSource(kernel.program)) as KernelFn;
}

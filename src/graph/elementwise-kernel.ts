/**
 * A graph of float32 elementwise arithmetic compiled into one fused loop over typed arrays (DESIGN.md decision 10):
 * e.g. the AdamW update of every parameter tensor in one pass per tensor, reading the parameter, its moments and its
 * gradient once and writing the new values in place, instead of ~12 separate ONNX ops per tensor each with its own
 * launch and full memory pass.
 *
 * The graph describes one element: every value is a float32 scalar ([]). Some inputs vary per element (one array
 * each, `elements`), the others are uniform per call (`scalars`). Every op rounds its result to float32
 * (`Math.fround`), so each op is the correctly rounded IEEE float32 operation, as ORT's CPU kernels compute it:
 * float64 holds the exact sum, product and quotient of two floats well enough that rounding it to float32 gives the
 * correctly rounded float32 result (53 ≥ 2·24 + 2 bits), and likewise for the square root. The loop therefore gives
 * the same bits as the same graph run by ORT (tested), only faster.
 */
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

/** A compiled kernel: plain data (it travels to the engine worker), instantiated with `instantiateKernel`. */
export interface ElementwiseKernel {
  readonly name: string;
  /** The body of `function (arrays, scalars, n)`. */
  readonly source: string;
  /** Per-element inputs, in the order of the arrays a call passes. */
  readonly elements: readonly string[];
  /** Uniform inputs, in the order of the scalars a call passes. */
  readonly scalars: readonly string[];
}

/** The kernel as a function: updates `arrays` (all of length ≥ n) in place for elements 0 … n−1. */
export type KernelFn = (arrays: readonly Float32Array[], scalars: readonly number[], n: number) => void;

const BINARY: Record<string, string> = { Add: '+', Sub: '-', Mul: '*', Div: '/' };

/** A float32 value as a JS literal that reads back exactly (−0, NaN and ±∞ included). */
function literal(v: number): string {
  if (Object.is(v, -0)) return '-0';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return `(${String(Math.fround(v))})`;
}

export function compileElementwiseKernel(spec: ElementwiseKernelSpec): ElementwiseKernel {
  const { graph } = spec;
  const fail = (msg: string): never => {
    throw new GraphError(`elementwise kernel "${graph.name}": ${msg}`);
  };
  for (const [id, info] of graph.values.entries()) {
    if (info.shape.length !== 0 || info.dtype !== 'float32')
      fail(`value %${id} is ${info.dtype} [${info.shape}]; every value must be a float32 scalar`);
  }
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  for (const e of spec.elements) if (!inputNames.has(e)) fail(`element input "${e}" is not an input`);
  const elementSet = new Set(spec.elements);
  const scalars = graph.inputs.map((i) => i.name).filter((n) => !elementSet.has(n));
  const written = new Set<string>();
  for (const o of graph.outputs) {
    const target = spec.writes[o.name];
    if (target === undefined || !elementSet.has(target)) fail(`output "${o.name}" must write an element input`);
    if (written.has(target)) fail(`two outputs write "${target}"`);
    written.add(target);
  }

  // Only the nodes that reach an output.
  const live = new Set(graph.outputs.map((o) => o.value));
  const nodes = [...graph.nodes].reverse().filter((node) => {
    if (!node.outputs.some((o) => live.has(o))) return false;
    for (const i of node.inputs) live.add(i);
    return true;
  });
  nodes.reverse();

  const name = new Map<number, string>();
  const head: string[] = ['"use strict";', 'const f = Math.fround, sqrt = Math.sqrt;'];
  const load: string[] = [];
  spec.elements.forEach((e, k) => {
    const id = graph.inputs.find((i) => i.name === e)!.value;
    head.push(`const a${k} = arrays[${k}];`);
    if (live.has(id)) {
      name.set(id, `x${k}`);
      load.push(`const x${k} = a${k}[i];`);
    }
  });
  scalars.forEach((s, k) => {
    const id = graph.inputs.find((i) => i.name === s)!.value;
    head.push(`const s${k} = f(scalars[${k}]);`);
    name.set(id, `s${k}`);
  });
  for (const [id, t] of graph.constants) name.set(id, literal((t.data as Float32Array)[0]));
  const body: string[] = [];
  for (const node of nodes) {
    const [a, b] = node.inputs.map((i) => name.get(i) ?? fail(`node ${node.op} reads an unknown value %${i}`));
    const out = node.outputs[0];
    let expr: string;
    if (BINARY[node.op]) expr = `f(${a} ${BINARY[node.op]} ${b})`;
    else if (node.op === 'Sqrt') expr = `f(sqrt(${a}))`;
    else if (node.op === 'Neg') expr = `(-${a})`;
    else expr = fail(`op ${node.op} is not supported (Add, Sub, Mul, Div, Sqrt, Neg)`);
    name.set(out, `t${out}`);
    body.push(`const t${out} = ${expr};`);
  }
  const store = graph.outputs.map((o) => `a${spec.elements.indexOf(spec.writes[o.name])}[i] = ${name.get(o.value)};`);
  const source = [...head, 'for (let i = 0; i < n; i++) {', ...[...load, ...body, ...store].map((l) => `  ${l}`), '}']
    .join('\n')
    .concat('\n');
  return { name: graph.name, source, elements: [...spec.elements], scalars };
}

/** A kernel's source as a function (code generated by `compileElementwiseKernel` from our own IR only). */
export function instantiateKernel(source: string): KernelFn {
  return new Function('arrays', 'scalars', 'n', source) as KernelFn;
}

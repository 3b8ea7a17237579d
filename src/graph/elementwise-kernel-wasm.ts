/**
 * The WebAssembly SIMD form of an elementwise kernel program (elementwise-kernel.ts): four float32 lanes per
 * instruction (`f32x4.add/sub/mul/div/sqrt/neg`, each the correctly rounded IEEE operation per lane, as the JS loop
 * and ORT compute it). The module is written here byte by byte (WebAssembly core spec 2.0, binary format §5) from
 * our own IR, so no toolchain is involved.
 *
 * Wasm code reads only its own linear memory, so the arrays go through it in chunks: each chunk of the arrays the
 * kernel reads is copied in (cache-resident, `TypedArray.set`), transformed, and the written arrays are copied back.
 */
import type { KernelFn, KernelProgram, Operand } from './elementwise-kernel.ts';

/** The few members of the WebAssembly JS API used here (Node has the global; the ES2022 lib declares no types). */
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/** Elements per array per chunk (16 KiB per array: a handful of arrays stays in L2). */
const CHUNK = 4096;

const OPCODE: Record<string, number> = { Neg: 0xe1, Sqrt: 0xe3, Add: 0xe4, Sub: 0xe5, Mul: 0xe6, Div: 0xe7 };
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const simd = (op: number): number[] => [0xfd, ...uleb(op)];

/** The module's bytes: `run(bytes: i32, ...scalars: f32)` over `bytes / 16` groups of four lanes; memory `mem`. */
function encode(p: KernelProgram): Uint8Array {
  const scalarBase = 1; // local 0 is the byte count
  const iLocal = scalarBase + p.scalars;
  let next = iLocal + 1;
  const local = new Map<Operand, number>();
  const v128 = (o: Operand) => {
    local.set(o, next);
    return next++;
  };
  const body: number[] = [];
  for (let k = 0; k < p.scalars; k++)
    body.push(0x20, ...uleb(scalarBase + k), ...simd(0x13), 0x21, ...uleb(v128(`s${k}`)));
  p.consts.forEach((c, k) => {
    const lane = new Uint8Array(Float32Array.of(c).buffer);
    body.push(...simd(0x0c), ...lane, ...lane, ...lane, ...lane, 0x21, ...uleb(v128(`c${k}`)));
  });
  for (const k of p.reads) v128(`x${k}`);
  for (let k = 0; k < p.code.length; k++) v128(`t${k}`);
  const get = (o: Operand) => [0x20, ...uleb(local.get(o)!)];
  const memarg = (array: number) => [4, ...uleb(array * CHUNK * 4)];
  body.push(0x02, 0x40, 0x03, 0x40); // block, loop
  body.push(0x20, ...uleb(iLocal), 0x20, 0, 0x4f, 0x0d, 1); // i >= bytes → break
  for (const k of p.reads)
    body.push(0x20, ...uleb(iLocal), ...simd(0x00), ...memarg(k), 0x21, ...uleb(local.get(`x${k}`)!));
  p.code.forEach(({ op, args }, k) => {
    for (const a of args) body.push(...get(a));
    body.push(...simd(OPCODE[op]), 0x21, ...uleb(local.get(`t${k}`)!));
  });
  for (const s of p.stores) body.push(0x20, ...uleb(iLocal), ...get(s.value), ...simd(0x0b), ...memarg(s.array));
  body.push(0x20, ...uleb(iLocal), 0x41, 16, 0x6a, 0x21, ...uleb(iLocal)); // i += 16
  body.push(0x0c, 0, 0x0b, 0x0b, 0x0b); // br loop; end loop; end block; end function
  const locals = vec([
    [1, I32],
    [...uleb(next - iLocal - 1), V128],
  ]);
  const code = [...locals, ...body];
  const pages = Math.max(1, Math.ceil((p.arrays * CHUNK * 4) / 65536));
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([[I32], ...Array.from({ length: p.scalars }, () => [F32])]), 0]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(
      7,
      vec([
        [...name('run'), 0x00, 0],
        [...name('mem'), 0x02, 0],
      ]),
    ),
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ];
  return Uint8Array.from(bytes);
}

/** The program as a SIMD kernel function, or undefined where WebAssembly SIMD is not available. */
export function wasmKernel(p: KernelProgram): KernelFn | undefined {
  if (typeof WebAssembly === 'undefined') return undefined;
  const bytes = encode(p);
  if (!WebAssembly.validate(bytes)) return undefined;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const mem = new Float32Array((instance.exports.mem as { buffer: ArrayBuffer }).buffer);
  const run = instance.exports.run as (...args: number[]) => void;
  const args = new Array<number>(1 + p.scalars).fill(0);
  const written = [...new Set(p.stores.map((s) => s.array))];
  return (arrays, scalars, n) => {
    for (let k = 0; k < p.scalars; k++) args[k + 1] = scalars[k];
    for (let off = 0; off < n; off += CHUNK) {
      const len = Math.min(CHUNK, n - off);
      for (const k of p.reads) mem.set(arrays[k].subarray(off, off + len), k * CHUNK);
      args[0] = Math.ceil(len / 4) * 16;
      run(...args);
      for (const k of written) arrays[k].set(mem.subarray(k * CHUNK, k * CHUNK + len), off);
    }
  };
}

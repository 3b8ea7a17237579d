/**
 * Reading a PyTorch `torch.save` file (the zip format of torch ≥ 1.6) without Python: a zip archive `<name>/data.pkl`
 * (a pickle of the saved object) + `<name>/data/<key>` (each storage's raw little-endian bytes). Only what a saved
 * state dict needs is understood — the pickle is interpreted by a restricted machine that knows the protocol-2…5
 * opcodes torch writes and exactly these callables: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
 * `torch._utils._rebuild_parameter`, and the typed storage classes as persistent ids. Anything else (arbitrary
 * classes, code) is refused with a {@link TorchFileError}; nothing from the file is ever executed.
 *
 * Tensors come back as float32 {@link HostTensor}s (float16, bfloat16 and float64 storages are converted), with
 * their storage offset and strides applied.
 */
import { readFile } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { bfloat16ArrayToFloat32, float16ArrayToFloat32 } from '../tensor/half.ts';
import { HostTensor } from '../tensor/host-tensor.ts';

export class TorchFileError extends Error {
  override name = 'TorchFileError';
}

/** The entries of a zip archive (stored or deflated), by name. */
export function readZipEntries(bytes: Uint8Array, label = '<zip>'): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new TorchFileError(`${label} is not a zip archive (no end-of-central-directory record)`);
  let count = view.getUint16(eocd + 10, true);
  let dirOffset = view.getUint32(eocd + 16, true);
  if (dirOffset === 0xffffffff || count === 0xffff) {
    const loc = eocd - 20; // zip64 end-of-central-directory locator
    if (loc < 0 || view.getUint32(loc, true) !== 0x07064b50) throw new TorchFileError(`${label}: bad zip64 locator`);
    const rec = Number(view.getBigUint64(loc + 8, true));
    count = Number(view.getBigUint64(rec + 32, true));
    dirOffset = Number(view.getBigUint64(rec + 48, true));
  }
  const out = new Map<string, Uint8Array>();
  let p = dirOffset;
  for (let n = 0; n < count; n++) {
    if (view.getUint32(p, true) !== 0x02014b50) throw new TorchFileError(`${label}: bad zip central directory`);
    const method = view.getUint16(p + 10, true);
    let compressed = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information (header id 1): the 64-bit values of the fields that are 0xffffffff, in this order.
    for (let e = p + 46 + nameLen; e < p + 46 + nameLen + extraLen; ) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const next = () => {
          const v = Number(view.getBigUint64(q, true));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressed === 0xffffffff) compressed = next();
        if (local === 0xffffffff) local = next();
      }
      e += 4 + len;
    }
    if (view.getUint32(local, true) !== 0x04034b50) throw new TorchFileError(`${label}: bad zip entry ${name}`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = bytes.subarray(start, start + compressed);
    if (method === 0) out.set(name, raw);
    else if (method === 8) out.set(name, new Uint8Array(inflateRawSync(raw)));
    else throw new TorchFileError(`${label}: zip entry ${name} uses compression method ${method}`);
    if (out.get(name)!.length !== size) throw new TorchFileError(`${label}: zip entry ${name} is truncated`);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

const STORAGE_DTYPES: Readonly<Record<string, { bytes: number; kind: 'f32' | 'f16' | 'bf16' | 'f64' }>> = {
  FloatStorage: { bytes: 4, kind: 'f32' },
  HalfStorage: { bytes: 2, kind: 'f16' },
  BFloat16Storage: { bytes: 2, kind: 'bf16' },
  DoubleStorage: { bytes: 8, kind: 'f64' },
};

interface StorageRef {
  readonly kind: 'storage';
  readonly type: string;
  readonly key: string;
  readonly numel: number;
}
interface Global {
  readonly kind: 'global';
  readonly name: string;
}
interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly size: number[];
  readonly stride: number[];
}
class Mark {}
type Value = unknown;

const ALLOWED_GLOBALS = new Set([
  'collections OrderedDict',
  'torch._utils _rebuild_tensor_v2',
  'torch._utils _rebuild_parameter',
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch ${s}`),
]);

/** Interprets a torch state-dict pickle; returns the top-level dictionary (name → tensor reference or value). */
function unpickleStateDict(pkl: Uint8Array, label: string): Map<Value, Value> {
  const view = new DataView(pkl.buffer, pkl.byteOffset, pkl.byteLength);
  const dec = new TextDecoder();
  const stack: Value[] = [];
  const memo = new Map<number, Value>();
  let pos = 0;
  const fail = (why: string): never => {
    throw new TorchFileError(`${label}: ${why} (byte ${pos}); only plain state dicts of tensors can be read`);
  };
  const popMark = (): Value[] => {
    for (let i = stack.length - 1; i >= 0; i--) {
      if (stack[i] instanceof Mark) return stack.splice(i).slice(1);
    }
    return fail('no MARK on the stack');
  };
  const line = () => {
    const end = pkl.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated line');
    const s = dec.decode(pkl.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const str = (n: number) => {
    const s = dec.decode(pkl.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const global = (mod: string, name: string): Global => {
    const full = `${mod} ${name}`;
    if (!ALLOWED_GLOBALS.has(full)) fail(`refusing the global ${mod}.${name}`);
    return { kind: 'global', name: full };
  };
  const call = (fn: Value, args: Value): Value => {
    const g = fn as Global;
    const a = args as Value[];
    if (g?.kind !== 'global' || !Array.isArray(a)) return fail('REDUCE of something that is not an allowed callable');
    if (g.name === 'collections OrderedDict') return new Map();
    if (g.name === 'torch._utils _rebuild_parameter') return a[0];
    if (g.name === 'torch._utils _rebuild_tensor_v2') {
      const [storage, offset, size, stride] = a as [StorageRef, number, number[], number[]];
      if ((storage as StorageRef)?.kind !== 'storage') fail('tensor without a storage');
      return { kind: 'tensor', storage, offset, size: [...size], stride: [...stride] } satisfies TensorRef;
    }
    return fail(`cannot call ${g.name}`);
  };
  for (;;) {
    if (pos >= pkl.length) fail('no STOP');
    const op = pkl[pos++];
    switch (op) {
      case 0x80: // PROTO
        pos += 1;
        break;
      case 0x95: // FRAME
        pos += 8;
        break;
      case 0x63: {
        // GLOBAL 'c'
        const mod = line();
        stack.push(global(mod, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = stack.pop() as string;
        stack.push(global(stack.pop() as string, name));
        break;
      }
      case 0x71: // BINPUT
        memo.set(pkl[pos++], stack[stack.length - 1]);
        break;
      case 0x72: // LONG_BINPUT
        memo.set(view.getUint32(pos, true), stack[stack.length - 1]);
        pos += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, stack[stack.length - 1]);
        break;
      case 0x68: // BINGET
        stack.push(memo.get(pkl[pos++]));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memo.get(view.getUint32(pos, true)));
        pos += 4;
        break;
      case 0x28: // MARK
        stack.push(new Mark());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([stack.pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = stack.pop();
        stack.push([stack.pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = stack.pop();
        const b = stack.pop();
        stack.push([stack.pop(), b, c]);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x61: {
        // APPEND
        const v = stack.pop();
        (stack[stack.length - 1] as Value[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        (stack[stack.length - 1] as Value[]).push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x73: {
        // SETITEM
        const v = stack.pop();
        const k = stack.pop();
        (stack[stack.length - 1] as Map<Value, Value>).set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const d = stack[stack.length - 1] as Map<Value, Value>;
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x58: // BINUNICODE
        pos += 4;
        stack.push(str(view.getUint32(pos - 4, true)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        pos += 1;
        stack.push(str(pkl[pos - 1]));
        break;
      case 0x8d: // BINUNICODE8
        pos += 8;
        stack.push(str(Number(view.getBigUint64(pos - 8, true))));
        break;
      case 0x55: // SHORT_BINSTRING
        pos += 1;
        stack.push(str(pkl[pos - 1]));
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(pkl[pos++]);
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(pos, true));
        pos += 2;
        break;
      case 0x8a: {
        // LONG1
        const n = pkl[pos++];
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(pkl[pos + i]);
        if (n > 0 && pkl[pos + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        pos += n;
        stack.push(Number(v));
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x52: {
        // REDUCE
        const args = stack.pop();
        stack.push(call(stack.pop(), args));
        break;
      }
      case 0x62: // BUILD: the state of an OrderedDict (its _metadata) is not needed
        stack.pop();
        break;
      case 0x51: {
        // BINPERSID: ('storage', storage type, key, location, numel)
        const pid = stack.pop() as Value[];
        const type = (pid?.[1] as Global | undefined)?.name.replace(/^torch /, '');
        if (pid?.[0] !== 'storage' || !type || !(type in STORAGE_DTYPES)) {
          fail(`unsupported persistent id ${JSON.stringify(pid?.[0])} ${type ?? ''}`);
        }
        stack.push({ kind: 'storage', type: type!, key: String(pid[2]), numel: Number(pid[4]) } satisfies StorageRef);
        break;
      }
      case 0x2e: {
        // STOP
        const top = stack.pop();
        if (!(top instanceof Map)) fail('the saved object is not a dictionary');
        return top as Map<Value, Value>;
      }
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)}`);
    }
  }
}

function materialise(t: TensorRef, data: Uint8Array, label: string, name: string): HostTensor<'float32'> {
  const dt = STORAGE_DTYPES[t.storage.type];
  if (data.length < t.storage.numel * dt.bytes) throw new TorchFileError(`${label}: storage of ${name} is truncated`);
  const copy = new Uint8Array(data); // aligned
  const all =
    dt.kind === 'f32'
      ? new Float32Array(copy.buffer, 0, t.storage.numel)
      : dt.kind === 'f64'
        ? Float32Array.from(new Float64Array(copy.buffer, 0, t.storage.numel))
        : dt.kind === 'f16'
          ? float16ArrayToFloat32(new Uint16Array(copy.buffer, 0, t.storage.numel))
          : bfloat16ArrayToFloat32(new Uint16Array(copy.buffer, 0, t.storage.numel));
  const n = t.size.reduce((a, d) => a * d, 1);
  const out = new Float32Array(n);
  const idx = new Array<number>(t.size.length).fill(0);
  for (let i = 0; i < n; i++) {
    let src = t.offset;
    for (let d = 0; d < idx.length; d++) src += idx[d] * t.stride[d];
    if (src >= all.length) throw new TorchFileError(`${label}: ${name} reads past its storage`);
    out[i] = all[src];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < t.size[d]) break;
      idx[d] = 0;
    }
  }
  return HostTensor.float32(t.size, out);
}

/** Reads a `torch.save`d state dict (bytes or a path): every tensor entry as float32, in file order. */
export async function readTorchStateDict(
  source: string | Uint8Array,
  label?: string,
): Promise<Map<string, HostTensor<'float32'>>> {
  const name = label ?? (typeof source === 'string' ? source : '<bytes>');
  let bytes: Uint8Array;
  try {
    bytes = typeof source === 'string' ? await readFile(source) : source;
  } catch (e) {
    throw new TorchFileError(`${name}: cannot read (${(e as Error).message.split('\n')[0]})`);
  }
  const entries = readZipEntries(bytes, name);
  const pklName = [...entries.keys()].find((k) => /^[^/]+\/data\.pkl$/.test(k));
  if (!pklName) throw new TorchFileError(`${name}: no <archive>/data.pkl (not a torch.save zip file)`);
  const root = pklName.slice(0, -'data.pkl'.length);
  const dict = unpickleStateDict(entries.get(pklName)!, name);
  const out = new Map<string, HostTensor<'float32'>>();
  for (const [k, v] of dict) {
    const t = v as TensorRef;
    if (typeof k !== 'string' || t?.kind !== 'tensor') continue;
    const data = entries.get(`${root}data/${t.storage.key}`);
    if (!data) throw new TorchFileError(`${name}: storage ${t.storage.key} of ${k} is missing`);
    out.set(k, materialise(t, data, name, k));
  }
  return out;
}

/**
 * Writes safetensors files. Tensors are laid out back to back in insertion order (no gaps, as the reference
 * implementation requires), and the header JSON is padded with spaces so the data section starts at a multiple
 * of 8 bytes. Data is written as the host's bytes, which assumes a little-endian host.
 */
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { BYTES_PER_ELEMENT } from '../tensor/dtype.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import { numel } from '../tensor/shape.ts';
import { DTYPE_TO_SAFETENSORS } from './safetensors-dtypes.ts';
import { quoteName, SafetensorsError } from './safetensors-errors.ts';
import { METADATA_KEY } from './safetensors-header.ts';

/** Named tensors to write; a Record's or Map's own iteration order is the file order. */
export type NamedTensors = Record<string, HostTensor> | Map<string, HostTensor>;

/** Bytes written per `FileHandle.write` call; Node refuses single writes of 2 GiB or more. */
const MAX_WRITE_CHUNK = 1 << 30;

interface Layout {
  /** The 8-byte length followed by the padded header JSON. */
  head: Uint8Array;
  /** Each tensor's bytes, in file order. */
  bodies: Uint8Array[];
  totalSize: number;
}

/** Encodes tensors and metadata as one in-memory safetensors file. */
export function encodeSafetensors(
  tensors: NamedTensors,
  metadata?: Record<string, string>,
  label = '<buffer>',
): Uint8Array {
  const layout = planLayout(tensors, metadata, label);
  const out = new Uint8Array(layout.totalSize);
  out.set(layout.head, 0);
  let at = layout.head.byteLength;
  for (const body of layout.bodies) {
    out.set(body, at);
    at += body.byteLength;
  }
  return out;
}

/**
 * Writes a safetensors file tensor by tensor (never building the whole file in memory). The bytes go to
 * `path + '.tmp-<pid>'`, which is renamed to `path` only once complete, so a failed write leaves no partial file.
 */
export async function writeSafetensors(
  path: string,
  tensors: NamedTensors,
  metadata?: Record<string, string>,
): Promise<void> {
  const layout = planLayout(tensors, metadata, path);
  const tmp = `${path}.tmp-${process.pid}`;
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, 'w');
    await writeAll(handle, layout.head);
    for (const body of layout.bodies) await writeAll(handle, body);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (err) {
    await handle?.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    const reason = err instanceof Error ? err.message : String(err);
    throw new SafetensorsError(path, 'io', `cannot write (${reason})`, { cause: err });
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, Math.min(bytes.byteLength - done, MAX_WRITE_CHUNK));
    done += bytesWritten;
  }
}

/** Validates the input and computes the header and each tensor's bytes (views, not copies). */
function planLayout(tensors: NamedTensors, metadata: Record<string, string> | undefined, file: string): Layout {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`${JSON.stringify(METADATA_KEY)}:${encodeMetadata(metadata, file)}`);
  const bodies: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of entries) {
    const body = tensorBytes(name, tensor, file);
    const entry = {
      dtype: DTYPE_TO_SAFETENSORS[tensor.dtype],
      shape: tensor.shape,
      data_offsets: [offset, offset + body.byteLength],
    };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    bodies.push(body);
    offset += body.byteLength;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(8 + headerLength).fill(0x20);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, 8);
  return { head, bodies, totalSize: head.byteLength + offset };
}

function encodeMetadata(metadata: Record<string, string>, file: string): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new SafetensorsError(file, 'bad-entry', `${METADATA_KEY} value for ${quoteName(key)} is not a string`);
    }
    parts.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
  }
  return `{${parts.join(',')}}`;
}

/** The tensor's data as a byte view, after checking it is a well-formed HostTensor of a supported dtype. */
function tensorBytes(name: string, tensor: HostTensor, file: string): Uint8Array {
  const bad = (problem: string) =>
    new SafetensorsError(file, 'bad-entry', `tensor ${quoteName(name)} ${problem}`, { tensor: name });
  if (name === METADATA_KEY) throw bad('uses the reserved name');
  if (!(tensor instanceof HostTensor)) throw bad('is not a HostTensor');
  if (!Object.hasOwn(DTYPE_TO_SAFETENSORS, tensor.dtype)) {
    throw new SafetensorsError(file, 'unknown-dtype', `tensor ${quoteName(name)} has unknown dtype ${tensor.dtype}`, {
      tensor: name,
    });
  }
  const data = tensor.data;
  const expected = numel(tensor.shape) * BYTES_PER_ELEMENT[tensor.dtype];
  if (data.byteLength !== expected) {
    throw bad(`has ${data.byteLength} bytes of data, ${tensor.dtype} shape needs ${expected}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * A safetensors writer that takes the tensors one at a time: the header is planned from names, dtypes and shapes
 * alone, then each tensor's bytes are appended in planned order. A converter holds one tensor in memory at a time,
 * whatever the checkpoint size (`writeSafetensors` in `safetensors-writer.ts` takes every tensor at once). The file
 * layout is the same: tensors back to back in order, header JSON padded with spaces to a multiple of 8 bytes.
 * Writes to the path given; callers write under a temporary name and rename.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { BYTES_PER_ELEMENT, type DType } from '../tensor/dtype.ts';
import type { HostTensor } from '../tensor/host-tensor.ts';
import { formatShape, numel, type Shape, shapesEqual } from '../tensor/shape.ts';
import { CheckpointFormatError } from './checkpoint-errors.ts';
import { DTYPE_TO_SAFETENSORS } from './safetensors-dtypes.ts';
import { METADATA_KEY } from './safetensors-header.ts';

export interface PlannedTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
}

/** Bytes per `FileHandle.write`; Node refuses single writes of 2 GiB or more. */
const MAX_WRITE_CHUNK = 1 << 30;

export class SafetensorsStreamWriter {
  private next = 0;

  private constructor(
    readonly path: string,
    private readonly plan: readonly PlannedTensor[],
    private handle: FileHandle | undefined,
    /** Bytes of tensor data in the file. */
    readonly dataBytes: number,
  ) {}

  /** Creates `path` and writes the header for `plan` (the order of `write` calls). */
  static async create(
    path: string,
    plan: readonly PlannedTensor[],
    metadata?: Record<string, string>,
  ): Promise<SafetensorsStreamWriter> {
    const names = new Set<string>();
    const parts: string[] = [];
    if (metadata !== undefined) {
      const entries = Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(String(v))}`);
      parts.push(`${JSON.stringify(METADATA_KEY)}:{${entries.join(',')}}`);
    }
    let offset = 0;
    for (const t of plan) {
      if (t.name === METADATA_KEY || names.has(t.name)) {
        throw new CheckpointFormatError(
          path,
          'bad-layout',
          `tensor name ${JSON.stringify(t.name)} is reserved or repeated`,
        );
      }
      names.add(t.name);
      const bytes = numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];
      const entry = { dtype: DTYPE_TO_SAFETENSORS[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
      parts.push(`${JSON.stringify(t.name)}:${JSON.stringify(entry)}`);
      offset += bytes;
    }
    const json = new TextEncoder().encode(`{${parts.join(',')}}`);
    const headerLength = Math.ceil(json.byteLength / 8) * 8;
    const head = new Uint8Array(8 + headerLength).fill(0x20);
    new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
    head.set(json, 8);
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, 'wx');
      await writeAll(handle, head);
    } catch (err) {
      await handle?.close().catch(() => {});
      throw ioError(path, err);
    }
    return new SafetensorsStreamWriter(path, plan, handle, offset);
  }

  /** Appends the next planned tensor; its name, dtype and shape must be the planned ones. */
  async write(name: string, tensor: HostTensor): Promise<void> {
    const planned = this.plan[this.next];
    if (!planned || planned.name !== name) {
      throw new CheckpointFormatError(this.path, 'io', `wrote ${JSON.stringify(name)} out of the planned order`);
    }
    if (planned.dtype !== tensor.dtype || !shapesEqual(planned.shape, tensor.shape)) {
      throw new CheckpointFormatError(
        this.path,
        'io',
        `${name}: planned ${planned.dtype} ${formatShape(planned.shape)}, got ${tensor.dtype} ${formatShape(tensor.shape)}`,
      );
    }
    const handle = this.handle;
    if (!handle) throw new CheckpointFormatError(this.path, 'io', 'writer is closed');
    const data = tensor.data;
    try {
      await writeAll(handle, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } catch (err) {
      throw ioError(this.path, err);
    }
    this.next++;
  }

  /** Flushes and closes the file; every planned tensor must have been written. */
  async finish(): Promise<void> {
    if (this.next !== this.plan.length) {
      throw new CheckpointFormatError(this.path, 'io', `${this.plan.length - this.next} planned tensors not written`);
    }
    const handle = this.handle;
    this.handle = undefined;
    try {
      await handle?.sync();
      await handle?.close();
    } catch (err) {
      throw ioError(this.path, err);
    }
  }

  /** Closes without completing (the caller removes the partial file). */
  async abort(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => {});
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, Math.min(bytes.byteLength - done, MAX_WRITE_CHUNK));
    done += bytesWritten;
  }
}

function ioError(path: string, err: unknown): CheckpointFormatError {
  return new CheckpointFormatError(path, 'io', `cannot write (${err instanceof Error ? err.message : String(err)})`, {
    cause: err,
  });
}

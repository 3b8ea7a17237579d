/**
 * Random-access byte sources for the safetensors reader: a file read at offsets through one open `FileHandle`
 * (nothing is read that is not asked for), or bytes already in memory.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { SafetensorsError } from './safetensors-errors.ts';

/** Bytes read per `FileHandle.read` call; Node refuses single reads of 2 GiB or more. */
const MAX_READ_CHUNK = 1 << 30;

export interface ByteSource {
  /** The path, or a label such as '<buffer>', used in error messages. */
  readonly label: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Fills all of `into` with the bytes starting at `position`; a SafetensorsError if the source ends first. */
  readInto(into: Uint8Array, position: number): Promise<void>;
  /** Releases the source; idempotent. Later reads fail with code 'io'. */
  close(): Promise<void>;
}

/** A file on disk, held open until `close()`. */
export class FileSource implements ByteSource {
  private handle: FileHandle | undefined;

  private constructor(
    readonly label: string,
    readonly size: number,
    handle: FileHandle,
  ) {
    this.handle = handle;
  }

  /** Opens `path` for reading; 'not-found' if it does not exist, 'io' for other failures or a non-regular file. */
  static async open(path: string): Promise<FileSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not-found' : 'io';
      throw new SafetensorsError(path, code, code === 'not-found' ? 'no such file' : `cannot open (${message(err)})`, {
        cause: err,
      });
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new SafetensorsError(path, 'io', 'not a regular file');
      return new FileSource(path, stats.size, handle);
    } catch (err) {
      await handle.close().catch(() => {});
      if (err instanceof SafetensorsError) throw err;
      throw new SafetensorsError(path, 'io', `cannot stat (${message(err)})`, { cause: err });
    }
  }

  async readInto(into: Uint8Array, position: number): Promise<void> {
    const handle = this.handle;
    if (handle === undefined) throw new SafetensorsError(this.label, 'io', 'file is closed');
    let done = 0;
    while (done < into.byteLength) {
      const length = Math.min(into.byteLength - done, MAX_READ_CHUNK);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(into, done, length, position + done));
      } catch (err) {
        throw new SafetensorsError(this.label, 'io', `read failed at byte ${position + done} (${message(err)})`, {
          cause: err,
        });
      }
      if (bytesRead === 0) {
        throw new SafetensorsError(
          this.label,
          'truncated',
          `file ended at byte ${position + done}, expected ${into.byteLength - done} more bytes (file changed since it was opened?)`,
        );
      }
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

/** Bytes in memory (not copied: later changes to them are seen by reads). */
export class BufferSource implements ByteSource {
  private bytes: Uint8Array | undefined;
  readonly size: number;

  constructor(
    bytes: Uint8Array,
    readonly label: string,
  ) {
    this.bytes = bytes;
    this.size = bytes.byteLength;
  }

  async readInto(into: Uint8Array, position: number): Promise<void> {
    const bytes = this.bytes;
    if (bytes === undefined) throw new SafetensorsError(this.label, 'io', 'buffer is closed');
    if (position + into.byteLength > bytes.byteLength) {
      throw new SafetensorsError(this.label, 'truncated', `buffer ends before byte ${position + into.byteLength}`);
    }
    into.set(bytes.subarray(position, position + into.byteLength));
  }

  /** Synchronous read, for parsing the header of an in-memory buffer without awaiting. */
  readSync(position: number, length: number): Uint8Array {
    if (this.bytes === undefined) throw new SafetensorsError(this.label, 'io', 'buffer is closed');
    return this.bytes.subarray(position, position + length);
  }

  async close(): Promise<void> {
    this.bytes = undefined;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

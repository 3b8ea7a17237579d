/**
 * Reads safetensors files lazily: `open` reads only the 8-byte header length and the JSON header, and `read` reads
 * exactly one tensor's bytes at its offset. Listing a 10 GB file or loading one of its tensors never reads the rest.
 *
 * Tensor data in safetensors is little-endian and is copied as-is into the typed array, so this assumes a
 * little-endian host (every platform Node supports in practice); `read` refuses to run on a big-endian one.
 */
import { type DType, viewTypedArray } from '../tensor/dtype.ts';
import { HostTensor } from '../tensor/host-tensor.ts';
import { numel } from '../tensor/shape.ts';
import { BufferSource, type ByteSource, FileSource } from './byte-source.ts';
import { quoteName, SafetensorsError } from './safetensors-errors.ts';
import { decodeHeaderLength, type ParsedHeader, parseHeader, type TensorInfo } from './safetensors-header.ts';

export interface ReadOptions {
  /** Put the data in a SharedArrayBuffer (for handing to a worker without a copy). */
  shared?: boolean;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class SafetensorsFile {
  /** The path, or the label given to `fromBuffer`. */
  readonly file: string;
  /** The `__metadata__` string map (empty if the file has none). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Absolute byte position of the data section: 8 + header length. */
  readonly dataOffset: number;
  private readonly tensors: ReadonlyMap<string, TensorInfo>;
  private readonly source: ByteSource;

  private constructor(source: ByteSource, header: ParsedHeader) {
    this.source = source;
    this.file = source.label;
    this.tensors = header.tensors;
    this.metadata = Object.freeze(header.metadata);
    this.dataOffset = header.dataStart;
  }

  /**
   * Opens a file and validates its header, reading nothing else. Throws a SafetensorsError ('not-found', 'io',
   * or a validation code). The file stays open until `close()`.
   */
  static async open(path: string): Promise<SafetensorsFile> {
    const source = await FileSource.open(path);
    try {
      const prefix = new Uint8Array(Math.min(8, source.size));
      await source.readInto(prefix, 0);
      const headerLength = decodeHeaderLength(prefix, source.size, path);
      const json = new Uint8Array(headerLength);
      await source.readInto(json, 8);
      const dataStart = 8 + headerLength;
      return new SafetensorsFile(source, parseHeader(json, dataStart, source.size - dataStart, path));
    } catch (err) {
      await source.close().catch(() => {});
      throw err;
    }
  }

  /** Wraps safetensors bytes already in memory (not copied), with the same validation as `open`. */
  static fromBuffer(bytes: Uint8Array, label = '<buffer>'): SafetensorsFile {
    const source = new BufferSource(bytes, label);
    const headerLength = decodeHeaderLength(source.readSync(0, 8), source.size, label);
    const dataStart = 8 + headerLength;
    const header = parseHeader(source.readSync(8, headerLength), dataStart, source.size - dataStart, label);
    return new SafetensorsFile(source, header);
  }

  /** Tensor names in header order (`__metadata__` excluded). */
  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** Dtype, shape, byte length and absolute file offset of a tensor; 'not-found' if there is no such tensor. */
  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (info === undefined) {
      throw new SafetensorsError(this.file, 'not-found', `no tensor named ${quoteName(name)}`, { tensor: name });
    }
    return info;
  }

  /** Reads one tensor's bytes (and only those) into a fresh, aligned buffer. */
  async read(name: string, options: ReadOptions = {}): Promise<HostTensor> {
    const info = this.info(name);
    if (!LITTLE_ENDIAN_HOST) {
      throw new SafetensorsError(this.file, 'io', 'reading safetensors needs a little-endian host', { tensor: name });
    }
    const buffer = options.shared ? new SharedArrayBuffer(info.byteLength) : new ArrayBuffer(info.byteLength);
    if (info.byteLength > 0) await this.source.readInto(new Uint8Array(buffer), info.offset);
    const data = viewTypedArray(info.dtype, buffer, 0, numel(info.shape));
    return new HostTensor<DType>(info.dtype, info.shape, data);
  }

  /** Reads every tensor, one after another, into a map in header order. */
  async readAll(options: ReadOptions = {}): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    for (const name of this.tensors.keys()) out.set(name, await this.read(name, options));
    return out;
  }

  /** Closes the file; idempotent. Later reads fail with code 'io'. */
  async close(): Promise<void> {
    await this.source.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

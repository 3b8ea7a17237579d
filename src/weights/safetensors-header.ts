/**
 * Parsing and validation of a safetensors header: the 8-byte little-endian length, then that many bytes of UTF-8
 * JSON mapping tensor names to `{dtype, shape, data_offsets}` plus an optional `__metadata__` string map.
 *
 * Everything here works on bytes already in memory and never touches the data section. Every check is linear in
 * the header size and uses exact integer arithmetic, so hostile headers (a length of 2^63, dims whose product
 * overflows, a million-dim shape) fail fast with a `SafetensorsError` instead of hanging or crashing.
 */
import { BYTES_PER_ELEMENT, type DType } from '../tensor/dtype.ts';
import { numel, type Shape } from '../tensor/shape.ts';
import { topLevelKeys } from './json-top-level-keys.ts';
import { describeBadDType, dtypeFromSafetensors } from './safetensors-dtypes.ts';
import { quoteName, SafetensorsError } from './safetensors-errors.ts';

/** Headers longer than this are refused as absurd (the same limit as the reference Rust implementation). */
export const MAX_HEADER_BYTES = 100_000_000;

/** The key holding the file's string-to-string metadata; never a tensor name. */
export const METADATA_KEY = '__metadata__';

/** Where one tensor lives and what it is. */
export interface TensorInfo {
  readonly dtype: DType;
  readonly shape: Shape;
  /** Number of bytes of the tensor's data. */
  readonly byteLength: number;
  /** Absolute byte position of the tensor's first byte in the file (data section start + data_offsets[0]). */
  readonly offset: number;
}

export interface ParsedHeader {
  /** Tensors in header order. */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Absolute byte position of the data section (8 + header length). */
  readonly dataStart: number;
}

/**
 * Decodes the header length from the file's first 8 bytes and checks it against the file size.
 * Returns the header length in bytes.
 */
export function decodeHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw new SafetensorsError(file, 'truncated', `file is ${fileSize} bytes, too short for the 8-byte header length`);
  }
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      file,
      'header-too-large',
      `header length ${length} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt file?)`,
    );
  }
  const n = Number(length);
  if (8 + n > fileSize) {
    throw new SafetensorsError(
      file,
      'truncated',
      `header length ${n} bytes runs past the end of the file (${fileSize} bytes); file truncated?`,
    );
  }
  return n;
}

/**
 * Parses and validates the header JSON. `dataStart` is the absolute position of the data section and
 * `dataLength` its length in bytes (file size - dataStart); both are below 2^53.
 */
export function parseHeader(json: Uint8Array, dataStart: number, dataLength: number, file: string): ParsedHeader {
  const root = parseJsonObject(json, file);
  const tensors = new Map<string, TensorInfo>();
  const ranges: Range[] = [];
  let metadata: Record<string, string> = {};
  for (const name of root.keys) {
    const value = root.value[name];
    if (name === METADATA_KEY) {
      metadata = parseMetadata(value, file);
      continue;
    }
    const entry = parseEntry(name, value, dataLength, file);
    tensors.set(name, {
      dtype: entry.dtype,
      shape: entry.shape,
      byteLength: entry.end - entry.begin,
      offset: dataStart + entry.begin,
    });
    if (entry.end > entry.begin) ranges.push({ name, begin: entry.begin, end: entry.end });
  }
  checkOverlaps(ranges, file);
  return { tensors, metadata, dataStart };
}

interface Range {
  name: string;
  begin: number;
  end: number;
}

function parseJsonObject(json: Uint8Array, file: string): { value: Record<string, unknown>; keys: string[] } {
  let text: string;
  try {
    // ignoreBOM keeps a leading BOM in the text, where JSON.parse rejects it, as strict JSON parsers do.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(json);
  } catch {
    throw new SafetensorsError(file, 'bad-json', 'header is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(file, 'bad-json', `header is not valid JSON (${oneLine(err)})`, { cause: err });
  }
  if (!isPlainObject(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new SafetensorsError(file, 'bad-json', `header JSON is ${kind}, not an object`);
  }
  const keys = topLevelKeys(text);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) {
      throw new SafetensorsError(file, 'bad-json', `header has the key ${quoteName(key)} twice`, { tensor: key });
    }
    seen.add(key);
  }
  return { value, keys };
}

function parseMetadata(value: unknown, file: string): Record<string, string> {
  if (value === null) return {};
  if (!isPlainObject(value)) {
    throw new SafetensorsError(file, 'bad-entry', `${METADATA_KEY} is not an object of strings`);
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(file, 'bad-entry', `${METADATA_KEY} value for ${quoteName(key)} is not a string`);
    }
  }
  // fromEntries defines own properties, so a "__proto__" key stays data and cannot touch the prototype.
  return Object.fromEntries(Object.entries(value as Record<string, string>));
}

function parseEntry(
  name: string,
  value: unknown,
  dataLength: number,
  file: string,
): { dtype: DType; shape: Shape; begin: number; end: number } {
  const bad = (problem: string) =>
    new SafetensorsError(file, 'bad-entry', `tensor ${quoteName(name)} ${problem}`, { tensor: name });
  if (!isPlainObject(value)) throw bad('entry is not an object');
  const { dtype: rawDType, shape, data_offsets: offsets } = value;
  if (typeof rawDType !== 'string') throw bad('has no string "dtype"');
  if (!Array.isArray(shape)) throw bad('has no "shape" array');
  if (!Array.isArray(offsets)) throw bad('has no "data_offsets" array');
  const dtype = dtypeFromSafetensors(rawDType);
  if (dtype === undefined) {
    throw new SafetensorsError(file, 'unknown-dtype', `tensor ${quoteName(name)} has ${describeBadDType(rawDType)}`, {
      tensor: name,
    });
  }
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`has shape ${describeJson(shape)}; dims must be non-negative integers`);
  }
  if (offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
    throw bad(`has data_offsets ${describeJson(offsets)}; they must be two non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw bad(`has data_offsets [${begin}, ${end}] with begin > end`);
  if (end > dataLength) {
    throw new SafetensorsError(
      file,
      'offset-out-of-range',
      `tensor ${quoteName(name)} data_offsets [${begin}, ${end}] run past the end of the data section (${dataLength} bytes); file truncated?`,
      { tensor: name },
    );
  }
  // Both offsets are now at most dataLength < 2^53, so end - begin is exact.
  const elements = exactNumel(shape);
  const needed = elements === undefined ? undefined : elements * BigInt(BYTES_PER_ELEMENT[dtype]);
  if (needed !== BigInt(end - begin)) {
    throw new SafetensorsError(
      file,
      'size-mismatch',
      `tensor ${quoteName(name)} needs ${needed === undefined ? 'over 2^53' : needed} bytes for ${dtype} ${describeShape(shape)}, data_offsets give ${end - begin}`,
      { tensor: name },
    );
  }
  // HostTensor computes numel in floating point; a zero-element shape with huge dims could make that NaN.
  if (numel(shape) !== Number(elements)) throw bad(`has shape ${describeShape(shape)} whose element count overflows`);
  return { dtype, shape: Object.freeze([...shape]), begin, end };
}

/** Exact element count of a shape, or undefined when it exceeds 2^53 (more than any file can hold). */
function exactNumel(shape: readonly number[]): bigint | undefined {
  if (shape.includes(0)) return 0n;
  const limit = 2n ** 53n;
  let n = 1n;
  for (const d of shape) {
    n *= BigInt(d);
    if (n > limit) return undefined;
  }
  return n;
}

/** Sorts the non-empty byte ranges and reports the first pair that overlaps. */
function checkOverlaps(ranges: Range[], file: string): void {
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let widest: Range | undefined;
  for (const r of ranges) {
    if (widest !== undefined && r.begin < widest.end) {
      throw new SafetensorsError(
        file,
        'overlapping',
        `tensors ${quoteName(widest.name)} [${widest.begin}, ${widest.end}] and ${quoteName(r.name)} [${r.begin}, ${r.end}] overlap`,
        { tensor: r.name },
      );
    }
    if (widest === undefined || r.end > widest.end) widest = r;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A shape for messages, shortened when a hostile header gives it thousands of dims. */
function describeShape(shape: readonly number[]): string {
  if (shape.length <= 16) return `[${shape.join(', ')}]`;
  return `[${shape.slice(0, 8).join(', ')}, ... (${shape.length} dims)]`;
}

/** Any JSON value for messages, cut to a readable length. */
function describeJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 80 ? text : `${text.slice(0, 77)}...`;
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
}

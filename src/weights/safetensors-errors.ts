/**
 * The one error type of the safetensors reader and writer. Every problem with a file (or an in-memory buffer) is
 * reported as a `SafetensorsError` whose message names the file and the problem on one line, e.g.
 * `model.safetensors: tensor "a.weight" needs 48 bytes for float32 [3, 4], data_offsets give 44`.
 */

/** What went wrong, for callers that branch on it. */
export type SafetensorsErrorCode =
  /** The file ends before the 8-byte header length, the header, or a tensor's bytes. */
  | 'truncated'
  /** The declared header length is absurd (over 100 MB). */
  | 'header-too-large'
  /** The header is not valid UTF-8 JSON, not a JSON object, or has a duplicate key. */
  | 'bad-json'
  /** A header entry (or `__metadata__`, or a tensor handed to the writer) has missing or ill-typed fields. */
  | 'bad-entry'
  /** A tensor's dtype is not one this project supports (F64, I8, ...) or not a safetensors dtype at all. */
  | 'unknown-dtype'
  /** A tensor's data_offsets point past the end of the data section. */
  | 'offset-out-of-range'
  /** Two tensors' byte ranges overlap. */
  | 'overlapping'
  /** A tensor's byte length differs from numel(shape) x element size. */
  | 'size-mismatch'
  /** The file, or the named tensor, does not exist. */
  | 'not-found'
  /** Any other I/O failure (permissions, a closed file, a failed write). */
  | 'io';

export class SafetensorsError extends Error {
  /** The path of the file, or a label such as `'<buffer>'` for in-memory data. */
  readonly file: string;
  readonly code: SafetensorsErrorCode;
  /** The tensor the problem is about, when there is one. */
  readonly tensor?: string;

  constructor(
    file: string,
    code: SafetensorsErrorCode,
    problem: string,
    options?: { tensor?: string; cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SafetensorsError';
    this.file = file;
    this.code = code;
    if (options?.tensor !== undefined) this.tensor = options.tensor;
  }
}

/** `"name"` quoted as JSON, for messages: keeps odd characters (newlines, quotes) on one line. */
export function quoteName(name: string): string {
  return JSON.stringify(name);
}

/**
 * Errors of checkpoint opening and conversion (the strict key check has its own `CheckpointError`, in
 * `checkpoint-check.ts`). Messages are one line and name the path.
 */

export type CheckpointFormatErrorCode =
  /** The path does not exist. */
  | 'not-found'
  /** A file that is not a valid safetensors file (the reason is in the message). */
  | 'not-safetensors'
  /** A folder that is not a diffusers SVD folder (no `unet/`, `vae/`, `image_encoder/`), or another kind of path. */
  | 'unknown-layout'
  /** A model config (`--config`, or a diffusers `config.json`) that is missing, not JSON, or lacks a field. */
  | 'bad-config'
  /** Tensors that cannot be placed: a diffusers key no rule maps, parts of a split tensor that disagree, … */
  | 'bad-layout'
  /** The output path already exists. */
  | 'exists'
  /** Any other read or write failure. */
  | 'io';

export class CheckpointFormatError extends Error {
  readonly path: string;
  readonly code: CheckpointFormatErrorCode;

  constructor(path: string, code: CheckpointFormatErrorCode, problem: string, options?: { cause?: unknown }) {
    super(`${path}: ${problem}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CheckpointFormatError';
    this.path = path;
    this.code = code;
  }
}

/** The interface every checkpoint layout presents (see `checkpoint.ts`), and small helpers its readers share. */
import { stat } from 'node:fs/promises';
import type { DType } from '../tensor/dtype.ts';
import { toFloat32 } from '../tensor/half.ts';
import type { HostTensor } from '../tensor/host-tensor.ts';
import type { Shape } from '../tensor/shape.ts';

export type CheckpointLayout = 'sgm' | 'diffusers';

/** What a tensor is, before reading it: its stored dtype and its sgm shape. */
export interface CheckpointEntry {
  readonly dtype: DType;
  readonly shape: Shape;
}

export interface CheckpointSource {
  /** The file or folder opened. */
  readonly path: string;
  readonly layout: CheckpointLayout;
  /**
   * The sgm single-file `__metadata__` (for a diffusers folder: the one kept in `sgm_extra.safetensors` by
   * `svd convert`, or empty).
   */
  readonly metadata: Readonly<Record<string, string>>;
  /** sgm key → stored dtype and sgm shape, in file order (diffusers: unet, vae, image_encoder, then extras). */
  entries(): Map<string, CheckpointEntry>;
  /**
   * One tensor by sgm key, as float32 when it is a floating-point tensor (float16 / bfloat16 are widened exactly);
   * other dtypes as stored. Reads only that tensor's bytes. Throws a CheckpointFormatError ('bad-layout') for an
   * unknown key.
   */
  read(key: string): Promise<HostTensor>;
  /** One tensor by sgm key in its stored dtype: the exact bytes of the sgm tensor (diffusers transforms undone). */
  readStored(key: string): Promise<HostTensor>;
  /** Closes the underlying files; idempotent. */
  close(): Promise<void>;
}

/** A tensor as float32 when it is floating point, else unchanged. */
export function widenToFloat32(t: HostTensor): HostTensor {
  return t.dtype === 'float16' || t.dtype === 'bfloat16' ? toFloat32(t) : t;
}

/** Whether anything exists at `path` (file or folder). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

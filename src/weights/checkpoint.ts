/**
 * One view of an SVD checkpoint whatever its layout: the sgm single `.safetensors` file of the released
 * `svd*.safetensors`, or a diffusers folder (`unet/`, `vae/`, `image_encoder/`, optionally `sgm_extra.safetensors`).
 * Either way the tensors are presented under their **sgm key names** (`model.diffusion_model.…`,
 * `first_stage_model.decoder.…`, `conditioner.embedders.…`), with sgm shapes, and read lazily one at a time.
 *
 * ```ts
 * const ckpt = await openCheckpoint('svd_xt.safetensors');      // or a diffusers folder
 * checkKeys(ckpt.entries(), model.params.shapes);               // strict: missing / unexpected / wrong shape
 * const w = await ckpt.read('model.diffusion_model.out.2.weight'); // float32, only this tensor's bytes are read
 * await ckpt.close();
 * ```
 */
import { stat } from 'node:fs/promises';
import { DiffusersFolderSource } from './checkpoint-diffusers.ts';
import { CheckpointFormatError } from './checkpoint-errors.ts';
import { SgmFileSource } from './checkpoint-sgm.ts';
import type { CheckpointSource } from './checkpoint-source.ts';

export type { CheckpointEntry, CheckpointLayout, CheckpointSource } from './checkpoint-source.ts';
export { widenToFloat32 } from './checkpoint-source.ts';

/**
 * Opens `path`: a `.safetensors` file is read as the sgm single-file layout; a folder with `unet/`, `vae/` and
 * `image_encoder/` as a diffusers SVD folder. Reads headers and configs only.
 * Throws a CheckpointFormatError: 'not-found', 'not-safetensors', 'unknown-layout', 'bad-config', 'bad-layout', 'io'.
 */
export async function openCheckpoint(path: string): Promise<CheckpointSource> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CheckpointFormatError(
      path,
      missing ? 'not-found' : 'io',
      missing ? 'no such file or folder' : String(err),
      {
        cause: err,
      },
    );
  }
  return isDirectory ? DiffusersFolderSource.open(path) : SgmFileSource.open(path);
}

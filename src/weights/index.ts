/**
 * Weights I/O that knows no model: safetensors (a lazy reader, a writer), checkpoint sources (sgm single file,
 * diffusers folder) presenting sgm keys, strict key checking, and the sgm ⇄ diffusers key layout. What a model's keys
 * are, and checkpoint conversion for a model, live in `src/models/`.
 */

export {
  type CheckpointEntry,
  type CheckpointLayout,
  type CheckpointSource,
  openCheckpoint,
  widenToFloat32,
} from './checkpoint.ts';
export {
  type CheckKeysOptions,
  type CheckKeysResult,
  CheckpointError,
  checkKeys,
  type IgnoreGroup,
  ignoreMatcher,
} from './checkpoint-check.ts';
export { DiffusersFolderSource, UNMAPPED_PREFIX } from './checkpoint-diffusers.ts';
export { CheckpointFormatError, type CheckpointFormatErrorCode } from './checkpoint-errors.ts';
export { DTYPE_TO_SAFETENSORS, SAFETENSORS_TO_DTYPE } from './safetensors-dtypes.ts';
export { SafetensorsError, type SafetensorsErrorCode } from './safetensors-errors.ts';
export { MAX_HEADER_BYTES, type TensorInfo } from './safetensors-header.ts';
export { type ReadOptions, SafetensorsFile } from './safetensors-reader.ts';
export { encodeSafetensors, type NamedTensors, writeSafetensors } from './safetensors-writer.ts';

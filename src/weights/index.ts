/** Safetensors weights: a lazy reader, a writer, and the error type both use. */

export {
  type CheckpointEntry,
  type CheckpointLayout,
  type CheckpointSource,
  openCheckpoint,
  widenToFloat32,
} from './checkpoint.ts';
export { type CheckKeysOptions, CheckpointError, checkKeys, DEFAULT_IGNORE } from './checkpoint-check.ts';
export { type ConvertOptions, convertCheckpoint } from './checkpoint-convert.ts';
export { CheckpointFormatError } from './checkpoint-errors.ts';
export { DTYPE_TO_SAFETENSORS, SAFETENSORS_TO_DTYPE } from './safetensors-dtypes.ts';
export { SafetensorsError, type SafetensorsErrorCode } from './safetensors-errors.ts';
export { MAX_HEADER_BYTES, type TensorInfo } from './safetensors-header.ts';
export { type ReadOptions, SafetensorsFile } from './safetensors-reader.ts';
export { encodeSafetensors, type NamedTensors, writeSafetensors } from './safetensors-writer.ts';

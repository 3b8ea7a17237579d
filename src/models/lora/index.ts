/**
 * LoRA for SVD models (Hu et al., arXiv 2106.09685; SVD's camera-motion LoRAs on the temporal attention, arXiv
 * 2311.15127 §4.3). The layer itself is `withLora` in `src/nn/lora.ts`; this folder adds the model side: kohya
 * tensor names (`names.ts`), targets (`targets.ts`), LoRA files (`file.ts`, `save.ts`), fitting a file to a model
 * (`fit.ts`), the host-merged checkpoint source (`merged-source.ts`) and `svd lora merge` (`merge.ts`).
 *
 * For a LoRA training stage:
 * ```ts
 * const set = createLoraSet(declareModelParams(model).shapes, { rank: 16 });   // default targets: temporal attention
 * const p = withLora(new Params(builder), set);                                // any model code, unchanged
 * // … build the loss graph with svdNetwork(p, …) …
 * const trainable = loraWeightsInGraph(lossGraph, set);                        // only LoRA factors
 * const init = initLora(set, seed);                                            // down: kaiming-uniform, up: 0
 * await saveLora('camera.safetensors', values, { rank: 16, targets: DEFAULT_LORA_TARGETS, baseModelHash });
 * ```
 */

export {
  type LoraAdapter,
  LoraParams,
  LoraSet,
  loraFactorShapes,
  loraParamNames,
  loraWeightsInGraph,
  withLora,
} from '../../nn/lora.ts';
export { initLora } from '../../nn/lora-init.ts';
export { type LoraRecord, loraRecords, type OpenLorasOptions, openLoras } from './apply.ts';
export { LoraError } from './errors.ts';
export { LoraFile, type LoraModule } from './file.ts';
export { baseHashNotice, type FittedLora, type FittedModule, fitLora } from './fit.ts';
export { MERGED_LORAS_METADATA, type MergeLoraOptions, mergeLoraCheckpoint } from './merge.ts';
export { addLoraTerms, type LoraTerm, loraMergedSource, type MergedSourceOptions } from './merged-source.ts';
export {
  type AdaptableWeight,
  adaptableWeights,
  kohyaModuleName,
  LORA_ALPHA,
  LORA_DOWN,
  LORA_UNET_PREFIX,
  LORA_UP,
} from './names.ts';
export {
  LORA_MAX_CFG_KEY,
  LORA_MIN_CFG_KEY,
  LORA_MOTION_BUCKET_KEY,
  type LoraSamplingDefaults,
  loraSamplingDefaults,
  medianLabel,
} from './sampling-defaults.ts';
export { LORA_FORMAT, LORA_METADATA, type LoraMeta, loraMetadata, saveLora } from './save.ts';
export { createLoraSet, fittedLoraSet, loraInputName, type NewLoraOptions, readLoraFactors } from './set.ts';
export { type LoraSpec, parseLoraSpec } from './spec.ts';
export { DEFAULT_LORA_TARGETS, resolveLoraTargets } from './targets.ts';

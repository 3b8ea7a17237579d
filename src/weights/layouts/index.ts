/** Checkpoint layouts: model dims, the sgm state dict they imply, and the diffusers folder layout and configs. */
export {
  checkpointConfigFromDiffusers,
  DIFFUSERS_VERSION,
  type DiffusersConfigs,
  diffusersConfigs,
  type JsonObject,
  TRANSFORMERS_VERSION,
} from './diffusers-configs.ts';
export {
  DIFFUSERS_COMPONENTS,
  DIFFUSERS_WEIGHTS_BASE,
  type DiffusersComponent,
  type DiffusersKeyLayout,
  type DiffusersKeyMeaning,
  type DiffusersPlacement,
  diffusersKeyToSgm,
  keyLayoutFromConfig,
  SGM_EXTRA_FILE,
  SGM_METADATA_KEY,
  sgmKeyToDiffusers,
  VAE_SOURCES,
} from './diffusers-layout.ts';
export {
  type AutoencoderDims,
  type ClipDims,
  SVD_CHECKPOINT_CONFIG,
  type SvdCheckpointConfig,
  unetAttentionHeads,
  unetLevelHasAttention,
  VIT_H_14,
  type VideoUNetDims,
} from './model-config.ts';
export { checkpointConfigFromReference } from './reference-config.ts';
export {
  clipTextLeftoverShapes,
  clipVisualShapes,
  condEncoderShapes,
  firstStageShapes,
  SGM_PREFIXES,
  svdCheckpointShapes,
  videoUNetShapes,
} from './sgm-state-dict.ts';

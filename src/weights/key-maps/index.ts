/** sgm ⇄ diffusers/transformers key rules for the VideoUNet, the VAE and the CLIP image tower. */
export {
  CLIP_DERIVED_HF_KEYS,
  CLIP_TEXT_DERIVED_HF_KEYS,
  clipKeyFromHf,
  clipKeyToHf,
  clipTextKeyFromHf,
} from './clip.ts';
export {
  COPY,
  describeTransform,
  fromTargetParts,
  type KeyTransform,
  partCount,
  SPLIT_QKV,
  SQUEEZE,
  sourceShape,
  TRANSPOSE,
  targetShape,
  toTargetParts,
} from './transforms.ts';
export type { SourceMapping, TargetMapping } from './types.ts';
export { type UNetKeyLayout, unetKeyFromDiffusers, unetKeyToDiffusers } from './unet.ts';
export {
  type VaeKeyLayout,
  type VaeKeyMapping,
  vaeDecoderKeyFromDiffusers,
  vaeDecoderKeyToDiffusers,
  vaeEncoderKeyFromDiffusers,
  vaeEncoderKeyToDiffusers,
} from './vae.ts';

/**
 * What a checkpoint looks like, from its keys and shapes alone: a LoRA file, one part of a diffusers folder, no SVD
 * model at all, one of the presets (every key and shape as that preset declares, with the groups the reference
 * ignores skipped), or a model of another size, with its family (image-to-video with the temporal video decoder or
 * the per-frame image decoder, or a multi-view SV3D model). Used to tell a user whose checkpoint does not fit the
 * model what to pass instead (./checkpoint-mismatch.ts).
 *
 * ```ts
 * identifyCheckpoint(source.entries()); // { kind: 'preset', presets: ['svd', 'svd-xt', 'svd-xt-1.1'], multiView: false }
 * ```
 */
import type { Shape } from '../tensor/shape.ts';
import { checkKeys } from '../weights/checkpoint-check.ts';
import { declareModelParams, FIRST_STAGE_PREFIX, inferenceIgnoreGroups } from './declare-params.ts';
import { isMultiViewModel } from './description.ts';
import { PRESET_NAMES, PRESETS } from './presets.ts';
import { UNET_PREFIX } from './svd-network.ts';

/** A network family, told apart by which keys exist. */
export type ModelFamily = 'image-to-video' | 'image-to-video-image-decoder' | 'multi-view';

/** The sub-folders of a diffusers SVD folder. */
export type DiffusersPart = 'unet' | 'vae' | 'image_encoder';

export type CheckpointIdentity =
  /** kohya-named LoRA weights (`lora_unet_*.lora_down.weight`, …) or another LoRA naming (`lora_A`/`lora_B`). */
  | { readonly kind: 'lora'; readonly modules: number }
  /** The weights of one diffusers sub-folder, given alone. */
  | { readonly kind: 'diffusers-part'; readonly part: DiffusersPart }
  /** No SVD UNet in it. */
  | { readonly kind: 'not-svd' }
  /** Fits these presets exactly (several when they share one network, e.g. svd and svd-xt). */
  | { readonly kind: 'preset'; readonly presets: readonly string[]; readonly multiView: boolean }
  /** An SVD-structured model that fits no preset. */
  | { readonly kind: 'custom'; readonly family: ModelFamily };

/** The words for a family, without an article. */
export const FAMILY_WORDS: Readonly<Record<ModelFamily, string>> = {
  'image-to-video': 'image-to-video model',
  'image-to-video-image-decoder': 'image-to-video model with the per-frame image decoder',
  'multi-view': 'multi-view (SV3D) model',
};

/** A LoRA tensor: kohya's `lora_unet_<module>.{lora_down.weight,lora_up.weight,alpha}`, or PEFT's `lora_A`/`lora_B`. */
const LORA_KEY = /\.lora_(down|up|A|B)\.weight$|^lora_/;
/** What follows a LoRA module's name in its tensors' keys. */
const LORA_SUFFIX = /\.(lora_(down|up|A|B)\.weight|alpha)$/;

/** Identifies a checkpoint from its entries (sgm keys → shapes; reads no tensor data). */
export function identifyCheckpoint(entries: ReadonlyMap<string, { readonly shape: Shape }>): CheckpointIdentity {
  const keys = [...entries.keys()];
  const unet = `${UNET_PREFIX}.`;
  if (!keys.some((k) => k.startsWith(unet))) {
    const lora = keys.filter((k) => LORA_KEY.test(k));
    if (lora.length > 0) return { kind: 'lora', modules: new Set(lora.map((k) => k.replace(LORA_SUFFIX, ''))).size };
    const part = diffusersPart(keys);
    return part ? { kind: 'diffusers-part', part } : { kind: 'not-svd' };
  }
  const presets = fittingPresets(entries);
  if (presets.length > 0) return { kind: 'preset', presets, multiView: isMultiViewModel(PRESETS[presets[0]]) };
  return { kind: 'custom', family: familyOf(keys) };
}

/** A diffusers sub-folder's own key names (no sgm prefix). */
function diffusersPart(keys: readonly string[]): DiffusersPart | undefined {
  const has = (re: RegExp) => keys.some((k) => re.test(k));
  if (has(/^vision_model\./)) return 'image_encoder';
  if (has(/^encoder\.down_blocks\./) || has(/^decoder\.up_blocks\./)) return 'vae';
  if (has(/^down_blocks\.\d+\./) && has(/^time_embedding\./)) return 'unet';
  return undefined;
}

/**
 * The presets the checkpoint fits exactly. Only presets whose first UNet convolution has the checkpoint's shape
 * are declared and compared (declaring a released model's parameters takes a while).
 */
function fittingPresets(entries: ReadonlyMap<string, { readonly shape: Shape }>): string[] {
  const first = entries.get(`${UNET_PREFIX}.input_blocks.0.0.weight`)?.shape;
  if (!first) return [];
  return PRESET_NAMES.filter((name) => {
    const p = PRESETS[name];
    if (first[0] !== p.unet.modelChannels || first[1] !== p.unet.inChannels) return false;
    try {
      checkKeys(entries, declareModelParams(p), { ignore: inferenceIgnoreGroups(p) });
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The family from which keys exist: the conditioning-frame encoder at embedder 1 is SV3D's conditioner order (svd's
 * is at 3); a first-stage decoder with temporal (`time_*`) layers is the video decoder.
 */
function familyOf(keys: readonly string[]): ModelFamily {
  const encoderAt = keys
    .map((k) => /^conditioner\.embedders\.(\d+)\.encoder\./.exec(k)?.[1])
    .find((i) => i !== undefined);
  if (encoderAt === '1') return 'multi-view';
  const decoder = `${FIRST_STAGE_PREFIX}.decoder.`;
  const temporal = keys.some((k) => k.startsWith(decoder) && k.includes('.time_'));
  return temporal ? 'image-to-video' : 'image-to-video-image-decoder';
}

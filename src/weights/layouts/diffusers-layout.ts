/**
 * Which sgm tensors a diffusers SVD folder holds, in which sub-folder and under which key (diffusers
 * `StableVideoDiffusionPipeline` layout):
 * - `unet/` ← `model.diffusion_model.*` (key-maps/unet.ts);
 * - `vae/` ← `encoder.*` from **`conditioner.embedders.3.encoder.encoder.*`** and `quant_conv.*` from
 *   `conditioner.embedders.3.encoder.quant_conv.*` (the conditioning encoder, the only copy with a quant_conv:
 *   `first_stage_model` has none), `decoder.*` from `first_stage_model.decoder.*` (key-maps/vae.ts);
 * - `image_encoder/` ← `conditioner.embedders.0.open_clip.model.visual.*` (key-maps/clip.ts).
 * Everything else (`first_stage_model.encoder.*`, the conditioning encoder's unused decoder and post_quant_conv, the
 * open_clip text leftovers, unknown keys) has no diffusers place; a converter keeps it in `sgm_extra.safetensors`.
 */
import { CLIP_DERIVED_HF_KEYS, clipKeyFromHf, clipKeyToHf } from '../key-maps/clip.ts';
import { COPY, type KeyTransform } from '../key-maps/transforms.ts';
import type { SourceMapping, TargetMapping } from '../key-maps/types.ts';
import { type UNetKeyLayout, unetKeyFromDiffusers, unetKeyToDiffusers } from '../key-maps/unet.ts';
import {
  type VaeKeyLayout,
  vaeDecoderKeyFromDiffusers,
  vaeDecoderKeyToDiffusers,
  vaeEncoderKeyFromDiffusers,
  vaeEncoderKeyToDiffusers,
} from '../key-maps/vae.ts';
import { type SvdCheckpointConfig, unetLevelHasAttention } from './model-config.ts';
import { SGM_PREFIXES } from './sgm-state-dict.ts';

export type DiffusersComponent = 'unet' | 'vae' | 'image_encoder';
export const DIFFUSERS_COMPONENTS: readonly DiffusersComponent[] = ['unet', 'vae', 'image_encoder'];

/** The block structure the key rules need. */
export interface DiffusersKeyLayout {
  readonly unet: UNetKeyLayout;
  /** The first-stage decoder's levels (the encoder rules need the same count). */
  readonly vae: VaeKeyLayout;
}

/** Where one sgm tensor lives in a diffusers folder: component, key(s) in that component's file, transform. */
export interface DiffusersPlacement extends TargetMapping {
  readonly component: DiffusersComponent;
}

/** sgm prefixes of the VAE pieces diffusers uses. */
export const VAE_SOURCES = {
  encoder: `${SGM_PREFIXES.condEncoder}encoder.`,
  quantConv: `${SGM_PREFIXES.condEncoder}quant_conv.`,
  decoder: SGM_PREFIXES.firstStageDecoder,
} as const;

export function keyLayoutFromConfig(config: SvdCheckpointConfig): DiffusersKeyLayout {
  const levels = config.unet.channelMult.length;
  return {
    unet: {
      numResBlocks: config.unet.numResBlocks,
      attention: Array.from({ length: levels }, (_, l) => unetLevelHasAttention(config.unet, l)),
    },
    vae: { numLevels: config.firstStage.chMult.length },
  };
}

/** The diffusers placement of an sgm key, or undefined when diffusers has no place for it. */
export function sgmKeyToDiffusers(key: string, layout: DiffusersKeyLayout): DiffusersPlacement | undefined {
  if (key.startsWith(SGM_PREFIXES.unet)) {
    const k = unetKeyToDiffusers(key.slice(SGM_PREFIXES.unet.length), layout.unet);
    return k === undefined ? undefined : { component: 'unet', keys: [k], transform: COPY };
  }
  if (key.startsWith(VAE_SOURCES.encoder)) {
    const m = vaeEncoderKeyToDiffusers(key.slice(VAE_SOURCES.encoder.length), layout.vae);
    return m && { component: 'vae', keys: [`encoder.${m.key}`], transform: m.transform };
  }
  if (key.startsWith(VAE_SOURCES.quantConv)) {
    const rest = key.slice(VAE_SOURCES.quantConv.length);
    return isParamName(rest) ? { component: 'vae', keys: [`quant_conv.${rest}`], transform: COPY } : undefined;
  }
  if (key.startsWith(VAE_SOURCES.decoder)) {
    const m = vaeDecoderKeyToDiffusers(key.slice(VAE_SOURCES.decoder.length), layout.vae);
    return m && { component: 'vae', keys: [`decoder.${m.key}`], transform: m.transform };
  }
  if (key.startsWith(SGM_PREFIXES.clipVisual)) {
    const m = clipKeyToHf(key.slice(SGM_PREFIXES.clipVisual.length));
    return m && { component: 'image_encoder', ...m };
  }
  return undefined;
}

/** What a diffusers key means: an sgm key (part, transform), a derived buffer to skip, or nothing known. */
export type DiffusersKeyMeaning =
  | ({ readonly kind: 'sgm' } & SourceMapping)
  | { readonly kind: 'derived' }
  | { readonly kind: 'unknown' };

/** The sgm source of a key in a diffusers component file. */
export function diffusersKeyToSgm(
  component: DiffusersComponent,
  key: string,
  layout: DiffusersKeyLayout,
): DiffusersKeyMeaning {
  const sgm = (k: string | undefined, transform: KeyTransform = COPY, part = 0): DiffusersKeyMeaning =>
    k === undefined ? { kind: 'unknown' } : { kind: 'sgm', key: k, part, transform };
  switch (component) {
    case 'unet': {
      const k = unetKeyFromDiffusers(key, layout.unet);
      return sgm(k === undefined ? undefined : `${SGM_PREFIXES.unet}${k}`);
    }
    case 'vae': {
      const [head, ...tail] = key.split('.');
      const rest = tail.join('.');
      if (head === 'encoder') {
        const m = vaeEncoderKeyFromDiffusers(rest, layout.vae);
        return m ? sgm(`${VAE_SOURCES.encoder}${m.key}`, m.transform) : sgm(undefined);
      }
      if (head === 'decoder') {
        const m = vaeDecoderKeyFromDiffusers(rest, layout.vae);
        return m ? sgm(`${VAE_SOURCES.decoder}${m.key}`, m.transform) : sgm(undefined);
      }
      if (head === 'quant_conv' && isParamName(rest)) return sgm(`${VAE_SOURCES.quantConv}${rest}`);
      return sgm(undefined);
    }
    case 'image_encoder': {
      if (CLIP_DERIVED_HF_KEYS.includes(key)) return { kind: 'derived' };
      const m = clipKeyFromHf(key);
      return m ? sgm(`${SGM_PREFIXES.clipVisual}${m.key}`, m.transform, m.part) : sgm(undefined);
    }
  }
}

function isParamName(rest: string): boolean {
  return rest === 'weight' || rest === 'bias';
}

/** Base name of each component's weights file (`<base>.safetensors`, `<base>.fp16.safetensors`, sharded index). */
export const DIFFUSERS_WEIGHTS_BASE: Readonly<Record<DiffusersComponent, string>> = {
  unet: 'diffusion_pytorch_model',
  vae: 'diffusion_pytorch_model',
  image_encoder: 'model',
};

/** The file, at the top of a diffusers folder, holding the sgm tensors diffusers has no place for (sgm key names). */
export const SGM_EXTRA_FILE = 'sgm_extra.safetensors';

/** Key, in `sgm_extra.safetensors`' `__metadata__`, of the sgm file's own `__metadata__` (as JSON). */
export const SGM_METADATA_KEY = 'sgm_metadata';

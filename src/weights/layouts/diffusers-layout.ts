/**
 * Which sgm tensors a diffusers SVD folder holds, in which sub-folder and under which key (diffusers
 * `StableVideoDiffusionPipeline` layout). Pure key renaming: a `DiffusersKeyLayout` is the block structure the rules
 * need plus the sgm prefixes of the pieces diffusers holds; it knows no model (`keyLayoutForModel` in
 * `src/models/diffusers-config.ts` derives one from a model description, `keyLayoutFromDiffusersConfigs` from a
 * folder's configs).
 * - `unet/` ← `<unet>.*` (key-maps/unet.ts);
 * - `vae/` ← `encoder.*` from **`<condEncoder>.encoder.*`** and `quant_conv.*` from `<condEncoder>.quant_conv.*` (the
 *   conditioning autoencoder, the only copy with a quant_conv: the first stage has none), `decoder.*` from
 *   `<firstStageDecoder>.*` (key-maps/vae.ts);
 * - `image_encoder/` ← `<clipVisual>.*` (key-maps/clip.ts).
 * Everything else (the first-stage encoder, the conditioning autoencoder's unused decoder and post_quant_conv, the
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
import {
  DiffusersConfigFields,
  type DiffusersConfigs,
  UNET_DEFAULT_LAYERS_PER_BLOCK,
  unetLevels,
  VAE_DEFAULT_BLOCK_OUT_CHANNELS,
} from './diffusers-config-json.ts';

export type DiffusersComponent = 'unet' | 'vae' | 'image_encoder';
export const DIFFUSERS_COMPONENTS: readonly DiffusersComponent[] = ['unet', 'vae', 'image_encoder'];

/** The sgm module prefixes (no trailing dot) of the pieces a diffusers folder holds. */
export interface DiffusersSgmPrefixes {
  /** The VideoUNet (`model.diffusion_model`). */
  readonly unet: string;
  /** The open_clip image tower (`conditioner.embedders.<i>.open_clip.model.visual`); undefined: none. */
  readonly clipVisual?: string;
  /**
   * The conditioning autoencoder (`conditioner.embedders.<i>.encoder`): diffusers' VAE encoder and quant_conv;
   * undefined: none.
   */
  readonly condEncoder?: string;
  /** The first-stage decoder (`first_stage_model.decoder`): diffusers' VAE decoder. */
  readonly firstStageDecoder: string;
}

/**
 * The prefixes of a diffusers SVD folder: the SVD conditioner order (image embedder 0, conditioning autoencoder 3),
 * the only layout `StableVideoDiffusionPipeline` folders have.
 */
export const SVD_DIFFUSERS_PREFIXES: DiffusersSgmPrefixes = Object.freeze({
  unet: 'model.diffusion_model',
  clipVisual: 'conditioner.embedders.0.open_clip.model.visual',
  condEncoder: 'conditioner.embedders.3.encoder',
  firstStageDecoder: 'first_stage_model.decoder',
});

/** The block structure the key rules need, and where the pieces live in the sgm file. */
export interface DiffusersKeyLayout {
  readonly unet: UNetKeyLayout;
  /** The first-stage decoder's levels (the encoder rules need the same count). */
  readonly vae: VaeKeyLayout;
  readonly prefixes: DiffusersSgmPrefixes;
}

/** Where one sgm tensor lives in a diffusers folder: component, key(s) in that component's file, transform. */
export interface DiffusersPlacement extends TargetMapping {
  readonly component: DiffusersComponent;
}

/**
 * The sgm key prefixes (with their trailing dot) of every tensor a diffusers folder holds: the UNet, the conditioning
 * autoencoder's encoder and quant_conv, the first-stage decoder, the CLIP image tower.
 */
export function diffusersHeldSources(p: DiffusersSgmPrefixes): {
  readonly unet: string;
  readonly vaeEncoder: string | undefined;
  readonly quantConv: string | undefined;
  readonly vaeDecoder: string;
  readonly clipVisual: string | undefined;
} {
  return {
    unet: `${p.unet}.`,
    vaeEncoder: p.condEncoder === undefined ? undefined : `${p.condEncoder}.encoder.`,
    quantConv: p.condEncoder === undefined ? undefined : `${p.condEncoder}.quant_conv.`,
    vaeDecoder: `${p.firstStageDecoder}.`,
    clipVisual: p.clipVisual === undefined ? undefined : `${p.clipVisual}.`,
  };
}

/** Whether `key` lies under `prefix` (which ends with a dot; undefined: nothing does). */
function under(key: string, prefix: string | undefined): prefix is string {
  return prefix !== undefined && key.startsWith(prefix);
}

/**
 * The key layout of a diffusers folder from its configs' block-structure fields (UNet `block_out_channels`,
 * `down_block_types`, `layers_per_block`; VAE `block_out_channels`), absent fields taking the class defaults, with
 * the SVD prefixes. `folder` names the folder in errors (CheckpointFormatError 'bad-config').
 */
export function keyLayoutFromDiffusersConfigs(configs: DiffusersConfigs, folder = '<diffusers>'): DiffusersKeyLayout {
  const u = DiffusersConfigFields.of(configs, 'unet', folder);
  const { channels, attention } = unetLevels(u);
  const numResBlocks = u.perLevel('layers_per_block', channels.length, UNET_DEFAULT_LAYERS_PER_BLOCK);
  const v = DiffusersConfigFields.of(configs, 'vae', folder);
  return {
    unet: { numResBlocks, attention },
    vae: { numLevels: v.ints('block_out_channels', VAE_DEFAULT_BLOCK_OUT_CHANNELS).length },
    prefixes: SVD_DIFFUSERS_PREFIXES,
  };
}

/** The diffusers placement of an sgm key, or undefined when diffusers has no place for it. */
export function sgmKeyToDiffusers(key: string, layout: DiffusersKeyLayout): DiffusersPlacement | undefined {
  const src = diffusersHeldSources(layout.prefixes);
  if (under(key, src.unet)) {
    const k = unetKeyToDiffusers(key.slice(src.unet.length), layout.unet);
    return k === undefined ? undefined : { component: 'unet', keys: [k], transform: COPY };
  }
  if (under(key, src.vaeEncoder)) {
    const m = vaeEncoderKeyToDiffusers(key.slice(src.vaeEncoder.length), layout.vae);
    return m && { component: 'vae', keys: [`encoder.${m.key}`], transform: m.transform };
  }
  if (under(key, src.quantConv)) {
    const rest = key.slice(src.quantConv.length);
    return isParamName(rest) ? { component: 'vae', keys: [`quant_conv.${rest}`], transform: COPY } : undefined;
  }
  if (under(key, src.vaeDecoder)) {
    const m = vaeDecoderKeyToDiffusers(key.slice(src.vaeDecoder.length), layout.vae);
    return m && { component: 'vae', keys: [`decoder.${m.key}`], transform: m.transform };
  }
  if (under(key, src.clipVisual)) {
    const m = clipKeyToHf(key.slice(src.clipVisual.length));
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
  const src = diffusersHeldSources(layout.prefixes);
  const sgm = (k: string | undefined, transform: KeyTransform = COPY, part = 0): DiffusersKeyMeaning =>
    k === undefined ? { kind: 'unknown' } : { kind: 'sgm', key: k, part, transform };
  switch (component) {
    case 'unet': {
      const k = unetKeyFromDiffusers(key, layout.unet);
      return sgm(k === undefined ? undefined : `${src.unet}${k}`);
    }
    case 'vae': {
      const [head, ...tail] = key.split('.');
      const rest = tail.join('.');
      if (head === 'encoder' && src.vaeEncoder !== undefined) {
        const m = vaeEncoderKeyFromDiffusers(rest, layout.vae);
        return m ? sgm(`${src.vaeEncoder}${m.key}`, m.transform) : sgm(undefined);
      }
      if (head === 'decoder') {
        const m = vaeDecoderKeyFromDiffusers(rest, layout.vae);
        return m ? sgm(`${src.vaeDecoder}${m.key}`, m.transform) : sgm(undefined);
      }
      if (head === 'quant_conv' && src.quantConv !== undefined && isParamName(rest))
        return sgm(`${src.quantConv}${rest}`);
      return sgm(undefined);
    }
    case 'image_encoder': {
      if (CLIP_DERIVED_HF_KEYS.includes(key)) return { kind: 'derived' };
      const m = clipKeyFromHf(key);
      return m && src.clipVisual !== undefined ? sgm(`${src.clipVisual}${m.key}`, m.transform, m.part) : sgm(undefined);
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

/**
 * The three `config.json` objects of a diffusers SVD folder (`unet/`, `vae/`, `image_encoder/`) as plain JSON, and a
 * reader of their fields with the class defaults `from_pretrained` applies to absent fields (diffusers
 * `UNetSpatioTemporalConditionModel`, `AutoencoderKLTemporalDecoder`, transformers `CLIPVisionConfig`). Errors are
 * one-line CheckpointFormatErrors ('bad-config') naming the `config.json`. Knows no model: what the fields mean for a
 * model is `src/models/diffusers-config.ts`; the block structure the key rules need is `diffusers-layout.ts`.
 */
import { CheckpointFormatError } from '../checkpoint-errors.ts';

export type JsonObject = Record<string, unknown>;

export interface DiffusersConfigs {
  readonly unet: JsonObject;
  readonly vae: JsonObject;
  readonly image_encoder: JsonObject;
}

/** The fields of one `config.json`; `label` (the file) prefixes every error. */
export class DiffusersConfigFields {
  constructor(
    readonly value: JsonObject,
    readonly label: string,
  ) {}

  /** The fields of `configs[part]`, labelled `<folder>/<part>/config.json`. */
  static of(configs: DiffusersConfigs, part: keyof DiffusersConfigs, folder: string): DiffusersConfigFields {
    return new DiffusersConfigFields(configs[part], `${folder}/${part}/config.json`);
  }

  fail(problem: string): never {
    throw new CheckpointFormatError(this.label, 'bad-config', problem);
  }

  /** The field, or `fallback` (the class default) when it is absent or null. */
  private get(key: string, fallback: unknown): unknown {
    const v = this.value[key];
    return v === undefined || v === null ? fallback : v;
  }

  num(key: string, fallback: number): number {
    const v = this.get(key, fallback);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`"${key}" must be a number`);
    return v;
  }

  int(key: string, fallback: number): number {
    const v = this.num(key, fallback);
    if (!Number.isInteger(v)) this.fail(`"${key}" must be an integer`);
    return v;
  }

  ints(key: string, fallback: readonly number[]): number[] {
    const v = this.get(key, fallback);
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isInteger(x))) {
      this.fail(`"${key}" must be a non-empty list of integers`);
    }
    return [...v] as number[];
  }

  strings(key: string, n: number, fallback: readonly string[]): string[] {
    const v = this.get(key, fallback);
    if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === 'string')) {
      this.fail(`"${key}" must be a list of ${n} strings (one per block_out_channels entry)`);
    }
    return [...v] as string[];
  }

  perLevel(key: string, n: number, fallback: number | readonly number[]): number[] {
    const v = this.get(key, fallback);
    if (Number.isInteger(v)) return Array(n).fill(v);
    if (!Array.isArray(v) || v.length !== n || !v.every((x) => Number.isInteger(x))) {
      this.fail(`"${key}" must be an integer or a list of ${n} integers`);
    }
    return [...v] as number[];
  }
}

/** `UNetSpatioTemporalConditionModel` defaults of the fields that decide the block structure. */
export const UNET_DEFAULT_BLOCK_OUT_CHANNELS: readonly number[] = [320, 640, 1280, 1280];
export const UNET_DEFAULT_DOWN_BLOCK_TYPES: readonly string[] = [
  'CrossAttnDownBlockSpatioTemporal',
  'CrossAttnDownBlockSpatioTemporal',
  'CrossAttnDownBlockSpatioTemporal',
  'DownBlockSpatioTemporal',
];
export const UNET_DEFAULT_LAYERS_PER_BLOCK = 2;
/** `AutoencoderKLTemporalDecoder` default `block_out_channels`. */
export const VAE_DEFAULT_BLOCK_OUT_CHANNELS: readonly number[] = [64];

/** The UNet's levels as diffusers describes them: channels, and whether each level has attention. */
export function unetLevels(u: DiffusersConfigFields): { channels: number[]; attention: boolean[] } {
  const channels = u.ints('block_out_channels', UNET_DEFAULT_BLOCK_OUT_CHANNELS);
  const down = u.strings('down_block_types', channels.length, UNET_DEFAULT_DOWN_BLOCK_TYPES);
  return { channels, attention: down.map((t) => t.startsWith('CrossAttn')) };
}

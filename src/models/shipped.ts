/**
 * The model that ships in the repository (issue 11): svd-mini's fp16 weights in `models/svd-mini/`, and its
 * camera-motion LoRAs in `models/svd-mini/loras/<name>.safetensors` (the paper's camera-motion LoRAs, arXiv 2311.15127
 * Sec. 4.3: pan left/right/up/down, zoom in/out, static). A request without `--checkpoint` uses it; a LoRA given by
 * name (`--lora zoom-in:0.8`) is one of its files.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The camera-motion LoRAs trained for svd-mini, by the name `--lora` takes. */
export const CAMERA_LORA_NAMES = Object.freeze([
  'pan-left',
  'pan-right',
  'pan-up',
  'pan-down',
  'zoom-in',
  'zoom-out',
  'static',
] as const);
export type CameraLoraName = (typeof CAMERA_LORA_NAMES)[number];

/**
 * The camera LoRAs that are trained but do not ship, and why: svd-mini does not learn to zoom (README, "Zoom does not
 * work": neither the LoRAs, a full fine-tune nor a base trained on five times the zoom clips make a held-out photo zoom).
 */
const NO_ZOOM = 'svd-mini does not learn to zoom (README, "Zoom does not work")';
export const UNSHIPPED_CAMERA_LORAS: Readonly<Partial<Record<CameraLoraName, string>>> = Object.freeze({
  'zoom-in': NO_ZOOM,
  'zoom-out': NO_ZOOM,
});

export interface ShippedModel {
  /** The preset the weights belong to. */
  readonly preset: string;
  /** The sgm single-file checkpoint. */
  readonly checkpoint: string;
  /** Named LoRA files that exist, by name. */
  readonly loras: ReadonlyMap<string, string>;
}

/** The repository's model folder (`models/svd-mini/`), found from this module's own location. */
export const SHIPPED_MODEL_DIR = fileURLToPath(new URL('../../models/svd-mini/', import.meta.url));

/** The shipped model when its weights are present in `dir`; undefined in a checkout without them. */
export function findShippedModel(dir: string = SHIPPED_MODEL_DIR): ShippedModel | undefined {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  const checkpoint = `${base}svd-mini.safetensors`;
  if (!existsSync(checkpoint)) return undefined;
  const loras = new Map<string, string>();
  for (const name of CAMERA_LORA_NAMES) {
    const file = `${base}loras/${name}.safetensors`;
    if (existsSync(file)) loras.set(name, file);
  }
  return { preset: 'svd-mini', checkpoint, loras };
}

/**
 * A `--lora` path that names a shipped LoRA: a bare camera-motion name (no folder, no extension) that is not an
 * existing file. Undefined for anything else (a path is used as given).
 */
export function shippedLoraName(path: string): CameraLoraName | undefined {
  if (!(CAMERA_LORA_NAMES as readonly string[]).includes(path) || existsSync(path)) return undefined;
  return path as CameraLoraName;
}

/**
 * The `lora` field over HTTP: camera-motion LoRAs by name only — `zoom-in`, `zoom-in:0.8`, a comma-separated list
 * (`pan-left:0.5,zoom-in`), an array of those, or the field repeated in a form. A name must be one of the camera
 * motions (src/models/shipped.ts) and one the served model has (./served-model.ts); the server maps it to the model's
 * own file. Nothing else is accepted: no request value becomes a path. The same names give the OpenAPI schema.
 */
import { CAMERA_LORA_NAMES } from '../models/shipped.ts';
import type { FieldIssue } from './errors.ts';

/** The largest |scale| a request may ask for (the LoRAs are trained at 1). */
export const MAX_CAMERA_SCALE = 2;

export interface CameraLora {
  readonly name: string;
  readonly scale: number;
}

const SCALE = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** `zoom-in:0.8` (the scale always written, so stored fields say what ran). */
export function cameraLoraText(lora: CameraLora): string {
  return `${lora.name}:${lora.scale}`;
}

function expectedText(available: ReadonlyMap<string, string>): string {
  if (available.size === 0) {
    return `nothing: this server's model has no camera-motion LoRAs (they ship with svd-mini: ${CAMERA_LORA_NAMES.join(', ')})`;
  }
  return `camera-motion LoRAs by name: ${[...available.keys()].join(', ')}, each with an optional :SCALE from -${MAX_CAMERA_SCALE} to ${MAX_CAMERA_SCALE} (default 1), comma-separated; no files`;
}

/** The items of the field: an array, a comma-separated string, or undefined for none. */
function items(value: unknown): unknown[] | undefined {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value.trim() === '' ? [] : value.split(',').map((s) => s.trim());
  if (Array.isArray(value))
    return value.flatMap((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : [v]));
  return undefined;
}

/**
 * Reads the `lora` field against the LoRAs the model has (`available`: name → file). Returns the LoRAs in the order
 * given, or the issues (each naming the field as `field`).
 */
export function readCameraLoras(
  value: unknown,
  available: ReadonlyMap<string, string>,
  field = 'lora',
): { loras: CameraLora[]; issues: FieldIssue[] } {
  const list = items(value);
  const expected = expectedText(available);
  if (list === undefined) return { loras: [], issues: [{ field, value, expected }] };
  const loras: CameraLora[] = [];
  const issues: FieldIssue[] = [];
  for (const item of list) {
    if (typeof item !== 'string') {
      issues.push({ field, value: item, expected });
      continue;
    }
    const colon = item.indexOf(':');
    const name = colon < 0 ? item : item.slice(0, colon);
    const scaleText = colon < 0 ? undefined : item.slice(colon + 1).trim();
    const scale = scaleText === undefined ? 1 : SCALE.test(scaleText) ? Number(scaleText) : Number.NaN;
    if (!available.has(name) || !(CAMERA_LORA_NAMES as readonly string[]).includes(name)) {
      issues.push({ field, value: item, expected });
    } else if (!(Math.abs(scale) <= MAX_CAMERA_SCALE)) {
      issues.push({
        field,
        value: item,
        expected: `${name}:SCALE with SCALE from -${MAX_CAMERA_SCALE} to ${MAX_CAMERA_SCALE}`,
      });
    } else if (loras.some((l) => l.name === name)) {
      issues.push({ field, value: item, expected: `${name} given once (its scale sets its strength)` });
    } else {
      loras.push({ name, scale });
    }
  }
  return { loras, issues };
}

/** The LoRA files and scales to run with (every name must be in `available`: read them with readCameraLoras). */
export function cameraLoraFiles(
  loras: readonly CameraLora[],
  available: ReadonlyMap<string, string>,
): { path: string; scale: number }[] {
  return loras.map((l) => {
    const path = available.get(l.name);
    if (path === undefined) throw new Error(`the camera LoRA ${l.name} is not among this model's`);
    return { path, scale: l.scale };
  });
}

/** The OpenAPI schema of the field for a model with these LoRA names (none: any value is refused). */
export function cameraLoraSchema(names: readonly string[]): Record<string, unknown> {
  if (names.length === 0) {
    return {
      description: `camera-motion LoRAs by name: this server's model has none (they ship with svd-mini), so any value is a 422`,
      not: {},
    };
  }
  const one = `(${names.join('|')})(:-?([0-9]+(\\.[0-9]*)?|\\.[0-9]+))?`;
  return {
    description: `camera-motion LoRAs by name, NAME or NAME:SCALE (|SCALE| ≤ ${MAX_CAMERA_SCALE}, default 1); several add up. In a form: comma-separated or the field repeated`,
    oneOf: [
      { type: 'string', pattern: `^${one}(,${one})*$` },
      { type: 'array', items: { type: 'string', pattern: `^${one}(,${one})*$` } },
    ],
    examples: [`${names[0]}:0.8`],
  };
}

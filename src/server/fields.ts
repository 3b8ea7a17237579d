/**
 * The request fields `POST /v1/videos` takes: one table that both checks a request's field names and generates the
 * OpenAPI schema (./openapi.ts). The values then go through the pipeline's `parseGenerateRequest` — the same
 * validation `svd generate` uses — and the server's limits (./limits.ts).
 *
 * Names are the request's camelCase names (`motionBucket`); the CLI's flag spellings (`motion-bucket`) and snake_case
 * (`motion_bucket`) are accepted too. Fields that name files or machine resources (`checkpoint`, `config`, `preset`,
 * `noise`, `out`, `saveLatents`, `saveIntermediates`, `provider`, `threads`) are the server's to choose and are
 * refused by name: no request value ever becomes a path. `lora` takes camera-motion LoRAs by name only
 * (./camera-loras.ts), which the server maps to its model's own files.
 */
import { GUIDER_KINDS, SAMPLER_KINDS } from '../diffusion/config.ts';
import type { GenerateRequestInput } from '../pipeline/request.ts';
import { type FieldIssue, fieldError } from './errors.ts';
import type { ServerLimits } from './limits.ts';

export type FieldType = 'integer' | 'number' | 'string' | 'boolean';

export interface HttpField {
  readonly name: keyof GenerateRequestInput;
  readonly type: FieldType;
  readonly description: string;
  readonly minimum?: number;
  /** A number, or the name of the limit that bounds it. */
  readonly maximum?: number | keyof ServerLimits;
  readonly enum?: readonly string[];
  /** Other accepted forms (e.g. seed: "random" or a list), for the schema. */
  readonly alsoAccepts?: string;
}

export const HTTP_FIELDS: readonly HttpField[] = [
  {
    name: 'frames',
    type: 'integer',
    minimum: 1,
    maximum: 'maxFrames',
    description: 'frames per video (default: the model’s)',
  },
  {
    name: 'steps',
    type: 'integer',
    minimum: 1,
    maximum: 'maxSteps',
    description: 'sampling steps (default: the model’s)',
  },
  {
    name: 'seed',
    type: 'integer',
    minimum: 0,
    maximum: 2 ** 32 - 1,
    description: 'the seed (default 23); "random" draws one; a list (array or "1,2,3") makes one video per seed',
    alsoAccepts: '"random", an array of integers, or "1,2,3"',
  },
  { name: 'numVideos', type: 'integer', minimum: 1, maximum: 'maxVideos', description: 'videos with seeds s, s+1, …' },
  {
    name: 'fps',
    type: 'integer',
    minimum: 1,
    maximum: 1000,
    description: 'video fps; the model gets fps_id = fps − 1',
  },
  {
    name: 'fpsId',
    type: 'integer',
    minimum: 0,
    maximum: 1000,
    description: 'the fps_id micro-condition (not with fps)',
  },
  {
    name: 'motionBucket',
    type: 'integer',
    minimum: 0,
    maximum: 100_000,
    description: 'motion bucket id (trained 0–255)',
  },
  { name: 'condAug', type: 'number', minimum: 0, description: 'noise augmentation of the conditioning frame' },
  { name: 'minCfg', type: 'number', minimum: 0, description: 'guidance scale at the first frame' },
  { name: 'maxCfg', type: 'number', minimum: 0, description: 'guidance scale at the last frame' },
  { name: 'guider', type: 'string', enum: GUIDER_KINDS, description: 'guidance schedule over frames' },
  { name: 'sampler', type: 'string', enum: SAMPLER_KINDS, description: 'the sampler' },
  { name: 'sChurn', type: 'number', minimum: 0, description: 'EDM churn (euler, heun)' },
  { name: 'sTmin', type: 'number', minimum: 0, description: 'EDM churn σ range, low end' },
  { name: 'sTmax', type: 'number', minimum: 0, description: 'EDM churn σ range, high end' },
  { name: 'sNoise', type: 'number', minimum: 0, description: 'EDM churn noise scale' },
  {
    name: 'size',
    type: 'string',
    description: 'output WxH (each a multiple of the model’s, pixels within the limit) or "native" (the image’s size)',
    alsoAccepts: 'WxH or native',
  },
  { name: 'decodeChunk', type: 'integer', minimum: 1, maximum: 10_000, description: 'frames decoded at once' },
  { name: 'splitCfg', type: 'boolean', description: 'run the two guidance branches one after the other' },
  {
    name: 'lora',
    type: 'string',
    description: 'camera-motion LoRAs by name (zoom-in, zoom-in:0.8, pan-left:0.5,zoom-in), those the model has',
    alsoAccepts: 'an array of names, or the field repeated',
  },
];

/** Fields of `svd generate` that only the server sets. */
export const SERVER_ONLY_FIELDS: readonly string[] = [
  'checkpoint',
  'preset',
  'config',
  'noise',
  'out',
  'overwrite',
  'saveLatents',
  'saveIntermediates',
  'provider',
  'threads',
];

const BY_NAME = new Map<string, HttpField>(HTTP_FIELDS.map((f) => [f.name, f]));

/** `motion-bucket`, `motion_bucket` → `motionBucket`. */
export function canonicalFieldName(name: string): string {
  return name.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The limit value a field's maximum names, or its number. */
export function fieldMaximum(field: HttpField, limits: ServerLimits): number | undefined {
  return typeof field.maximum === 'string' ? limits[field.maximum] : field.maximum;
}

/**
 * Checks the names (and, for form fields given as text, the boolean spellings) of a request's parameters and returns
 * them under their canonical names. `image` is not among them (the caller handles the upload). Throws a 422 listing
 * every unknown or server-only field.
 */
export function normaliseFields(raw: Readonly<Record<string, unknown>>, fromText: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const issues: FieldIssue[] = [];
  for (const [given, value] of Object.entries(raw)) {
    const name = canonicalFieldName(given);
    if (SERVER_ONLY_FIELDS.includes(name)) {
      issues.push({ field: given, expected: 'not settable over HTTP (the server chooses the model and the output)' });
      continue;
    }
    const field = BY_NAME.get(name);
    if (!field) {
      issues.push({ field: given, expected: `a known field: image, ${HTTP_FIELDS.map((f) => f.name).join(', ')}` });
      continue;
    }
    if (name in out) {
      issues.push({ field: given, value, expected: `${name} given once` });
      continue;
    }
    let v = value;
    if (fromText && field.type === 'boolean' && typeof v === 'string') {
      if (v === 'true' || v === 'on' || v === '1') v = true;
      else if (v === 'false' || v === 'off' || v === '0' || v === '') v = false;
    }
    out[name] = v;
  }
  if (issues.length > 0) throw fieldError(issues);
  return out;
}

/**
 * A generation request, validated once for every front end: the CLI turns argv into a `GenerateRequestInput` (values
 * as strings), the HTTP server turns JSON into one (numbers, lists). `parseGenerateRequest` checks every field and
 * throws a `GenerateRequestError` listing each problem with the field's name, the value given and what was expected.
 * Values that depend on the model (frames, steps, cfg, …) stay overrides here; `resolveParams` fills in the model's.
 */

import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { GUIDER_KINDS, type GuiderKind, SAMPLER_KINDS, type SamplerKind } from '../diffusion/config.ts';
import type { SamplingDefaults } from '../models/description.ts';
import { type LoraSpec, parseLoraSpec } from '../models/lora/spec.ts';
import {
  findShippedModel,
  SHIPPED_MODEL_DIR,
  type ShippedModel,
  shippedLoraName,
  UNSHIPPED_CAMERA_LORAS,
} from '../models/shipped.ts';
import type { Provider } from '../runtime/protocol.ts';
import { defaultParams, type GenerateParams } from './params.ts';

/** An input image: a file path, or encoded bytes (PNG, JPEG, WebP) with a name for messages. */
export type ImageSource = string | { readonly name: string; readonly bytes: Uint8Array };

/** What a front end hands over. Numbers may be given as numbers or as decimal strings. */
export interface GenerateRequestInput {
  image?: unknown;
  checkpoint?: unknown;
  preset?: unknown;
  config?: unknown;
  /** LoRAs: `FILE[:SCALE]`, `{ path, scale }`, or a list of them (applied together: their updates add). */
  lora?: unknown;
  frames?: unknown;
  steps?: unknown;
  /** A seed, a list of seeds (`1,2,3` or an array), or `random`. */
  seed?: unknown;
  /** Videos per image: seeds s, s + 1, … from the first seed. */
  numVideos?: unknown;
  fps?: unknown;
  fpsId?: unknown;
  motionBucket?: unknown;
  condAug?: unknown;
  minCfg?: unknown;
  maxCfg?: unknown;
  guider?: unknown;
  sampler?: unknown;
  sChurn?: unknown;
  sTmin?: unknown;
  sTmax?: unknown;
  sNoise?: unknown;
  /** `WxH`, `{ width, height }` or `native`. */
  size?: unknown;
  decodeChunk?: unknown;
  splitCfg?: unknown;
  noise?: unknown;
  out?: unknown;
  saveLatents?: unknown;
  saveIntermediates?: unknown;
  /** Replace existing outputs (default: refuse them before any work). */
  overwrite?: unknown;
  provider?: unknown;
  threads?: unknown;
  /** Multi-view orbits only (`svd orbit`, ./orbit-request.ts): degrees, one value or one per view. */
  elevation?: unknown;
  /** Multi-view orbits only: degrees, one per view (`72,144,…` or an array). */
  azimuths?: unknown;
  /** Multi-view orbits only: also write the views as numbered PNG frames into this folder. */
  outFrames?: unknown;
}

export type RequestField = keyof GenerateRequestInput;

/** One problem with one field. */
export interface RequestIssue {
  readonly field: RequestField;
  readonly value: unknown;
  /** What was expected, e.g. "an integer from 1 to 1000" (for a missing value: what to give). */
  readonly expected: string;
}

export class GenerateRequestError extends Error {
  override name = 'GenerateRequestError';
  constructor(readonly issues: readonly RequestIssue[]) {
    super(issues.map(describeIssue).join('; '));
  }
}

/** `frames "0": expected an integer from 1 to 1000` (a missing value: `image: required, a PNG, …`). */
export function describeIssue(issue: RequestIssue): string {
  if (issue.value === undefined) return `${issue.field}: ${issue.expected}`;
  return `${issue.field} ${JSON.stringify(issue.value)}: expected ${issue.expected}`;
}

export interface ModelChoice {
  /** sgm `.safetensors` file or diffusers folder. */
  readonly checkpoint: string;
  /**
   * A preset name, or a config in the reference's structure (path or inline JSON); neither: a diffusers folder's own
   * `config.json` files, else svd-xt (./resolve-model.ts).
   */
  readonly preset?: string;
  readonly config?: string;
}

export interface GenerateRequest {
  readonly images: readonly ImageSource[];
  readonly model: ModelChoice;
  /** LoRAs merged into the UNet's weights as they load (none: the checkpoint as is). */
  readonly loras: readonly LoraSpec[];
  /** One video per (image, seed), images outermost. */
  readonly seeds: readonly number[];
  /** Whether the seeds were drawn (`--seed random`); they are recorded in the result either way. */
  readonly seedsDrawn: boolean;
  /** Sampling values given; the rest come from the model. */
  readonly overrides: Readonly<Partial<Omit<GenerateParams, 'seed'>>>;
  /** fps of the written video (default fps_id + 1). */
  readonly fps?: number;
  /** Output size; default: the model's trained size (cover + centre crop). */
  readonly size?: { readonly width: number; readonly height: number } | 'native';
  /** safetensors with `cond_noise`, `latent_noise` (and `churn_noise.<i>`) instead of the RNG (one video only). */
  readonly noise?: string;
  /** A video file or a folder for PNG frames (ending in `/`); none: numbered files in `outputs/` (./output-plan.ts). */
  readonly out?: string;
  readonly saveLatents?: string;
  readonly saveIntermediates?: string;
  /** Replace existing outputs; otherwise an existing output is an error before any work. */
  readonly overwrite: boolean;
  readonly provider: Provider;
  readonly threads?: number;
  /** A multi-view orbit (`svd orbit`): the camera as given; resolved against the model in the job. */
  readonly orbit?: OrbitRequest;
}

/** The orbit part of a request (./orbit-request.ts reads it; the job resolves it for the model's view count). */
export interface OrbitRequest {
  /** Degrees: one value for every view, or one per view; default 10 (the reference script's). */
  readonly elevationDeg?: number | readonly number[];
  /** Degrees, one per view; default evenly spaced, the last view (the input view) at 0. */
  readonly azimuthsDeg?: readonly number[];
  /** Also write the views as numbered PNG frames into this folder. */
  readonly outFrames?: string;
}

/**
 * The model's defaults, then the LoRAs' own (`loraSamplingDefaults`: the motion bucket of their training clips), then
 * the request's overrides, for the video with `seed`.
 */
export function resolveParams(
  request: GenerateRequest,
  sampling: SamplingDefaults,
  seed: number,
  loraDefaults: Partial<GenerateParams> = {},
): GenerateParams {
  return { ...defaultParams(sampling), ...loraDefaults, ...request.overrides, seed };
}

const DEFAULT_SEED = 23;
const MAX_SEED = 2 ** 32 - 1;

/** Reads fields, collecting issues instead of throwing at the first one. */
class Reader {
  readonly issues: RequestIssue[] = [];
  constructor(readonly input: GenerateRequestInput) {}

  issue(field: RequestField, value: unknown, expected: string): undefined {
    this.issues.push({ field, value, expected });
    return undefined;
  }

  number(field: RequestField, min: number, max = Number.POSITIVE_INFINITY): number | undefined {
    const v = this.input[field];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
    const range = max === Number.POSITIVE_INFINITY ? `a number ≥ ${min}` : `a number from ${min} to ${max}`;
    if (!Number.isFinite(n) || n < min || n > max) return this.issue(field, v, range);
    return n;
  }

  int(field: RequestField, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.input[field];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
      return this.issue(field, v, range);
    }
    return n;
  }

  oneOf<T extends string>(field: RequestField, allowed: readonly T[]): T | undefined {
    const v = this.input[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      return this.issue(field, v, `one of ${allowed.join(', ')}`);
    }
    return v as T;
  }

  path(field: RequestField): string | undefined {
    const v = this.input[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.trim() === '') return this.issue(field, v, 'a path');
    return v;
  }

  bool(field: RequestField): boolean | undefined {
    const v = this.input[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') return this.issue(field, v, 'true or false');
    return v;
  }
}

function readImages(r: Reader): ImageSource[] {
  const v = r.input.image;
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
  if (list.length === 0) {
    r.issue('image', undefined, 'required: an input image (PNG, JPEG or WebP)');
    return [];
  }
  const out: ImageSource[] = [];
  for (const item of list) {
    if (typeof item === 'string' && item.trim() !== '') out.push(item);
    else if (
      typeof item === 'object' &&
      item !== null &&
      typeof (item as { name?: unknown }).name === 'string' &&
      (item as { bytes?: unknown }).bytes instanceof Uint8Array
    ) {
      out.push(item as ImageSource);
    } else r.issue('image', item, 'a path, or { name, bytes } with the encoded image');
  }
  return out;
}

function readLoras(r: Reader): LoraSpec[] {
  const v = r.input.lora;
  const list = v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
  const out: LoraSpec[] = [];
  for (const item of list) {
    let spec: LoraSpec | undefined;
    if (typeof item === 'string') spec = parseLoraSpec(item);
    else if (typeof item === 'object' && item !== null) {
      const { path, scale = 1 } = item as { path?: unknown; scale?: unknown };
      const n = typeof scale === 'string' && scale.trim() !== '' ? Number(scale) : scale;
      if (typeof path === 'string' && path.trim() !== '' && typeof n === 'number' && Number.isFinite(n)) {
        spec = { path, scale: n };
      }
    }
    if (spec) out.push(spec);
    else r.issue('lora', item, 'FILE[:SCALE] (a LoRA .safetensors file; SCALE a number, default 1)');
  }
  return out;
}

function readSeeds(r: Reader): { seeds: number[]; drawn: boolean } {
  const v = r.input.seed;
  const numVideos = r.int('numVideos', 1, 10_000);
  let seeds: number[];
  let drawn = false;
  if (v === undefined || v === null) seeds = [DEFAULT_SEED];
  else if (v === 'random') {
    seeds = [randomInt(0, MAX_SEED)];
    drawn = true;
  } else {
    const items = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [v];
    seeds = [];
    for (const item of items) {
      const n =
        typeof item === 'number' ? item : typeof item === 'string' && /^\s*\d+\s*$/.test(item) ? Number(item) : -1;
      if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SEED) {
        r.issue('seed', v, `an integer from 0 to ${MAX_SEED}, a comma-separated list of them, or random`);
        return { seeds: [DEFAULT_SEED], drawn };
      }
      seeds.push(n);
    }
  }
  if (numVideos !== undefined) {
    if (seeds.length > 1 && seeds.length !== numVideos) {
      r.issue('numVideos', r.input.numVideos, `${seeds.length} (the number of seeds given), or give one seed`);
    } else if (seeds.length === 1) {
      seeds = Array.from({ length: numVideos }, (_, i) => seeds[0] + i);
      if (seeds[seeds.length - 1] > MAX_SEED) r.issue('numVideos', numVideos, `seeds up to ${MAX_SEED}`);
    }
  }
  const dup = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (dup !== undefined) r.issue('seed', v, `distinct seeds (${dup} is given twice: the videos would be identical)`);
  return { seeds, drawn };
}

function readSize(r: Reader): GenerateRequest['size'] {
  const v = r.input.size;
  if (v === undefined || v === null) return undefined;
  if (v === 'native') return 'native';
  let width = Number.NaN;
  let height = Number.NaN;
  if (typeof v === 'string') {
    const m = /^(\d+)x(\d+)$/.exec(v.trim());
    if (m) [width, height] = [Number(m[1]), Number(m[2])];
  } else if (typeof v === 'object') {
    ({ width, height } = v as { width: number; height: number });
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    return r.issue('size', v, 'WxH (e.g. 1024x576) or native');
  }
  return { width, height };
}

export interface ParseRequestOptions {
  /** The message when no checkpoint is given and no model ships. */
  noModelHint?: string;
  /** The model used without `checkpoint` (default: the repository's svd-mini when present; null: none). */
  shipped?: ShippedModel | null;
}

/**
 * The model of a request: the given checkpoint with its preset or config; without a checkpoint, the shipped model
 * (svd-mini) unless another preset or a config was asked for, which need their own weights.
 */
function chooseModel(
  r: Reader,
  given: { checkpoint?: string; preset?: string; config?: string },
  shipped: ShippedModel | undefined,
  noModelHint: string | undefined,
): GenerateRequest['model'] {
  const { checkpoint, preset, config } = given;
  if (checkpoint !== undefined) {
    return { checkpoint, preset: config === undefined ? preset : undefined, config };
  }
  if (r.issues.length === 0) {
    if (!shipped) {
      r.issue('checkpoint', undefined, noModelHint ?? 'required: a checkpoint (.safetensors file or diffusers folder)');
    } else if (config !== undefined) {
      r.issue('checkpoint', undefined, 'required with --config: the weights of that model');
    } else if (preset !== undefined && preset !== shipped.preset) {
      r.issue('checkpoint', undefined, `required with --preset ${preset}: its weights do not ship with svd-ts`);
    }
  }
  return { checkpoint: shipped?.checkpoint ?? '', preset: shipped?.preset ?? 'svd-xt', config: undefined };
}

/** `--lora zoom-in`: a camera-motion name becomes the shipped LoRA file, when the model is the shipped one. */
function resolveNamedLoras(
  r: Reader,
  loras: readonly LoraSpec[],
  checkpoint: string,
  shipped: ShippedModel | undefined,
): LoraSpec[] {
  return loras.map((spec) => {
    const name = shippedLoraName(spec.path);
    if (name === undefined) return spec;
    const file = shipped?.loras.get(name);
    if (shipped === undefined || resolve(checkpoint) !== resolve(shipped.checkpoint)) {
      r.issue('lora', spec.path, `a LoRA file: the camera LoRA "${name}" ships for svd-mini, the default model only`);
    } else if (file === undefined) {
      const why = UNSHIPPED_CAMERA_LORAS[name];
      r.issue(
        'lora',
        spec.path,
        why
          ? `a LoRA file: the camera LoRA "${name}" does not ship: ${why}`
          : `a LoRA file: the camera LoRA "${name}" is missing from ${SHIPPED_MODEL_DIR}loras/`,
      );
    }
    return file === undefined ? spec : { path: file, scale: spec.scale };
  });
}

/** Validates a request; throws a GenerateRequestError with every issue found. */
export function parseGenerateRequest(input: GenerateRequestInput, options: ParseRequestOptions = {}): GenerateRequest {
  const r = new Reader(input);
  const images = readImages(r);
  const checkpoint = r.path('checkpoint');
  const preset = r.path('preset');
  const config = r.path('config');
  if (preset !== undefined && config !== undefined) r.issue('config', config, 'either --preset or --config, not both');
  const loras = readLoras(r);
  const { seeds, drawn } = readSeeds(r);

  const overrides: Partial<Omit<GenerateParams, 'seed'>> = {};
  const set = <K extends keyof typeof overrides>(k: K, v: (typeof overrides)[K] | undefined) => {
    if (v !== undefined) overrides[k] = v;
  };
  set('frames', r.int('frames', 1, 1000));
  set('steps', r.int('steps', 1, 10000));
  const fps = r.int('fps', 1, 1000);
  const fpsId = r.int('fpsId', 0, 1000);
  if (fps !== undefined && fpsId !== undefined) r.issue('fpsId', input.fpsId, 'either fps or fpsId, not both');
  set('fpsId', fpsId ?? (fps !== undefined ? fps - 1 : undefined));
  set('motionBucketId', r.int('motionBucket', 0, 100_000));
  set('condAug', r.number('condAug', 0));
  const minCfg = r.number('minCfg', 0);
  const maxCfg = r.number('maxCfg', 0);
  if (minCfg !== undefined && maxCfg !== undefined && minCfg > maxCfg) {
    r.issue('minCfg', input.minCfg, `at most maxCfg (${maxCfg})`);
  }
  set('minCfg', minCfg);
  set('maxCfg', maxCfg);
  set('guider', r.oneOf<GuiderKind>('guider', GUIDER_KINDS));
  set('sampler', r.oneOf<SamplerKind>('sampler', SAMPLER_KINDS));
  set('sChurn', r.number('sChurn', 0));
  set('sTmin', r.number('sTmin', 0));
  set('sTmax', r.number('sTmax', 0));
  set('sNoise', r.number('sNoise', 0));
  set('decodeChunk', r.int('decodeChunk', 1, 10_000));
  set('splitCfg', r.bool('splitCfg'));
  for (const field of ['elevation', 'azimuths', 'outFrames'] as const) {
    if (input[field] !== undefined) r.issue(field, input[field], 'nothing here: it is an option of svd orbit');
  }
  const size = readSize(r);
  const noise = r.path('noise');
  if (noise !== undefined && images.length * seeds.length > 1) {
    r.issue('noise', noise, 'a single video (the noise file holds one video’s draws)');
  }
  const out = r.path('out');
  const provider = r.oneOf<Provider>('provider', ['cpu', 'webgpu', 'cuda']) ?? 'cpu';
  const threads = r.int('threads', 1, 1024);
  const shipped = options.shipped === undefined ? findShippedModel() : (options.shipped ?? undefined);
  const model = chooseModel(r, { checkpoint, preset, config }, shipped, options.noModelHint);
  const namedLoras = resolveNamedLoras(r, loras, model.checkpoint, shipped);
  if (r.issues.length > 0) throw new GenerateRequestError(r.issues);
  return {
    images,
    model,
    loras: namedLoras,
    seeds,
    seedsDrawn: drawn,
    overrides,
    fps,
    size,
    noise,
    out,
    saveLatents: r.path('saveLatents'),
    saveIntermediates: r.path('saveIntermediates'),
    overwrite: r.bool('overwrite') ?? false,
    provider,
    threads,
  };
}

/**
 * A LoRA's own sampling defaults: what its training clips were conditioned on. A camera-motion LoRA (arXiv
 * 2311.15127 §4.3) is trained on clips of one camera move, whose `motion_bucket_id` sits where that move sits in the
 * corpus (svd-mini's pans: median 187–193 of 0–255; static clips: 16), not at the model's default 127; sampled at 127
 * the LoRA fights its micro-condition (measured on svd-mini's pan-left: the classifier read `pan-left` for 1 of 6
 * (image, seed) pairs at 127 and 6 of 6 at 200). The training run writes the median motion bucket of its clips into
 * the file's metadata; generation uses it when the request sets no `--motion-bucket`, and says so.
 *
 * A LoRA may also record the guidance it was measured at (`--min-cfg` → `--max-cfg`): svd-mini's camera LoRAs are
 * exported with guidance 1 → 1, under which their pans are read as pans far more often than under the model's
 * 1 → 2.5, which pulls the later frames back towards the input (scripts/svd-mini/export.ts). Generation uses it when
 * the request sets neither `--min-cfg` nor `--max-cfg`.
 */
import { SafetensorsFile } from '../../weights/safetensors-reader.ts';
import { LoraError } from './errors.ts';
import type { LoraSpec } from './spec.ts';

/** Metadata key: the median `motion_bucket_id` of the LoRA's training clips (a decimal integer string). */
export const LORA_MOTION_BUCKET_KEY = 'svd_ts_motion_bucket_id';
/** Metadata keys: the guidance the LoRA was measured at, first and last frame (decimal number strings, ≥ 0). */
export const LORA_MIN_CFG_KEY = 'svd_ts_min_cfg';
export const LORA_MAX_CFG_KEY = 'svd_ts_max_cfg';

/** The median of integer labels (the lower middle of an even count: a label that occurs); undefined when empty. */
export function medianLabel(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export interface LoraSamplingDefaults {
  /** The motion bucket to sample at; undefined when no LoRA of the request carries one. */
  motionBucketId?: number;
  /** What it came from, for the notice (e.g. `pan-left.safetensors 187`). */
  sources: string[];
  /** The guidance to sample at, when a LoRA of the request records one, and what it came from. */
  guidance?: { minCfg: number; maxCfg: number; sources: string[] };
}

/** A scale-weighted mean being gathered. */
class WeightedMean {
  private sum = 0;
  private weight = 0;
  add(value: number, w: number): void {
    this.sum += w * value;
    this.weight += w;
  }
  get value(): number | undefined {
    return this.weight > 0 ? this.sum / this.weight : undefined;
  }
}

/** A metadata number of `path`, checked; undefined when absent. */
function metadataNumber(
  metadata: Readonly<Record<string, string>>,
  key: string,
  path: string,
  integer: boolean,
): number | undefined {
  const text = metadata[key];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new LoraError(
      `LoRA ${path}: metadata ${key} must be ${integer ? 'an integer' : 'a number'} ≥ 0, got "${text}"`,
    );
  }
  return value;
}

/**
 * The sampling defaults of the request's LoRAs: the motion bucket, and the guidance, of each LoRA that records one
 * (scale > 0), averaged with the LoRAs' scales as weights (the bucket rounded). Reads only the files' headers.
 */
export async function loraSamplingDefaults(specs: readonly LoraSpec[]): Promise<LoraSamplingDefaults> {
  const bucket = new WeightedMean();
  const minCfg = new WeightedMean();
  const maxCfg = new WeightedMean();
  const sources: string[] = [];
  const guidanceSources: string[] = [];
  for (const spec of specs) {
    if (spec.scale === 0) continue;
    let file: SafetensorsFile;
    try {
      file = await SafetensorsFile.open(spec.path);
    } catch (e) {
      throw new LoraError(`LoRA ${(e as Error).message}`);
    }
    const metadata = file.metadata;
    await file.close();
    const name = spec.path.split('/').pop();
    const w = Math.abs(spec.scale);
    const b = metadataNumber(metadata, LORA_MOTION_BUCKET_KEY, spec.path, true);
    if (b !== undefined) {
      bucket.add(b, w);
      sources.push(`${name} ${b}`);
    }
    const lo = metadataNumber(metadata, LORA_MIN_CFG_KEY, spec.path, false);
    const hi = metadataNumber(metadata, LORA_MAX_CFG_KEY, spec.path, false);
    if ((lo === undefined) !== (hi === undefined)) {
      throw new LoraError(`LoRA ${spec.path}: metadata ${LORA_MIN_CFG_KEY} and ${LORA_MAX_CFG_KEY} come together`);
    }
    if (lo !== undefined && hi !== undefined) {
      minCfg.add(lo, w);
      maxCfg.add(hi, w);
      guidanceSources.push(`${name} ${lo} → ${hi}`);
    }
  }
  const out: LoraSamplingDefaults = { sources };
  if (bucket.value !== undefined) out.motionBucketId = Math.round(bucket.value);
  if (minCfg.value !== undefined && maxCfg.value !== undefined) {
    out.guidance = { minCfg: minCfg.value, maxCfg: maxCfg.value, sources: guidanceSources };
  }
  return out;
}

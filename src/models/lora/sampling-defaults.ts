/**
 * A LoRA's own sampling defaults: what its training clips were conditioned on. A camera-motion LoRA (arXiv
 * 2311.15127 §4.3) is trained on clips of one camera move, whose `motion_bucket_id` sits where that move sits in the
 * corpus (svd-mini's pans: median 187–193 of 0–255; static clips: 16), not at the model's default 127; sampled at 127
 * the LoRA fights its micro-condition (measured on svd-mini's pan-left: the classifier read `pan-left` for 1 of 6
 * (image, seed) pairs at 127 and 6 of 6 at 200). The training run writes the median motion bucket of its clips into
 * the file's metadata; generation uses it when the request sets no `--motion-bucket`, and says so.
 */
import { SafetensorsFile } from '../../weights/safetensors-reader.ts';
import { LoraError } from './errors.ts';
import type { LoraSpec } from './spec.ts';

/** Metadata key: the median `motion_bucket_id` of the LoRA's training clips (a decimal integer string). */
export const LORA_MOTION_BUCKET_KEY = 'svd_ts_motion_bucket_id';

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
}

/**
 * The sampling defaults of the request's LoRAs: the motion bucket of each LoRA that records one (scale > 0),
 * averaged with the LoRAs' scales as weights and rounded. Reads only the files' headers.
 */
export async function loraSamplingDefaults(specs: readonly LoraSpec[]): Promise<LoraSamplingDefaults> {
  let weighted = 0;
  let total = 0;
  const sources: string[] = [];
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
    const text = metadata[LORA_MOTION_BUCKET_KEY];
    if (text === undefined) continue;
    const bucket = Number(text);
    if (!Number.isInteger(bucket) || bucket < 0) {
      throw new LoraError(
        `LoRA ${spec.path}: metadata ${LORA_MOTION_BUCKET_KEY} must be an integer ≥ 0, got "${text}"`,
      );
    }
    const w = Math.abs(spec.scale);
    weighted += w * bucket;
    total += w;
    sources.push(`${spec.path.split('/').pop()} ${bucket}`);
  }
  return total > 0 ? { motionBucketId: Math.round(weighted / total), sources } : { sources };
}

/**
 * `svd lora merge`: a base checkpoint with LoRAs merged into its weights, written as an sgm single file by the
 * streaming converter (`convertCheckpoint`: one tensor in memory at a time, written to `<out>.tmp-<pid>` and renamed
 * when complete, nothing left behind on failure or abort). Untouched tensors keep their stored bytes; merged ones
 * keep their stored dtype (float16 / bfloat16 rounded to nearest even). The metadata records the LoRAs merged
 * (`svd_ts_merged_loras`, a JSON array of `LoraRecord`s, appended to any earlier merges').
 */

import type { CheckpointSource } from '../../weights/checkpoint-source.ts';
import { type ConvertOptions, type ConvertResult, convertCheckpoint } from '../checkpoint-convert.ts';
import { loraRecords } from './apply.ts';
import type { FittedLora } from './fit.ts';
import { loraMergedSource } from './merged-source.ts';

export const MERGED_LORAS_METADATA = 'svd_ts_merged_loras';

export type MergeLoraOptions = Pick<ConvertOptions, 'model' | 'configLabel' | 'onProgress' | 'onNotice' | 'signal'>;

/** Writes `base` + `loras` to `out` (must not exist). The LoRA files are closed; `base` is left open. */
export async function mergeLoraCheckpoint(
  base: CheckpointSource,
  loras: readonly FittedLora[],
  out: string,
  options: MergeLoraOptions = {},
): Promise<ConvertResult> {
  let earlier: unknown[] = [];
  try {
    const parsed = JSON.parse(base.metadata[MERGED_LORAS_METADATA] ?? '[]');
    if (Array.isArray(parsed)) earlier = parsed;
  } catch {
    // an unreadable record is replaced
  }
  const metadata = { [MERGED_LORAS_METADATA]: JSON.stringify([...earlier, ...loraRecords(loras)]) };
  const merged = loraMergedSource(base, loras, { metadata, closeBase: false });
  try {
    return await convertCheckpoint(merged, out, { ...options, to: 'sgm' });
  } finally {
    await merged.close();
  }
}

/**
 * Choosing trainable parameters by name pattern: e.g. only the temporal layers (`time_stack`, `time_mixer`,
 * `time_pos_embed`: the paper's 656 M new parameters) or only LoRA matrices.
 * Patterns are globs over dotted keys: `*` matches within one path segment, `**` across segments (`globToRegExp`,
 * in `src/nn/key-glob.ts` so that LoRA targets in nn share it).
 */
import { globToRegExp } from '../nn/key-glob.ts';

export { globToRegExp };

/** Keys selected by `include` (all when empty) minus those matching `exclude`. */
export function selectParams(
  keys: Iterable<string>,
  include: readonly string[] = [],
  exclude: readonly string[] = [],
): string[] {
  const inc = include.map(globToRegExp);
  const exc = exclude.map(globToRegExp);
  const out: string[] = [];
  for (const k of keys) {
    if (inc.length > 0 && !inc.some((r) => r.test(k))) continue;
    if (exc.some((r) => r.test(k))) continue;
    out.push(k);
  }
  return out;
}

/** The temporal layers SVD adds to the image model (svd-spec §3.4). */
export const TEMPORAL_PARAM_PATTERNS = ['**.time_stack.**', '**.time_mixer.**', '**.time_pos_embed.**'];

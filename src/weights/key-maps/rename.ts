/** Renaming of a key's leading module path by a table of `[from, to]` module paths (whole path segments only). */

/** A `[sgm module path, target module path]` pair; the empty string stands for "no leading module". */
export type RenamePair = readonly [string, string];

/**
 * `rest` with its leading module path renamed by the first pair whose `from` path is a whole-segment prefix of it
 * (`in_layers.0` matches `in_layers.0.weight`, not `in_layers.00.weight`); undefined when no pair matches.
 */
export function renameLeading(rest: string, pairs: readonly RenamePair[], reverse = false): string | undefined {
  for (const [a, b] of pairs) {
    const [from, to] = reverse ? [b, a] : [a, b];
    if (rest.startsWith(`${from}.`)) return `${to}${rest.slice(from.length)}`;
  }
  return undefined;
}

/** Parses a non-negative decimal index without leading zeros ("0", "12"); undefined otherwise. */
export function parseIndex(s: string): number | undefined {
  return /^(0|[1-9]\d*)$/.test(s) ? Number(s) : undefined;
}

/**
 * Strict checkpoint loading: the checkpoint's keys and shapes must be exactly the ones the model declares (its
 * `ParamTree`, or any `Map<key, shape>`), except for the key groups the caller says to skip (for a model, the groups
 * the reference itself ignores at inference: `inferenceIgnoreGroups(model)` in `src/models/declare-params.ts`); those
 * are skipped with one notice line per group. With no `ignore` option every key is checked.
 *
 * ```ts
 * checkKeys(ckpt.entries(), tree, { ignore: inferenceIgnoreGroups(model), onNotice: (line) => console.error(line) });
 * // CheckpointError: checkpoint does not match the model: 1 missing (model.diffusion_model.out.2.bias); …
 * ```
 */
import type { ParamTree } from '../nn/params.ts';
import { formatShape, type Shape, shapesEqual } from '../tensor/shape.ts';

/** A group of keys skipped by the check, and why (one notice line per group that matched). */
export interface IgnoreGroup {
  /** Why the keys are skipped, for the notice line. */
  readonly reason: string;
  /** Prefixes (matched at whole key segments: `a.b` matches `a.b` and `a.b.c`, not `a.bc`) or globs with `*`. */
  readonly patterns: readonly string[];
}

export interface CheckKeysOptions {
  /** Keys to skip: groups, or bare patterns (one group each). Default: none (every key is checked). */
  readonly ignore?: readonly (IgnoreGroup | string)[];
  /** Receives one line per ignore group that skipped at least one key (count, the keys' common prefix, reason). */
  readonly onNotice?: (line: string) => void;
  /** Names the checkpoint in the error message. */
  readonly label?: string;
  /** Appended to the error message (e.g. what to try). */
  readonly hint?: string;
}

export interface WrongShape {
  readonly key: string;
  /** The checkpoint's shape. */
  readonly actual: Shape;
  /** The model's shape. */
  readonly expected: Shape;
}

export interface CheckKeysResult {
  /** Keys present on both sides with equal shapes. */
  readonly matched: number;
  /** Keys skipped, by ignore reason. */
  readonly ignored: ReadonlyMap<string, readonly string[]>;
}

/** How many keys of each kind a message lists before "… and N more". */
const LISTED = 10;

/** The checkpoint and the model disagree: keys missing from the checkpoint, keys it has that the model lacks, shapes. */
export class CheckpointError extends Error {
  readonly missing: readonly string[];
  readonly unexpected: readonly string[];
  readonly wrongShape: readonly WrongShape[];

  constructor(
    missing: readonly string[],
    unexpected: readonly string[],
    wrongShape: readonly WrongShape[],
    options: { readonly label?: string; readonly hint?: string } = {},
  ) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`${missing.length} missing (${listed(missing)})`);
    if (unexpected.length > 0) parts.push(`${unexpected.length} unexpected (${listed(unexpected)})`);
    if (wrongShape.length > 0) {
      const shown = wrongShape.map(
        (w) => `${w.key}: checkpoint ${formatShape(w.actual)}, model ${formatShape(w.expected)}`,
      );
      parts.push(`${wrongShape.length} with the wrong shape (${listed(shown)})`);
    }
    const { label, hint } = options;
    super(
      `${label ? `${label}: ` : ''}checkpoint does not match the model: ${parts.join('; ')}${hint ? ` — ${hint}` : ''}`,
    );
    this.name = 'CheckpointError';
    this.missing = missing;
    this.unexpected = unexpected;
    this.wrongShape = wrongShape;
  }
}

function listed(items: readonly string[]): string {
  const shown = items.slice(0, LISTED).map(oneLine).join(', ');
  return items.length > LISTED ? `${shown}, … and ${items.length - LISTED} more` : shown;
}

/** Keys are printed as is unless they contain characters that would break the one-line message. */
function oneLine(s: string): string {
  return /[\r\n\t]/.test(s) ? JSON.stringify(s) : s;
}

/** Compiles a pattern: a glob when it has `*`, else a prefix at key-segment boundaries. */
export function ignoreMatcher(pattern: string): (key: string) => boolean {
  if (pattern.includes('*')) {
    const source = pattern.split('*').map(escapeRegExp).join('.*');
    const re = new RegExp(`^${source}$`);
    return (key) => re.test(key);
  }
  const stem = pattern.endsWith('.') ? pattern.slice(0, -1) : pattern;
  return (key) => key === stem || key.startsWith(`${stem}.`);
}

/** The longest module path (whole `.` segments) that every key lies strictly inside; '' when none. */
function commonModulePrefix(keys: readonly string[]): string {
  let common = keys[0].split('.').slice(0, -1);
  for (const key of keys) {
    const parts = key.split('.').slice(0, -1);
    let n = 0;
    while (n < common.length && n < parts.length && common[n] === parts[n]) n++;
    common = common.slice(0, n);
  }
  return common.join('.');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Compares a checkpoint's entries with the model's expected keys and shapes. Keys on both sides are always
 * compared; a key on one side only is skipped when an ignore pattern matches it, else reported. Throws a
 * CheckpointError listing every missing key, unexpected key and wrong shape (the message shows up to 10 of each
 * and the counts) after one `onNotice` line per ignore group that skipped keys; otherwise returns what matched and
 * what was skipped.
 */
export function checkKeys(
  entries: ReadonlyMap<string, { readonly shape: Shape }>,
  expected: ReadonlyMap<string, Shape> | ParamTree,
  options: CheckKeysOptions = {},
): CheckKeysResult {
  const want: ReadonlyMap<string, Shape> = expected instanceof Map ? expected : (expected as ParamTree).shapes;
  const groups = (options.ignore ?? []).map((g) =>
    typeof g === 'string' ? { reason: `ignored pattern ${g}`, patterns: [g] } : g,
  );
  const matchers = groups.map((g) => g.patterns.map(ignoreMatcher));
  const ignored = new Map<string, string[]>();
  const skip = (key: string): boolean => {
    const i = matchers.findIndex((ms) => ms.some((m) => m(key)));
    if (i < 0) return false;
    const list = ignored.get(groups[i].reason) ?? [];
    list.push(key);
    ignored.set(groups[i].reason, list);
    return true;
  };

  const missing: string[] = [];
  const unexpected: string[] = [];
  const wrongShape: WrongShape[] = [];
  let matched = 0;
  for (const [key, shape] of want) {
    const entry = entries.get(key);
    if (entry === undefined) {
      if (!skip(key)) missing.push(key);
    } else if (!shapesEqual(entry.shape, shape)) wrongShape.push({ key, actual: entry.shape, expected: shape });
    else matched++;
  }
  for (const key of entries.keys()) if (!want.has(key) && !skip(key)) unexpected.push(key);

  for (const { reason } of groups) {
    const keys = ignored.get(reason);
    if (!keys) continue;
    const under = commonModulePrefix(keys);
    options.onNotice?.(
      `ignoring ${keys.length} checkpoint key${keys.length === 1 ? '' : 's'}${under ? ` under ${under}` : ''}: ${reason}`,
    );
  }
  if (missing.length + unexpected.length + wrongShape.length > 0) {
    throw new CheckpointError(missing, unexpected, wrongShape, options);
  }
  return { matched, ignored };
}

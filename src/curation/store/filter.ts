/**
 * Corpus filtering as the paper's ablation does it (arXiv 2311.15127 §3.1, App. C): per criterion, drop the bottom
 * x % of the corpus by that score (thresholds from the corpus's own distribution), plus absolute limits (e.g. at most
 * 10 % of the frame covered by text). The kept clips become the manifest `svd train` reads (src/training/data/
 * manifest.ts: `clip`, `start`, `end`, `fps`, `motion_score`, `motion_bucket`, `caption`, `scores`, `id`).
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { CorpusAnalytics } from './analytics.ts';
import type { ClipRow, CurationStore } from './curation-store.ts';

export interface FilterSpec {
  /** Score name → percent of the corpus to drop from the bottom (0–100). */
  dropBottom?: Readonly<Record<string, number>>;
  /** Score name → largest value kept. */
  max?: Readonly<Record<string, number>>;
  /** Score name → smallest value kept. */
  min?: Readonly<Record<string, number>>;
  /** Label name → the values kept (e.g. camera_motion → [pan-left]: a camera-motion LoRA's data). */
  labels?: Readonly<Record<string, readonly string[]>>;
}

export interface FilterResult {
  kept: ClipRow[];
  dropped: { clip: ClipRow; reason: string }[];
  /** Score name → the value below which clips were dropped. */
  thresholds: Record<string, number>;
}

/**
 * The value below which `percent` % of `sorted` (ascending) lies: the element at rank ⌊percent/100 · n⌋, so dropping
 * every value < threshold drops ⌊percent/100 · n⌋ values when they are distinct.
 */
export function bottomThreshold(sorted: readonly number[], percent: number): number {
  if (!(percent >= 0 && percent <= 100)) throw new RangeError(`a percentile must be in [0, 100], got ${percent}`);
  if (sorted.length === 0) return Number.NEGATIVE_INFINITY;
  const rank = Math.floor((percent / 100) * sorted.length);
  return rank >= sorted.length ? Number.POSITIVE_INFINITY : sorted[rank];
}

/**
 * The scored clips that pass every criterion, and why the others were dropped. The drop-bottom thresholds are
 * `given` (from {@link CorpusAnalytics.bottomThresholds}, as `svd curate filter` computes them) or computed here.
 */
export function filterClips(store: CurationStore, spec: FilterSpec, given?: Record<string, number>): FilterResult {
  const thresholds: Record<string, number> = {};
  for (const [name, percent] of Object.entries(spec.dropBottom ?? {})) {
    thresholds[name] = given?.[name] ?? bottomThreshold(store.scoreValues(name), percent);
  }
  const kept: ClipRow[] = [];
  const dropped: FilterResult['dropped'] = [];
  for (const clip of store.clips({ status: 'scored' })) {
    const reason = whyDropped(clip, spec, thresholds);
    if (reason) dropped.push({ clip, reason });
    else kept.push(clip);
  }
  return { kept, dropped, thresholds };
}

function whyDropped(clip: ClipRow, spec: FilterSpec, thresholds: Record<string, number>): string | undefined {
  const value = (name: string) => clip.scores[name];
  for (const [name, t] of Object.entries(thresholds)) {
    const v = value(name);
    if (v === undefined) return `no ${name} score`;
    if (v < t) return `${name} ${v.toPrecision(3)} in the bottom ${spec.dropBottom![name]} % (< ${t.toPrecision(3)})`;
  }
  for (const [name, limit] of Object.entries(spec.max ?? {})) {
    const v = value(name);
    if (v === undefined) return `no ${name} score`;
    if (v > limit) return `${name} ${v.toPrecision(3)} > ${limit}`;
  }
  for (const [name, limit] of Object.entries(spec.min ?? {})) {
    const v = value(name);
    if (v === undefined) return `no ${name} score`;
    if (v < limit) return `${name} ${v.toPrecision(3)} < ${limit}`;
  }
  for (const [name, wanted] of Object.entries(spec.labels ?? {})) {
    const v = clip.labels[name];
    if (v === undefined) return `no ${name} label`;
    if (!wanted.includes(v)) return `${name} ${v} not in ${wanted.join('|')}`;
  }
  return undefined;
}

/** {@link filterClips} with the thresholds computed by the analytical engine (DuckDB). */
export async function filterCorpus(store: CurationStore, spec: FilterSpec): Promise<FilterResult> {
  const analytics = await CorpusAnalytics.fromStore(store);
  try {
    return filterClips(store, spec, await analytics.bottomThresholds(spec.dropBottom ?? {}));
  } finally {
    analytics.close();
  }
}

/** One manifest line per clip (paths relative to the manifest's folder when below it). */
export function manifestLines(clips: readonly ClipRow[], manifestPath: string): string[] {
  const base = dirname(resolve(manifestPath));
  return clips.map((c) => {
    const abs = resolve(c.path);
    const rel = relative(base, abs);
    const { motion_score, motion_bucket, ...scores } = c.scores;
    const line: Record<string, unknown> = {
      id: c.id,
      clip: rel.startsWith('..') || isAbsolute(rel) ? abs : rel,
      start: c.startTime,
      end: c.endTime,
      fps: c.fps,
    };
    if (motion_score !== undefined) line.motion_score = motion_score;
    if (motion_bucket !== undefined) line.motion_bucket = Math.round(motion_bucket);
    if (c.labels.caption !== undefined) line.caption = c.labels.caption;
    if (Object.keys(scores).length > 0) line.scores = scores;
    const meta = Object.fromEntries(Object.entries(c.labels).filter(([k]) => k !== 'caption'));
    if (Object.keys(meta).length > 0) line.meta = meta;
    return JSON.stringify(line);
  });
}

/** Writes the manifest atomically (temporary name, rename). */
export async function writeManifest(path: string, clips: readonly ClipRow[]): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(
      tmp,
      manifestLines(clips, path)
        .map((l) => `${l}\n`)
        .join(''),
    );
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * A curation run on one machine (the paper's pipeline, arXiv 2311.15127 §3.1 / App. C), top-down: list the input
 * videos → per source, the cut-detection cascade splits it into clips (src/curation/cuts) → per clip, the motion score
 * and camera-motion class from Farneback flow at 2 fps (src/curation/motion), the text area from the PP-OCRv4 detector
 * on the first, middle and last frame (src/curation/text) → the stages that need model weights not given here (CLIP
 * scores, aesthetics, captions) are recorded as "not scored", never invented → corpus
 * motion buckets from the scores' percentiles. Every result goes to the store keyed by source and clip id; a stage
 * already finished for an item is skipped, so re-running on the same inputs does only what is missing, and an
 * unreadable source or clip is a rejection with its reason, never an abort.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { CurationStore } from '../store/curation-store.ts';
import {
  applyClipScores,
  applySourceCut,
  type ClipModels,
  cutSource,
  finishedClipStages,
  loadClipModels,
  refitMotionBuckets,
  releaseClipModels,
  scoreClip,
} from './stages.ts';

/** File extensions read as videos. */
export const CURATE_VIDEO_EXTENSIONS = ['.mp4', '.webm', '.mkv', '.mov', '.avi', '.gif', '.m4v', '.ts'];

export type CurateEvent =
  | { type: 'source'; path: string; index: number; total: number; skipped: boolean }
  | { type: 'cuts'; path: string; cuts: number; clips: number }
  | { type: 'clip'; id: string; done: number; total: number; motion?: number; camera?: string; skipped: boolean }
  | { type: 'rejected'; id: string; reason: string };

export interface CurateOptions {
  inputs: readonly string[];
  store: CurationStore;
  /** Per-clip models (default: loaded with {@link loadClipModels}'s defaults: the bundled text detector). */
  models?: ClipModels;
  /** Shortest clip kept (seconds; default the cut splitter's 2 s). */
  minClipSeconds?: number;
  signal?: AbortSignal;
  onEvent?: (e: CurateEvent) => void;
}

export interface CurateResult {
  sources: number;
  clips: number;
  rejected: number;
}

/** Every video file under the inputs (files as given, folders recursively, hidden entries skipped), sorted. */
export async function listVideos(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (CURATE_VIDEO_EXTENSIONS.includes(extname(e.name).toLowerCase())) out.push(p);
    }
  };
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info) throw new Error(`${input}: no such file or folder`);
    if (info.isDirectory()) await walk(resolve(input));
    else out.push(resolve(input));
  }
  return [...new Set(out)];
}

/** A source's id: its absolute path, size and modification time (a changed file is a new source). */
export function sourceId(path: string, size: number, mtime: number): string {
  return createHash('sha256').update(`${path}\0${size}\0${mtime}`).digest('hex').slice(0, 16);
}

export async function curate(opts: CurateOptions): Promise<CurateResult> {
  const { store } = opts;
  const emit = opts.onEvent ?? (() => {});
  const files = await listVideos(opts.inputs);
  let rejected = 0;
  for (let i = 0; i < files.length; i++) {
    opts.signal?.throwIfAborted();
    const path = files[i];
    const info = await stat(path);
    const id = sourceId(path, info.size, Math.round(info.mtimeMs));
    store.addSource({ id, path, size: info.size, mtime: Math.round(info.mtimeMs) });
    const done = store.stageDone(id, 'cuts');
    emit({ type: 'source', path, index: i, total: files.length, skipped: done });
    if (done) continue;
    const r = await cutSource(path, { minClipSeconds: opts.minClipSeconds, signal: opts.signal });
    applySourceCut(store, id, r);
    if (r.kind === 'cut') emit({ type: 'cuts', path, cuts: r.cuts.length, clips: r.clips.length });
    else {
      emit({ type: 'rejected', id, reason: r.message });
      rejected++;
    }
  }

  const pending = store.clips({ status: 'pending' });
  const ownModels = pending.length > 0 && !opts.models;
  const models = opts.models ?? (ownModels ? await loadClipModels() : {});
  try {
    for (let k = 0; k < pending.length; k++) {
      opts.signal?.throwIfAborted();
      const clip = pending[k];
      const skip = finishedClipStages(store, clip.id);
      const r = await scoreClip(clip, models, { skip, signal: opts.signal });
      applyClipScores(store, clip.id, r);
      if (r.kind === 'rejected') {
        emit({ type: 'rejected', id: clip.id, reason: r.reason });
        rejected++;
        continue;
      }
      const motion = r.stages.find((s) => s.stage === 'motion');
      emit({
        type: 'clip',
        id: clip.id,
        done: k + 1,
        total: pending.length,
        motion: motion?.scores?.motion_score,
        camera: motion?.labels?.camera_motion,
        skipped: skip.has('motion'),
      });
    }
  } finally {
    if (ownModels) await releaseClipModels(models);
  }

  refitMotionBuckets(store);
  const counts = store.counts();
  return { sources: counts.sources, clips: counts.scored, rejected };
}

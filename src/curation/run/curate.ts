/**
 * A curation run on one machine (the paper's pipeline, arXiv 2311.15127 §3.1 / App. C), top-down: list the input
 * videos → per source, the cut-detection cascade splits it into clips (src/curation/cuts) → per clip, the motion score
 * and camera-motion class from Farneback flow at 2 fps (src/curation/motion) → the stages that need model weights not
 * given here (text area, CLIP scores, aesthetics, captions) are recorded as "not scored", never invented → corpus
 * motion buckets from the scores' percentiles. Every result goes to the store keyed by source and clip id; a stage
 * already finished for an item is skipped, so re-running on the same inputs does only what is missing, and an
 * unreadable source or clip is a rejection with its reason, never an abort.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { VideoInputError } from '../../video/errors.ts';
import { splitVideo } from '../cuts/video.ts';
import { fitMotionBuckets, motionBucketFromCorpus } from '../motion/buckets.ts';
import { clipMotion } from '../motion/score.ts';
import type { CurationStore } from '../store/curation-store.ts';

/** File extensions read as videos. */
export const CURATE_VIDEO_EXTENSIONS = ['.mp4', '.webm', '.mkv', '.mov', '.avi', '.gif', '.m4v', '.ts'];

/** Stages that need user-supplied weights; without them each clip records why it is not scored. */
const MODEL_STAGES: readonly [string, string][] = [
  ['text', 'not scored: no text detector model given'],
  ['clip', 'not scored: no CLIP weights given'],
  ['aesthetic', 'not scored: no aesthetic head given'],
  ['caption', 'no captioner given'],
];

export type CurateEvent =
  | { type: 'source'; path: string; index: number; total: number; skipped: boolean }
  | { type: 'cuts'; path: string; cuts: number; clips: number }
  | { type: 'clip'; id: string; done: number; total: number; motion?: number; camera?: string; skipped: boolean }
  | { type: 'rejected'; id: string; reason: string };

export interface CurateOptions {
  inputs: readonly string[];
  store: CurationStore;
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
    try {
      const { cuts, clips } = await splitVideo(path, { minSeconds: opts.minClipSeconds, signal: opts.signal });
      store.updateSource(id, {
        duration: cuts.frameCount / cuts.fps,
        fps: cuts.fps,
        width: cuts.width,
        height: cuts.height,
      });
      store.addClips(
        id,
        clips.map((c) => ({
          id: `${id}:${c.startFrame}-${c.endFrame}`,
          startFrame: c.startFrame,
          endFrame: c.endFrame,
          startTime: c.startTime,
          endTime: c.endTime,
          fps: c.fps,
        })),
      );
      store.markStage(id, 'cuts', 'done', JSON.stringify({ cuts: cuts.cuts, detector: cuts.detector.name }));
      emit({ type: 'cuts', path, cuts: cuts.cuts.length, clips: clips.length });
    } catch (e) {
      if (!(e instanceof VideoInputError)) throw e;
      store.updateSource(id, { rejected: `${e.reason}: ${e.message}` });
      store.markStage(id, 'cuts', 'skipped', e.message);
      emit({ type: 'rejected', id, reason: e.message });
      rejected++;
    }
  }

  const pending = store.clips({ status: 'pending' });
  for (let k = 0; k < pending.length; k++) {
    opts.signal?.throwIfAborted();
    const clip = pending[k];
    let motion: number | undefined;
    let camera: string | undefined;
    const skipped = store.stageDone(clip.id, 'motion');
    if (!skipped) {
      try {
        const m = await clipMotion(clip.path, {
          start: clip.startTime,
          duration: clip.endTime - clip.startTime,
          signal: opts.signal,
        });
        motion = m.score;
        camera = m.camera;
        store.recordStage(clip.id, 'motion', {
          scores: { motion_score: m.score },
          labels: { camera_motion: m.camera },
        });
      } catch (e) {
        if (!(e instanceof VideoInputError)) throw e;
        store.rejectClip(clip.id, `motion: ${e.message}`);
        emit({ type: 'rejected', id: clip.id, reason: e.message });
        rejected++;
        continue;
      }
    }
    for (const [stage, why] of MODEL_STAGES)
      if (!store.stageDone(clip.id, stage)) store.markStage(clip.id, stage, 'skipped', why);
    store.markScored(clip.id);
    emit({ type: 'clip', id: clip.id, done: k + 1, total: pending.length, motion, camera, skipped });
  }

  // Motion buckets from the corpus's own score distribution (what `motion_bucket_id` means for a model trained on
  // it); refitted on every run, so the buckets follow the corpus as it grows.
  const scores = store.scoreValues('motion_score');
  if (scores.length > 0) {
    const table = fitMotionBuckets(scores);
    for (const c of store.clips({ status: 'scored' })) {
      const s = c.scores.motion_score;
      if (s !== undefined)
        store.recordStage(c.id, 'motion_bucket', { scores: { motion_bucket: motionBucketFromCorpus(s, table) } });
    }
  }
  const counts = store.counts();
  return { sources: counts.sources, clips: counts.scored, rejected };
}

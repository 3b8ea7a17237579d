/**
 * The curation pipeline's units of work (arXiv 2311.15127 §3.1 / App. C), each split into a pure computation that
 * returns a plain JSON result and a function that applies that result to the store. A local run calls both in turn;
 * a queue worker on another machine computes and returns the result, and the one process that owns the store applies
 * it — so the store stays one file and a retried job only overwrites its own rows (results are keyed by clip id).
 */
import { VideoInputError } from '../../video/errors.ts';
import { probeVideo, type VideoProbe } from '../../video/probe.ts';
import { releaseCaptioners } from '../caption/captioner.ts';
import { loadOnnxCaptioner } from '../caption/onnx-captioner.ts';
import { AestheticHead } from '../clip/aesthetic-head.ts';
import { ClipScorer } from '../clip/clip-scorer.ts';
import { MODEL_STAGE_DEFAULTS, type ModelStageModels, scoreModelStages } from '../clip/model-stages.ts';
import { splitVideo } from '../cuts/video.ts';
import { fitMotionBuckets, motionBucketFromCorpus } from '../motion/buckets.ts';
import { clipMotion } from '../motion/score.ts';
import type { CurationStore } from '../store/curation-store.ts';
import { clipTextArea } from '../text/clip-text.ts';
import { TextDetector } from '../text/text-detector.ts';

/** What the cut stage made of one source: its clips, or why it was rejected. */
export type SourceCutResult =
  | {
      kind: 'cut';
      duration: number;
      fps: number;
      width: number;
      height: number;
      cuts: number[];
      detector: string;
      clips: { startFrame: number; endFrame: number; startTime: number; endTime: number; fps: number }[];
    }
  | { kind: 'rejected'; reason: string; message: string };

/** One per-clip stage's outcome. */
export interface ClipStageResult {
  stage: string;
  status: 'done' | 'skipped';
  scores?: Record<string, number>;
  labels?: Record<string, string>;
  detail?: string;
}

/** Every per-clip stage's outcome for one clip, or why the clip was rejected. */
export type ClipScoreResult = { kind: 'scored'; stages: ClipStageResult[] } | { kind: 'rejected'; reason: string };

/** The clip a per-clip stage reads: a time range of a source file. */
export interface ClipRef {
  id: string;
  path: string;
  startTime: number;
  endTime: number;
  /** The clip's frame rate (frame times for the caption and CLIP stages; default 25). */
  fps?: number;
  /** Labels an earlier run stored (a caption made before is what CLIP compares with). */
  labels?: Readonly<Record<string, string>>;
}

/**
 * Stages that need user-supplied weights, in run order; without them each clip records why it is not scored
 * (src/curation/clip/model-stages.ts).
 */
export const MODEL_STAGES: readonly (readonly [string, string])[] = MODEL_STAGE_DEFAULTS;

/** The models the per-clip stages use, loaded once per process (a worker keeps them for every job). */
export interface ClipModels extends ModelStageModels {
  /** The text detector; absent: the text stage records "not scored". */
  text?: TextDetector;
}

export interface ClipModelOptions {
  /** false: no text-area stage; a path: that PP-OCR-style DB detector; default: the bundled PP-OCRv4 detector. */
  text?: false | string;
  threads?: number;
  /** A CLIP checkpoint (folder or .safetensors; open_clip or transformers layout) for the clip and aesthetic stages. */
  clipCheckpoint?: string;
  /** The LAION aesthetic head `.pth` (needs a CLIP checkpoint of its embedding width: ViT-L/14). */
  aestheticHead?: string;
  /** ONNX captioner folders (README, "Captions"): middle-frame image captioner, video captioner, summariser. */
  captioner?: string;
  videoCaptioner?: string;
  summariser?: string;
}

/** Loads the models for {@link scoreClip}; a model that cannot be used as asked is an error before any clip runs. */
export async function loadClipModels(opts: ClipModelOptions = {}): Promise<ClipModels> {
  const models: ClipModels = {};
  try {
    if (opts.text !== false) models.text = await TextDetector.load({ modelPath: opts.text, threads: opts.threads });
    if (opts.aestheticHead && !opts.clipCheckpoint) {
      throw new Error(`aesthetic head ${opts.aestheticHead}: needs a CLIP checkpoint for its image embeddings`);
    }
    if (opts.clipCheckpoint) models.clip = await ClipScorer.load(opts.clipCheckpoint, { threads: opts.threads });
    if (opts.aestheticHead) {
      const head = await AestheticHead.load(opts.aestheticHead);
      if (head.inputDim !== models.clip!.embedDim) {
        throw new Error(
          `aesthetic head ${opts.aestheticHead} takes ${head.inputDim}-d embeddings, the CLIP checkpoint ${opts.clipCheckpoint} gives ${models.clip!.embedDim}-d (the LAION heads need ViT-L/14)`,
        );
      }
      models.aesthetic = head;
    }
    const t = { threads: opts.threads };
    if (opts.captioner || opts.videoCaptioner || opts.summariser) models.captioners = {};
    if (opts.captioner) models.captioners!.image = await loadOnnxCaptioner(opts.captioner, 'image', t);
    if (opts.videoCaptioner) models.captioners!.video = await loadOnnxCaptioner(opts.videoCaptioner, 'video', t);
    if (opts.summariser) models.captioners!.summariser = await loadOnnxCaptioner(opts.summariser, 'summariser', t);
  } catch (e) {
    await releaseClipModels(models);
    throw e;
  }
  return models;
}

/** Releases every model {@link loadClipModels} loaded. */
export async function releaseClipModels(models: ClipModels): Promise<void> {
  await models.text?.release();
  await models.clip?.release();
  if (models.captioners) await releaseCaptioners(models.captioners);
}

/** Every per-clip stage, in the order they run. */
export const CLIP_STAGES: readonly string[] = ['motion', 'text', ...MODEL_STAGES.map(([s]) => s)];

/** A clip's id: its source id and frame range (stable across runs and machines). */
export function clipId(sourceId: string, startFrame: number, endFrame: number): string {
  return `${sourceId}:${startFrame}-${endFrame}`;
}

/** Runs the cut-detection cascade on a source; an unreadable file is a rejection, not an exception. */
export async function cutSource(
  path: string,
  opts: { minClipSeconds?: number; signal?: AbortSignal } = {},
): Promise<SourceCutResult> {
  try {
    const { cuts, clips } = await splitVideo(path, { minSeconds: opts.minClipSeconds, signal: opts.signal });
    return {
      kind: 'cut',
      duration: cuts.frameCount / cuts.fps,
      fps: cuts.fps,
      width: cuts.width,
      height: cuts.height,
      cuts: cuts.cuts,
      detector: cuts.detector.name,
      clips: clips.map((c) => ({
        startFrame: c.startFrame,
        endFrame: c.endFrame,
        startTime: c.startTime,
        endTime: c.endTime,
        fps: c.fps,
      })),
    };
  } catch (e) {
    if (!(e instanceof VideoInputError)) throw e;
    return { kind: 'rejected', reason: e.reason, message: e.message };
  }
}

/** Writes a cut result into the store (idempotent: clips are keyed by source and frame range). */
export function applySourceCut(store: CurationStore, sourceId: string, r: SourceCutResult): void {
  if (r.kind === 'rejected') {
    store.updateSource(sourceId, { rejected: `${r.reason}: ${r.message}` });
    store.markStage(sourceId, 'cuts', 'skipped', r.message);
    return;
  }
  store.updateSource(sourceId, { duration: r.duration, fps: r.fps, width: r.width, height: r.height });
  store.addClips(
    sourceId,
    r.clips.map((c) => ({ id: clipId(sourceId, c.startFrame, c.endFrame), ...c })),
  );
  store.markStage(sourceId, 'cuts', 'done', JSON.stringify({ cuts: r.cuts, detector: r.detector }));
}

/**
 * Runs every per-clip stage on one clip: motion (Farneback at 2 fps) and camera-motion class, text area (first,
 * middle and last frame), then the stages that need user-given models — caption, CLIP text–image similarity,
 * aesthetics — each recorded as not scored when its model is not given. `skip` names stages already done for it (a
 * re-run does only what is missing).
 */
export async function scoreClip(
  clip: ClipRef,
  models: ClipModels,
  opts: { skip?: ReadonlySet<string>; signal?: AbortSignal } = {},
): Promise<ClipScoreResult> {
  // one probe of the file for every stage of this clip (each stage's own error handling still applies)
  let probed: Promise<VideoProbe> | undefined;
  const probeOnce = () => {
    probed ??= probeVideo(clip.path, { signal: opts.signal });
    return probed;
  };
  const stages: ClipStageResult[] = [];
  if (!opts.skip?.has('motion')) {
    try {
      const m = await clipMotion(clip.path, {
        start: clip.startTime,
        duration: clip.endTime - clip.startTime,
        signal: opts.signal,
        probe: await probeOnce(),
      });
      stages.push({
        stage: 'motion',
        status: 'done',
        scores: { motion_score: m.score },
        labels: { camera_motion: m.camera },
      });
    } catch (e) {
      if (!(e instanceof VideoInputError)) throw e;
      return { kind: 'rejected', reason: `motion: ${e.message}` };
    }
  }
  if (!opts.skip?.has('text')) {
    if (!models.text)
      stages.push({ stage: 'text', status: 'skipped', detail: 'not scored: text detection turned off' });
    else {
      try {
        const t = await clipTextArea(clip.path, models.text, {
          start: clip.startTime,
          end: clip.endTime,
          signal: opts.signal,
          probe: await probeOnce(),
        });
        stages.push({
          stage: 'text',
          status: 'done',
          scores: { text_area: t.area },
          detail: JSON.stringify({ frames: t.frames.map((a) => Number(a.toFixed(6))) }),
        });
      } catch (e) {
        if (!(e instanceof VideoInputError)) throw e;
        return { kind: 'rejected', reason: `text: ${e.message}` };
      }
    }
  }
  const model = await scoreModelStages(clip, models, opts); // caption, clip, aesthetic
  if ('rejected' in model) return { kind: 'rejected', reason: model.rejected };
  stages.push(...model);
  return { kind: 'scored', stages };
}

/** The per-clip stages already finished for a clip in the store. */
export function finishedClipStages(store: CurationStore, id: string): Set<string> {
  return new Set(CLIP_STAGES.filter((s) => store.stageDone(id, s)));
}

/** Writes a clip's stage results into the store and marks it scored (or rejected). */
export function applyClipScores(store: CurationStore, id: string, r: ClipScoreResult): void {
  if (r.kind === 'rejected') {
    store.rejectClip(id, r.reason);
    return;
  }
  for (const s of r.stages) {
    if (s.status === 'done') store.recordStage(id, s.stage, { scores: s.scores, labels: s.labels, detail: s.detail });
    else store.markStage(id, s.stage, 'skipped', s.detail);
  }
  store.markScored(id);
}

/**
 * Motion buckets from the corpus's own score distribution (what `motion_bucket_id` means for a model trained on it);
 * refitted after every run, so the buckets follow the corpus as it grows.
 */
export function refitMotionBuckets(store: CurationStore): void {
  const scores = store.scoreValues('motion_score');
  if (scores.length === 0) return;
  const table = fitMotionBuckets(scores);
  for (const c of store.clips({ status: 'scored' })) {
    const s = c.scores.motion_score;
    if (s !== undefined)
      store.recordStage(c.id, 'motion_bucket', { scores: { motion_bucket: motionBucketFromCorpus(s, table) } });
  }
}

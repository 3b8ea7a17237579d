/**
 * The coordinator of a distributed curation run (`svd curate INPUT... --db FILE --redis URL`): the one process that
 * owns the store. It lists the inputs as a local run does, and per source with work left adds a BullMQ flow:
 *
 * - a parent job `source.<id>` in `<queue>-sources` that only this process consumes, with
 * - one child `cut.<id>` in `<queue>-work` (skipped when the store already has the source's cuts).
 *
 * BullMQ runs a parent only once all its children are done, and keeps each child's return value in the parent. So
 * when the parent runs here, its cut result is applied to the store (`applySourceCut`); the parent then adds one child
 * per pending clip, `score.<clip id>` (children can be added to a running parent: BullMQ's "process step jobs"
 * pattern — a flow's children must otherwise be known when it is added, and the clips are known only after the cut),
 * and waits for them (`moveToWaitingChildren`). When they are done it runs once more and applies each clip's result
 * (`applyClipScores`) to a clip still pending — so every clip is scored once in the store, however often its job ran:
 * a worker killed mid-job never returns a result, and its re-run (after the stalled-job check, see `LOCKS`) returns
 * the one the parent holds. The parent's step is in its data (`updateData`), so a coordinator restarted mid-run
 * resumes each flow where it was. A job that throws is retried `RETRY.attempts` times with exponential backoff; one
 * that still fails is recorded in its parent (`ignoreDependencyOnFailure`), reported, and its clip left pending for
 * the next run. Finally the corpus motion buckets are refitted, as in a local run.
 */
import { stat } from 'node:fs/promises';
import {
  FlowProducer,
  type Job,
  type JobsOptions,
  Queue,
  UnrecoverableError,
  WaitingChildrenError,
  Worker,
} from 'bullmq';
import { type CurateEvent, type CurateOptions, type CurateResult, listVideos, sourceId } from '../run/curate.ts';
import {
  applyClipScores,
  applySourceCut,
  type ClipScoreResult,
  finishedClipStages,
  refitMotionBuckets,
  type SourceCutResult,
} from '../run/stages.ts';
import {
  assertRedisReachable,
  type CutJobData,
  connectionFor,
  cutJobId,
  DEFAULT_QUEUE,
  RETRY,
  type ScoreJobData,
  type SourceJobData,
  scoreJobId,
  sourceJobId,
  sourcesQueueName,
  workQueueName,
} from './jobs.ts';

export type CurateDistributedEvent =
  | CurateEvent
  /** The flows are queued: `sources` with work left, `cuts` of them to cut, `clips` already cut to score. */
  | { type: 'queued'; sources: number; cuts: number; clips: number }
  /** A source's cut result is applied (or its cut failed). */
  | { type: 'cut'; done: number; total: number }
  /** Jobs are queued but no worker is connected to the work queue. */
  | { type: 'waiting'; message: string }
  /** A job failed after every retry; its source or clip stays pending for the next run. */
  | { type: 'failed'; id: string; reason: string };

export interface CurateDistributedOptions extends Omit<CurateOptions, 'onEvent'> {
  redisUrl: string;
  /** The queue base name (default `svd-curate`); the workers must use the same. One coordinator per queue. */
  queue?: string;
  onEvent?: (e: CurateDistributedEvent) => void;
}

export interface CurateDistributedResult extends CurateResult {
  /** Clip results applied to the store in this run (each clip at most once). */
  applied: number;
  /** Results that came back for a clip no longer pending, not applied (0 unless another process wrote the store). */
  duplicates: number;
  /** Jobs that failed after every retry (their work stays pending). */
  failed: number;
}

/** The child's key in its parent's children values (`<prefix>:<queue>:<job id>`). */
function childValue<T>(values: Record<string, unknown>, jobId: string): [string, T] | undefined {
  for (const [k, v] of Object.entries(values)) if (k.endsWith(`:${jobId}`)) return [k, v as T];
  return undefined;
}

function childFailure(failures: Record<string, string>, jobId: string): string | undefined {
  for (const [k, v] of Object.entries(failures)) if (k.endsWith(`:${jobId}`)) return v;
  return undefined;
}

export async function curateDistributed(opts: CurateDistributedOptions): Promise<CurateDistributedResult> {
  const { store } = opts;
  const emit = opts.onEvent ?? (() => {});
  await assertRedisReachable(opts.redisUrl);
  const base = opts.queue ?? DEFAULT_QUEUE;
  const connection = connectionFor(opts.redisUrl);
  const childOpts: JobsOptions = {
    attempts: RETRY.attempts,
    backoff: { type: 'exponential', delay: RETRY.backoffMs },
    removeOnComplete: true,
    removeOnFail: true,
    ignoreDependencyOnFailure: true,
  };
  const parentOpts: JobsOptions = {
    attempts: RETRY.attempts,
    backoff: { type: 'exponential', delay: RETRY.backoffMs },
    removeOnComplete: true,
    removeOnFail: true,
  };

  // What each source needs, from the store.
  const files = await listVideos(opts.inputs);
  const pendingBySource = new Map<string, number>();
  for (const c of store.clips({ status: 'pending' }))
    pendingBySource.set(c.sourceId, (pendingBySource.get(c.sourceId) ?? 0) + 1);
  const plan: SourceJobData[] = [];
  let totalClips = 0;
  for (let i = 0; i < files.length; i++) {
    const path = files[i];
    const info = await stat(path);
    const id = sourceId(path, info.size, Math.round(info.mtimeMs));
    store.addSource({ id, path, size: info.size, mtime: Math.round(info.mtimeMs) });
    const cut = store.stageDone(id, 'cuts');
    const pending = pendingBySource.get(id) ?? 0;
    emit({ type: 'source', path, index: i, total: files.length, skipped: cut && pending === 0 });
    if (!cut) plan.push({ sourceId: id, path, step: 'cut' });
    else if (pending > 0) {
      plan.push({ sourceId: id, path, step: 'clips' });
      totalClips += pending;
    }
  }

  const workQueue = new Queue<CutJobData | ScoreJobData>(workQueueName(base), { connection });
  const sourcesQueue = new Queue<SourceJobData>(sourcesQueueName(base), { connection });
  const flows = new FlowProducer({ connection });
  const outstanding = new Set(plan.map((p) => sourceJobId(p.sourceId)));
  let rejected = 0;
  let applied = 0;
  let duplicates = 0;
  let failed = 0;
  let cutsDone = 0;
  const cutsTotal = plan.filter((p) => p.step === 'cut').length;
  let finish: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const settle = (jobId: string) => {
    outstanding.delete(jobId);
    if (outstanding.size === 0) finish();
  };

  const processor = async (job: Job<SourceJobData>, token?: string): Promise<{ applied: number }> => {
    let d = job.data;
    // One coordinator per queue: a parent left by a run on another store is not applied to this one.
    if (!store.source(d.sourceId))
      throw new UnrecoverableError(`${d.path} (source ${d.sourceId}) is not in ${store.path}: a job of another run`);
    if (d.step === 'cut') {
      const cutId = cutJobId(d.sourceId);
      const value = childValue<SourceCutResult>(await job.getChildrenValues(), cutId);
      emit({ type: 'cut', done: ++cutsDone, total: cutsTotal });
      if (!value) {
        const why = childFailure(await job.getIgnoredChildrenFailures(), cutId) ?? 'no result';
        failed++;
        emit({ type: 'failed', id: d.path, reason: `cut detection failed on every try: ${why}` });
        settle(job.id ?? '');
        return { applied: 0 };
      }
      const r = value[1];
      applySourceCut(store, d.sourceId, r);
      if (r.kind === 'rejected') {
        rejected++;
        emit({ type: 'rejected', id: d.sourceId, reason: r.message });
        settle(job.id ?? '');
        return { applied: 0 };
      }
      emit({ type: 'cuts', path: d.path, cuts: r.cuts.length, clips: r.clips.length });
      d = { ...d, step: 'clips' };
      await job.updateData(d);
      totalClips += store.clips({ status: 'pending' }).filter((c) => c.sourceId === d.sourceId).length;
    }
    if (d.step === 'clips') {
      const pending = store.clips({ status: 'pending' }).filter((c) => c.sourceId === d.sourceId);
      if (pending.length === 0) {
        settle(job.id ?? '');
        return { applied: 0 };
      }
      await workQueue.addBulk(
        pending.map((c) => ({
          name: 'score',
          data: {
            clip: { id: c.id, path: c.path, startTime: c.startTime, endTime: c.endTime, fps: c.fps, labels: c.labels },
            skip: [...finishedClipStages(store, c.id)],
          },
          opts: {
            ...childOpts,
            jobId: scoreJobId(c.id),
            parent: { id: job.id ?? '', queue: job.queueQualifiedName },
          },
        })),
      );
      d = { ...d, step: 'apply', clips: pending.map((c) => c.id) };
      await job.updateData(d);
      if (token && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
    }
    // step 'apply': every score child is done (or failed on every try).
    const values = await job.getChildrenValues();
    const failures = await job.getIgnoredChildrenFailures();
    let n = 0;
    for (const id of d.clips ?? []) {
      const value = childValue<ClipScoreResult>(values, scoreJobId(id));
      if (!value) {
        failed++;
        emit({
          type: 'failed',
          id,
          reason: `scoring failed on every try: ${childFailure(failures, scoreJobId(id)) ?? 'no result'}`,
        });
        continue;
      }
      if (store.clip(id)?.status !== 'pending') {
        duplicates++;
        continue;
      }
      const r = value[1];
      applyClipScores(store, id, r);
      applied++;
      n++;
      if (r.kind === 'rejected') {
        rejected++;
        emit({ type: 'rejected', id, reason: r.reason });
        continue;
      }
      const motion = r.stages.find((s) => s.stage === 'motion');
      emit({
        type: 'clip',
        id,
        done: applied,
        total: totalClips,
        motion: motion?.scores?.motion_score,
        camera: motion?.labels?.camera_motion,
        skipped: motion === undefined,
      });
    }
    settle(job.id ?? '');
    return { applied: n };
  };

  // Started only when there is work: a BullMQ worker closed a few milliseconds after it started can leave its first
  // stalled-check timer (stalledInterval, 30 s) running, which keeps the process alive that long.
  const worker = new Worker<SourceJobData>(sourcesQueueName(base), processor, {
    connection,
    concurrency: 1,
    autorun: false,
  });
  worker.on('failed', async (job, err) => {
    if (!job) return;
    // Retried (backoff) or finally failed (then removed: removeOnFail) — an UnrecoverableError is not retried.
    const state = await job.getState().catch(() => 'unknown');
    if (state === 'delayed' || state === 'waiting' || state === 'prioritized' || state === 'active') return;
    failed++;
    emit({ type: 'failed', id: job.data.path, reason: `applying results failed on every try: ${err.message}` });
    settle(job.id ?? '');
  });
  worker.on('error', () => {}); // connection errors are retried by the client

  const onAbort = () => finish();
  emit({ type: 'queued', sources: plan.length, cuts: cutsTotal, clips: totalClips });
  let running: Promise<void> | undefined;
  let runError: unknown;
  try {
    if (plan.length > 0)
      running = worker.run().catch((e: unknown) => {
        runError = e;
        finish();
      });
    for (const p of plan) {
      const jobId = sourceJobId(p.sourceId);
      // A parent still queued from an earlier coordinator run is resumed as it is (adding the flow again would give
      // it a second cut child); a finished one is replaced.
      const existing = await sourcesQueue.getJob(jobId);
      if (existing) {
        const state = await existing.getState();
        if (state !== 'completed' && state !== 'failed' && state !== 'unknown') continue;
        await existing.remove();
      }
      if (p.step === 'cut')
        await flows.add({
          name: 'source',
          queueName: sourcesQueueName(base),
          data: p,
          opts: { ...parentOpts, jobId },
          children: [
            {
              name: 'cut',
              queueName: workQueueName(base),
              data: { sourceId: p.sourceId, path: p.path, minClipSeconds: opts.minClipSeconds },
              opts: { ...childOpts, jobId: cutJobId(p.sourceId) },
            },
          ],
        });
      else await sourcesQueue.add('source', p, { ...parentOpts, jobId });
    }
    if (outstanding.size === 0) finish();
    else if ((await workQueue.getWorkers()).length === 0)
      emit({
        type: 'waiting',
        message: `no worker is connected to ${workQueueName(base)} yet; start some: svd curate worker --redis ${opts.redisUrl}`,
      });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    await allDone;
    opts.signal?.throwIfAborted();
    if (runError) throw runError;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await worker.close(opts.signal?.aborted);
    await running;
    await Promise.all([flows.close(), workQueue.close(), sourcesQueue.close()]);
  }

  refitMotionBuckets(store);
  const counts = store.counts();
  return { sources: counts.sources, clips: counts.scored, rejected, applied, duplicates, failed };
}

/**
 * A curation queue worker (`svd curate worker --redis URL`): takes cut and score jobs from `<queue>-work`, computes
 * them with the pipeline's pure stage functions (`cutSource`, `scoreClip`) and returns the results as the jobs' return
 * values. It never opens the store: the coordinator applies results. Any number of workers may run, on any machines
 * that see the input videos at the same paths.
 *
 * Stopping: `signal` (SIGTERM / SIGINT in the CLI) stops taking jobs and lets the running ones finish; `forceSignal`
 * (a second SIGTERM / SIGINT, or the grace time running out) aborts them and puts each back in the wait list
 * (`moveToWait`, which counts no attempt), so another worker takes it at once. A worker killed outright leaves its
 * jobs locked until their locks expire; see `LOCKS` in jobs.ts.
 */
import { type Job, WaitingError, Worker } from 'bullmq';
import { type ClipModels, cutSource, loadClipModels, scoreClip } from '../run/stages.ts';
import {
  assertRedisReachable,
  type CutJobData,
  connectionFor,
  DEFAULT_QUEUE,
  LOCKS,
  type ScoreJobData,
  workQueueName,
} from './jobs.ts';

export type CurateWorkerEvent =
  | { type: 'ready'; queue: string; concurrency: number }
  | { type: 'started'; job: string; attempt: number }
  | { type: 'completed'; job: string; seconds: number }
  | { type: 'failed'; job: string; error: string; willRetry: boolean }
  | { type: 'released'; job: string }
  | { type: 'error'; message: string }
  | { type: 'stopping'; active: number };

export interface CurateWorkerOptions {
  redisUrl: string;
  /** Jobs run at once (default 1: a job already uses a core for decoding and one for the flow). */
  concurrency?: number;
  /** The queue base name (default `svd-curate`); the coordinator must use the same. */
  queue?: string;
  /** Lock time per job (ms); see `LOCKS`. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (ms); see `LOCKS`. */
  stalledIntervalMs?: number;
  /**
   * The per-clip models (default: {@link loadClipModels}'s defaults, as a local run uses, loaded at the first score
   * job and released when the worker stops).
   */
  models?: ClipModels;
  /** Aborted: take no new jobs, finish the running ones, return. */
  signal?: AbortSignal;
  /** Aborted: abort the running jobs and put them back in the wait list, then return. */
  forceSignal?: AbortSignal;
  /**
   * Testing aid: each score job waits this long after it is taken (and reported `started`) before computing, so a test
   * can kill the worker while it holds the job.
   */
  holdMs?: number;
  onEvent?: (e: CurateWorkerEvent) => void;
}

function abortable(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Runs a worker until `signal` is aborted (then drains) or `forceSignal` is (then releases its jobs). */
export async function runCurateWorker(opts: CurateWorkerOptions): Promise<void> {
  const emit = opts.onEvent ?? (() => {});
  await assertRedisReachable(opts.redisUrl);
  const queue = workQueueName(opts.queue ?? DEFAULT_QUEUE);
  let forced = opts.forceSignal?.aborted ?? false;
  const errors = new Set<string>();
  let ownModels: Promise<ClipModels> | undefined;
  const models = () => {
    if (opts.models) return Promise.resolve(opts.models);
    ownModels ??= loadClipModels();
    return ownModels;
  };

  const processor = async (job: Job, token?: string, signal?: AbortSignal) => {
    emit({ type: 'started', job: job.id ?? '?', attempt: job.attemptsMade + 1 });
    try {
      if (job.name === 'cut') {
        const d = job.data as CutJobData;
        return await cutSource(d.path, { minClipSeconds: d.minClipSeconds, signal });
      }
      if (job.name === 'score') {
        const d = job.data as ScoreJobData;
        if (opts.holdMs) await abortable(opts.holdMs, signal);
        return await scoreClip(d.clip, await models(), { skip: new Set(d.skip), signal });
      }
      throw new Error(`unknown job name "${job.name}" (a newer coordinator? update this worker)`);
    } catch (e) {
      if (forced && signal?.aborted && token) {
        await job.moveToWait(token);
        emit({ type: 'released', job: job.id ?? '?' });
        throw new WaitingError();
      }
      throw e;
    }
  };

  const worker = new Worker(queue, processor, {
    connection: connectionFor(opts.redisUrl),
    concurrency: opts.concurrency ?? 1,
    lockDuration: opts.lockDurationMs ?? LOCKS.lockDurationMs,
    stalledInterval: opts.stalledIntervalMs ?? LOCKS.stalledIntervalMs,
    maxStalledCount: LOCKS.maxStalledCount,
    autorun: false,
  });
  const started = new Map<string, number>();
  worker.on('active', (job) => started.set(job.id ?? '?', performance.now()));
  worker.on('completed', (job) => {
    const t0 = started.get(job.id ?? '?') ?? performance.now();
    started.delete(job.id ?? '?');
    emit({ type: 'completed', job: job.id ?? '?', seconds: (performance.now() - t0) / 1000 });
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    started.delete(job.id ?? '?');
    const attempts = job.opts.attempts ?? 1;
    emit({ type: 'failed', job: job.id ?? '?', error: err.message, willRetry: job.attemptsMade < attempts });
  });
  worker.on('error', (err) => {
    // A lost connection is retried by the client; report each distinct message once.
    if (errors.has(err.message)) return;
    errors.add(err.message);
    emit({ type: 'error', message: err.message });
  });

  const stop = new Promise<void>((resolve) => {
    if (opts.signal?.aborted || opts.forceSignal?.aborted) resolve();
    opts.signal?.addEventListener('abort', () => resolve(), { once: true });
    opts.forceSignal?.addEventListener('abort', () => resolve(), { once: true });
  });
  const force = () => {
    forced = true;
    worker.cancelAllJobs('the worker is stopping');
  };
  opts.forceSignal?.addEventListener('abort', force, { once: true });

  let runError: unknown;
  const running = worker.run().catch((e: unknown) => {
    runError = e;
  });
  await worker.waitUntilReady();
  emit({ type: 'ready', queue, concurrency: opts.concurrency ?? 1 });
  await Promise.race([stop, running]);
  emit({ type: 'stopping', active: started.size });
  if (forced) force();
  try {
    await worker.close();
    await running;
  } finally {
    opts.forceSignal?.removeEventListener('abort', force);
    if (ownModels) await (await ownModels.catch(() => undefined))?.text?.release();
  }
  if (runError) throw runError;
}

/**
 * The server's jobs: submissions into the store and the queue, each job's life (started → progress → done | failed |
 * cancelled) into the store, the SSE hub and the metrics, and recovery at start. In-process, `runLocal` executes a
 * job here; with Redis the same life events come from the workers through ./redis-queue.ts.
 */
import { mkdirSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SvdModel } from '../models/description.ts';
import { GenerateRequestError, type ModelChoice } from '../pipeline/request.ts';
import { Engine } from '../runtime/engine.ts';
import type { Provider } from '../runtime/protocol.ts';
import { HttpError } from './errors.ts';
import { type ExecutedJob, executeJob, type ProgressMessage, progressFraction } from './execute.ts';
import { newJobId } from './ids.ts';
import type { CheckedImage } from './image-check.ts';
import type { ServerLimits } from './limits.ts';
import type { Metrics } from './metrics.ts';
import { type JobQueue, ShutdownError } from './queue.ts';
import type { SseHub } from './sse.ts';
import { type JobRecord, type JobResult, type JobState, JobStore, TERMINAL_STATES } from './store.ts';
import { checkSubmission } from './validate.ts';

/** Runs a job may start before it is failed (a run cut short by a restart or a lost worker counts). */
export const MAX_ATTEMPTS = 3;

export interface JobManagerOptions {
  readonly dataDir: string;
  readonly model: SvdModel;
  readonly choice: ModelChoice;
  /** The model's camera-motion LoRAs, name → file (./served-model.ts); requests name them. */
  readonly loras: ReadonlyMap<string, string>;
  readonly limits: ServerLimits;
  readonly hub: SseHub;
  readonly metrics: Metrics;
  readonly provider?: Provider;
  readonly threads?: number;
}

export class JobManager {
  readonly store: JobStore;
  queue!: JobQueue;
  private engine: Promise<Engine> | undefined;
  private readonly fractions = new Map<string, number>();
  private readonly shownPositions = new Map<string, number>();

  constructor(readonly opts: JobManagerOptions) {
    mkdirSync(join(opts.dataDir, 'uploads'), { recursive: true });
    mkdirSync(join(opts.dataDir, 'videos'), { recursive: true });
    this.store = new JobStore(join(opts.dataDir, 'jobs.sqlite'));
  }

  get hub(): SseHub {
    return this.opts.hub;
  }

  /** Validates, stores and queues a submission; 422 on a bad field, 429 when the queue is full. */
  async submit(fields: Readonly<Record<string, unknown>>, image: CheckedImage): Promise<JobRecord> {
    const { fields: stored, params } = checkSubmission(
      fields,
      image,
      this.opts.model,
      this.opts.choice,
      this.opts.limits,
      this.opts.loras,
    );
    const queued = this.store.counts().queued;
    if (queued >= this.opts.limits.maxQueued) {
      this.opts.metrics.submissionRejected('queue_full');
      const mean = this.opts.metrics.meanJobSeconds() ?? 10;
      const retryAfter = Math.max(1, Math.ceil(mean));
      throw new HttpError(429, `the queue is full (${queued} jobs waiting); try again later`, undefined, {
        'retry-after': String(retryAfter),
      });
    }
    const id = newJobId();
    const file = `uploads/${id}.${image.type}`;
    const record = this.store.insert({
      id,
      state: 'queued',
      createdAt: Date.now(),
      fields: stored,
      params,
      image: { type: image.type, width: image.width, height: image.height, bytes: image.bytes.length, file },
      progress: { fraction: 0 },
      attempts: 0,
    });
    try {
      await writeFile(join(this.opts.dataDir, file), image.bytes);
      await this.queue.submit(id);
    } catch (e) {
      this.fail(id, `could not queue the job: ${(e as Error).message}`);
      throw e;
    }
    this.opts.metrics.jobSubmitted();
    return record;
  }

  /** Queue positions changed (in-process queue). */
  positions(map: ReadonlyMap<string, number>): void {
    for (const [id, position] of map) {
      if (this.shownPositions.get(id) === position) continue;
      this.shownPositions.set(id, position);
      this.hub.publish(id, 'queued', { position });
    }
    for (const id of this.shownPositions.keys()) if (!map.has(id)) this.shownPositions.delete(id);
  }

  started(id: string, worker?: string): JobRecord | undefined {
    const job = this.store.get(id);
    if (!job || TERMINAL_STATES.includes(job.state)) return undefined;
    this.fractions.set(id, 0);
    const updated = this.store.update(id, {
      state: 'running',
      startedAt: Date.now(),
      attempts: job.attempts + 1,
      progress: { fraction: 0 },
    });
    this.hub.publish(id, 'started', { attempt: job.attempts + 1, ...(worker ? { worker } : {}) });
    return updated;
  }

  progress(id: string, m: ProgressMessage): void {
    const fraction = progressFraction(m, this.fractions.get(id) ?? 0);
    this.fractions.set(id, fraction);
    if (m.type === 'stage') {
      this.store.update(id, { progress: { stage: m.stage, fraction } });
      this.hub.publish(id, 'stage', { stage: m.stage, progress: fraction });
    } else if (m.type === 'step') {
      this.store.update(id, {
        progress: { stage: 'sampling', video: m.video, videos: m.videos, step: m.i, steps: m.n, fraction },
      });
      const { type: _type, ...step } = m;
      this.hub.publish(id, 'step', { ...step, progress: fraction });
    } else this.hub.publish(id, 'notice', { message: m.message });
  }

  async completed(id: string, executed: ExecutedJob): Promise<void> {
    const job = this.store.get(id);
    if (!job) return;
    const videos = [];
    for (const v of executed.videos) {
      const size = await stat(join(this.opts.dataDir, 'videos', v.file)).then(
        (s) => s.size,
        () => 0,
      );
      videos.push({ ...v, bytes: size, file: `videos/${v.file}`, sidecar: `videos/${v.sidecar}` });
    }
    const result: JobResult = { videos, timingsMs: executed.timingsMs };
    const finishedAt = Date.now();
    this.store.update(id, { state: 'done', finishedAt, result, progress: { fraction: 1 } });
    this.fractions.delete(id);
    this.opts.metrics.jobFinished('done', job.startedAt ? (finishedAt - job.startedAt) / 1000 : undefined);
    this.hub.publish(id, 'done', { result: publicResult(id, result) });
  }

  fail(id: string, reason: string): void {
    const job = this.store.get(id);
    if (!job || TERMINAL_STATES.includes(job.state)) return;
    this.store.update(id, { state: 'failed', finishedAt: Date.now(), error: reason });
    this.fractions.delete(id);
    this.opts.metrics.jobFinished('failed');
    this.hub.publish(id, 'failed', { error: reason });
  }

  cancelled(id: string): void {
    const job = this.store.get(id);
    if (!job || TERMINAL_STATES.includes(job.state)) return;
    this.store.update(id, { state: 'cancelled', finishedAt: Date.now(), error: 'cancelled' });
    this.fractions.delete(id);
    this.opts.metrics.jobFinished('cancelled');
    this.hub.publish(id, 'cancelled', {});
  }

  /** Back to the wait list (a run cut short by a shutdown or a lost worker); failed after MAX_ATTEMPTS runs. */
  requeued(id: string, why: string, opts: { limit?: boolean } = {}): boolean {
    const job = this.store.get(id);
    if (!job || TERMINAL_STATES.includes(job.state)) return false;
    if (opts.limit !== false && job.attempts >= MAX_ATTEMPTS) {
      this.fail(id, `${why}; gave up after ${job.attempts} runs`);
      return false;
    }
    this.store.update(id, { state: 'queued', progress: { fraction: 0 } });
    this.hub.publish(id, 'requeued', { reason: why });
    return true;
  }

  /** The in-process queue's runner: executes the job on this process's engine. Never rejects. */
  async runLocal(id: string, signal: AbortSignal): Promise<void> {
    const job = this.started(id);
    if (!job) return;
    try {
      const bytes = await readFile(join(this.opts.dataDir, job.image.file));
      this.engine ??= Engine.create({ provider: this.opts.provider ?? 'cpu', threads: this.opts.threads });
      const engine = await this.engine;
      const executed = await executeJob(
        { id, fields: job.fields, image: { name: `upload.${job.image.type}`, bytes } },
        join(this.opts.dataDir, 'videos'),
        {
          model: this.opts.choice,
          loras: this.opts.loras,
          provider: this.opts.provider,
          threads: this.opts.threads,
          engine,
          signal,
          onProgress: (m) => this.progress(id, m),
        },
      );
      await this.completed(id, executed);
    } catch (e) {
      if (!signal.aborted) {
        // The engine may be the cause (a crashed worker thread): the next job gets a fresh one.
        const engine = this.engine;
        this.engine = undefined;
        await (await engine?.catch(() => undefined))?.dispose().catch(() => {});
      }
      if (signal.aborted && signal.reason instanceof ShutdownError) {
        // Queued again at the next start; the run does not count against the job.
        this.store.update(id, { state: 'queued', attempts: job.attempts - 1, progress: { fraction: 0 } });
      } else if (signal.aborted) this.cancelled(id);
      else this.fail(id, errorMessage(e));
    }
  }

  /**
   * At start: a job left running by a previous process is queued again (or failed after MAX_ATTEMPTS runs), and
   * every queued job is put back in the queue in its order.
   */
  async recover(): Promise<void> {
    if (this.queue.reconcile) {
      await this.queue.reconcile();
      return;
    }
    for (const job of this.store.unfinished()) {
      if (job.state === 'running') this.requeued(job.id, 'the server stopped while the job ran');
    }
    for (const job of this.store.unfinished()) {
      if (job.state === 'queued') await this.queue.submit(job.id);
    }
  }

  /** DELETE: a queued or running job is cancelled; a finished one is deleted with its files. */
  async remove(id: string): Promise<{ status: number; body?: unknown }> {
    const job = this.store.get(id);
    if (!job) throw new HttpError(404, `no job ${id}`);
    if (job.state === 'queued' || job.state === 'running') {
      const outcome = await this.queue.cancel(id);
      if (outcome === 'removed' || (outcome === 'absent' && job.state === 'queued')) this.cancelled(id);
      return { status: 202, body: { id, state: outcome === 'aborting' ? 'cancelling' : 'cancelled' } };
    }
    this.store.delete(id);
    this.hub.forget(id);
    const files = [job.image.file, ...(job.result?.videos.flatMap((v) => [v.file, v.sidecar]) ?? [])];
    for (const f of files) await rm(join(this.opts.dataDir, f), { force: true });
    return { status: 204 };
  }

  async close(): Promise<void> {
    await this.queue.close();
    const engine = this.engine;
    this.engine = undefined;
    if (engine) await (await engine.catch(() => undefined))?.dispose();
    this.store.close();
  }
}

export function errorMessage(e: unknown): string {
  if (e instanceof GenerateRequestError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** The result as the API shows it: file URLs instead of data-folder paths. */
export function publicResult(id: string, result: JobResult) {
  return {
    videos: result.videos.map((v) => ({
      index: v.index,
      seed: v.seed,
      width: v.width,
      height: v.height,
      frames: v.frames,
      fps: v.fps,
      format: v.format,
      bytes: v.bytes,
      url: `/v1/videos/${id}/file${result.videos.length > 1 ? `?video=${v.index}` : ''}`,
    })),
    timingsMs: result.timingsMs,
  };
}

/** A job as `GET /v1/videos/:id` shows it. */
export function jobView(job: JobRecord, position: number | undefined) {
  const ms = (a?: number, b?: number) => (a !== undefined && b !== undefined ? b - a : undefined);
  const iso = (t?: number) => (t !== undefined ? new Date(t).toISOString() : undefined);
  return {
    id: job.id,
    state: job.state as JobState,
    ...(job.state === 'queued' && position !== undefined ? { position } : {}),
    progress: job.progress,
    parameters: job.fields,
    resolved: job.params,
    image: { type: job.image.type, width: job.image.width, height: job.image.height, bytes: job.image.bytes },
    createdAt: iso(job.createdAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    timings: {
      queuedMs: ms(job.createdAt, job.startedAt ?? job.finishedAt),
      runMs: ms(job.startedAt, job.finishedAt),
      ...(job.result ? { stagesMs: job.result.timingsMs } : {}),
    },
    ...(job.result ? { result: publicResult(job.id, job.result) } : {}),
    ...(job.error !== undefined ? { error: job.error } : {}),
    attempts: job.attempts,
    links: {
      self: `/v1/videos/${job.id}`,
      events: `/v1/videos/${job.id}/events`,
      image: `/v1/videos/${job.id}/image`,
      ...(job.result ? { file: `/v1/videos/${job.id}/file` } : {}),
    },
  };
}

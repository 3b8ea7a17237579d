/**
 * BullMQ behind the JobQueue interface (see ./redis-jobs.ts for the layout). The server adds jobs and listens to the
 * queue's events: `active` → started, `progress` → stage / step / notice, `completed` → the returned videos written
 * under `--data/videos/` and the job done (then removed from Redis), `failed` → retried (queued again) or failed with
 * BullMQ's reason, `stalled` → queued again (its worker stopped answering). At start it reconciles every unfinished
 * job in the store with Redis, so results that came in while the server was down are applied and no job is lost.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { assertRedisReachable, connectionFor } from '../curation/queue/jobs.ts';
import type { ProgressMessage } from './execute.ts';
import { errorMessage, type JobManager } from './jobs.ts';
import type { CancelOutcome, JobQueue } from './queue.ts';
import {
  CANCELLED_REASON,
  DEFAULT_GENERATE_QUEUE,
  type GenerateJobData,
  type GenerateJobReturn,
  REDIS_RETRY,
  returnedNameOk,
} from './redis-jobs.ts';

export class RedisQueue implements JobQueue {
  readonly kind = 'redis';
  private readonly pending = new Set<Promise<unknown>>();
  private positions: ReadonlyMap<string, number> = new Map();
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly jobs: JobManager,
    private readonly queue: Queue<GenerateJobData, GenerateJobReturn>,
    private readonly events: QueueEvents,
  ) {}

  static async open(jobs: JobManager, redisUrl: string, name = DEFAULT_GENERATE_QUEUE): Promise<RedisQueue> {
    await assertRedisReachable(redisUrl);
    const connection = connectionFor(redisUrl);
    const queue = new Queue<GenerateJobData, GenerateJobReturn>(name, { connection });
    const events = new QueueEvents(name, { connection });
    const q = new RedisQueue(jobs, queue, events);
    q.listen();
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    q.timer = setInterval(() => void q.refreshPositions(), 1000);
    q.timer.unref();
    return q;
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch(() => {}).finally(() => this.pending.delete(t));
    this.pending.add(t);
  }

  private listen(): void {
    const jobs = this.jobs;
    this.events.on('error', () => {}); // reconnects by itself
    this.events.on('active', ({ jobId }) => {
      if (jobs.store.get(jobId)?.state === 'queued') jobs.started(jobId);
    });
    this.events.on('progress', ({ jobId, data }) => {
      if (typeof data === 'object' && data !== null && 'type' in data) jobs.progress(jobId, data as ProgressMessage);
    });
    this.events.on('completed', ({ jobId }) => this.track(this.applyCompleted(jobId)));
    this.events.on('failed', ({ jobId, failedReason }) => this.track(this.applyFailed(jobId, failedReason)));
    this.events.on('stalled', ({ jobId }) => {
      jobs.requeued(jobId, 'its worker stopped answering', { limit: false });
    });
  }

  private async applyCompleted(jobId: string): Promise<void> {
    const job = await this.queue.getJob(jobId);
    const stored = this.jobs.store.get(jobId);
    if (!job || !stored) return;
    const value = job.returnvalue;
    try {
      const videos = [];
      for (const v of value.videos) {
        if (!returnedNameOk(jobId, v.file) || !returnedNameOk(jobId, v.sidecar)) {
          throw new Error(`a worker returned an unexpected file name ${JSON.stringify(v.file)}`);
        }
        await writeFile(join(this.jobs.opts.dataDir, 'videos', v.file), Buffer.from(v.data, 'base64'));
        await writeFile(join(this.jobs.opts.dataDir, 'videos', v.sidecar), Buffer.from(v.sidecarData, 'base64'));
        const { data: _d, sidecarData: _s, ...meta } = v;
        videos.push(meta);
      }
      if (stored.state !== 'running') this.jobs.started(jobId);
      await this.jobs.completed(jobId, { videos, timingsMs: value.timingsMs });
    } catch (e) {
      this.jobs.fail(jobId, errorMessage(e));
    }
    await job.remove().catch(() => {});
  }

  private async applyFailed(jobId: string, reason: string): Promise<void> {
    const job = await this.queue.getJob(jobId);
    const state = job ? await job.getState() : 'unknown';
    if (reason === CANCELLED_REASON || job?.data.cancel) {
      this.jobs.cancelled(jobId);
    } else if (state === 'failed' || state === 'unknown') {
      this.jobs.fail(jobId, reason);
    } else {
      this.jobs.requeued(jobId, `run failed (${reason}); retrying`, { limit: false });
      return;
    }
    await job?.remove().catch(() => {});
  }

  async submit(id: string): Promise<void> {
    const stored = this.jobs.store.get(id);
    if (!stored) return;
    const existing = await this.queue.getJob(id);
    if (existing) return;
    const image = await readFile(join(this.jobs.opts.dataDir, stored.image.file));
    await this.queue.add(
      'generate',
      { id, fields: { ...stored.fields }, imageType: stored.image.type, image: image.toString('base64') },
      {
        jobId: id,
        attempts: REDIS_RETRY.attempts,
        backoff: { type: 'fixed', delay: REDIS_RETRY.backoffMs },
        removeOnComplete: false,
        removeOnFail: false,
      },
    );
    await this.refreshing; // one that began before the add would miss it
    await this.refreshPositions();
  }

  /** From the last look at the wait list (refreshed every second and after each submission). */
  position(id: string): number | undefined {
    return this.positions.get(id);
  }

  /** Reads the wait list (oldest first: the next job a worker takes) and publishes changed positions. */
  refreshPositions(): Promise<void> {
    if (!this.refreshing) {
      // Cleared only once assigned: readPositions may finish without awaiting anything.
      this.refreshing = this.readPositions().finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  private async readPositions(): Promise<void> {
    try {
      if (this.jobs.store.counts().queued === 0 && this.positions.size === 0) return;
      const waiting = await this.queue.getJobs(['wait'], 0, 999, true);
      this.positions = new Map(waiting.map((j, i) => [j.id ?? '', i + 1]));
      this.jobs.positions(this.positions);
    } catch {
      // Redis unreachable for a moment: positions stay as they were.
    }
  }

  async cancel(id: string): Promise<CancelOutcome> {
    const job = await this.queue.getJob(id);
    if (!job) return 'absent';
    const state = await job.getState();
    if (state === 'active') {
      await job.updateData({ ...job.data, cancel: true });
      return 'aborting';
    }
    if (state === 'completed' || state === 'failed') return 'absent';
    await job.remove().catch(() => {});
    return 'removed';
  }

  /** At start: every unfinished job in the store against its BullMQ job. */
  async reconcile(): Promise<void> {
    for (const stored of this.jobs.store.unfinished()) {
      const job: Job<GenerateJobData, GenerateJobReturn> | undefined = await this.queue.getJob(stored.id);
      if (!job) {
        if (stored.state === 'running') this.jobs.requeued(stored.id, 'its BullMQ job is gone');
        if (this.jobs.store.get(stored.id)?.state === 'queued') await this.submit(stored.id);
        continue;
      }
      const state = await job.getState();
      if (state === 'completed') await this.applyCompleted(stored.id);
      else if (state === 'failed') await this.applyFailed(stored.id, job.failedReason ?? 'failed');
      else if (state === 'active' && stored.state === 'queued') this.jobs.started(stored.id);
      else if (state !== 'active' && stored.state === 'running') {
        this.jobs.requeued(stored.id, 'it was waiting again in Redis', { limit: false });
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing;
    await Promise.all(this.pending);
    await this.events.close();
    await this.queue.close();
  }
}

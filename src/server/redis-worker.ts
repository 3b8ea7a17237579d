/**
 * `svd worker --redis URL`: takes generation jobs from the server's BullMQ queue and runs them with this process's
 * model on one engine kept across jobs, reporting progress with `job.updateProgress` and returning the videos' bytes
 * (the server writes them). A job the server cancels (its data's `cancel` flag, polled every `cancelPollMs`) stops
 * between engine calls and fails with CANCELLED_REASON (no retry). Stopping: `signal` lets the running job finish;
 * a worker killed outright leaves its job to BullMQ's stalled-job check (see ./redis-jobs.ts).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { assertRedisReachable, connectionFor } from '../curation/queue/jobs.ts';
import type { ModelChoice } from '../pipeline/request.ts';
import { Engine } from '../runtime/engine.ts';
import type { Provider } from '../runtime/protocol.ts';
import { executeJob } from './execute.ts';
import {
  CANCELLED_REASON,
  DEFAULT_GENERATE_QUEUE,
  type GenerateJobData,
  type GenerateJobReturn,
  type ReturnedVideo,
} from './redis-jobs.ts';

export type GenerateWorkerEvent =
  | { type: 'ready'; queue: string }
  | { type: 'started'; job: string; attempt: number }
  | { type: 'completed'; job: string; seconds: number }
  | { type: 'failed'; job: string; error: string }
  | { type: 'error'; message: string };

export interface GenerateWorkerOptions {
  readonly redisUrl: string;
  readonly model: ModelChoice;
  /** The model's camera-motion LoRAs, name → file (./served-model.ts; default none). */
  readonly loras?: ReadonlyMap<string, string>;
  readonly queue?: string;
  readonly provider?: Provider;
  readonly threads?: number;
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  readonly maxStalledCount?: number;
  readonly cancelPollMs?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: GenerateWorkerEvent) => void;
}

export async function runGenerateWorker(opts: GenerateWorkerOptions): Promise<void> {
  const emit = opts.onEvent ?? (() => {});
  await assertRedisReachable(opts.redisUrl);
  const name = opts.queue ?? DEFAULT_GENERATE_QUEUE;
  const connection = connectionFor(opts.redisUrl);
  const control = new Queue<GenerateJobData>(name, { connection });
  let engine: Promise<Engine> | undefined;

  const processor = async (job: Job<GenerateJobData, GenerateJobReturn>): Promise<GenerateJobReturn> => {
    const t0 = performance.now();
    emit({ type: 'started', job: job.id ?? '?', attempt: job.attemptsMade + 1 });
    const controller = new AbortController();
    const poll = setInterval(() => {
      void control.getJob(job.id ?? '').then(
        (fresh) => {
          if (fresh?.data.cancel) controller.abort(new Error(CANCELLED_REASON));
        },
        () => {},
      );
    }, opts.cancelPollMs ?? 1000);
    const dir = await mkdtemp(join(tmpdir(), 'svd-worker-'));
    try {
      engine ??= Engine.create({ provider: opts.provider ?? 'cpu', threads: opts.threads });
      const d = job.data;
      const executed = await executeJob(
        { id: d.id, fields: d.fields, image: { name: `upload.${d.imageType}`, bytes: Buffer.from(d.image, 'base64') } },
        dir,
        {
          model: opts.model,
          loras: opts.loras,
          provider: opts.provider,
          threads: opts.threads,
          engine: await engine,
          signal: controller.signal,
          onProgress: (m) => void job.updateProgress(m).catch(() => {}),
        },
      );
      const videos: ReturnedVideo[] = [];
      for (const v of executed.videos) {
        videos.push({
          ...v,
          data: (await readFile(join(dir, v.file))).toString('base64'),
          sidecarData: (await readFile(join(dir, v.sidecar))).toString('base64'),
        });
      }
      emit({ type: 'completed', job: job.id ?? '?', seconds: (performance.now() - t0) / 1000 });
      return { videos, timingsMs: { ...executed.timingsMs } };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      emit({ type: 'failed', job: job.id ?? '?', error: message });
      if (controller.signal.aborted) throw new UnrecoverableError(CANCELLED_REASON);
      if ((e as Error)?.name === 'GenerateRequestError') throw new UnrecoverableError(message);
      throw e;
    } finally {
      clearInterval(poll);
      await rm(dir, { recursive: true, force: true });
    }
  };

  const worker = new Worker<GenerateJobData, GenerateJobReturn>(name, processor, {
    connection,
    concurrency: 1,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: opts.maxStalledCount ?? 2,
    name: `${hostname()}:${process.pid}`,
    autorun: false,
  });
  const errors = new Set<string>();
  worker.on('error', (err) => {
    if (errors.has(err.message)) return;
    errors.add(err.message);
    emit({ type: 'error', message: err.message });
  });
  let runError: unknown;
  const running = worker.run().catch((e: unknown) => {
    runError = e;
  });
  await worker.waitUntilReady();
  emit({ type: 'ready', queue: name });
  await new Promise<void>((resolve) => {
    if (opts.signal?.aborted) resolve();
    opts.signal?.addEventListener('abort', () => resolve(), { once: true });
    void running.then(() => resolve());
  });
  try {
    await worker.close();
    await running;
  } finally {
    await control.close().catch(() => {});
    if (engine) await (await engine.catch(() => undefined))?.dispose();
  }
  if (runError) throw runError;
}

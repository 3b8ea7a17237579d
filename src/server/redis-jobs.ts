/**
 * Generation jobs on BullMQ (`svd serve --redis URL` with `svd worker --redis URL` processes on any machine): the
 * queue name, the payloads, and what a worker returns. The server validates and stores each job, then adds it under
 * its own id with the image in the payload (workers need no shared disk); a worker runs it with its model and returns
 * the videos' bytes, which the server writes under `--data/videos/`. Retries: `attempts` runs per job with a fixed
 * backoff; a worker that dies mid-job stops renewing its lock and a live worker's stalled-job check puts the job back
 * in the wait list (after about lockDuration + stalledInterval), up to `maxStalledCount` times, then it fails with
 * BullMQ's reason — never left running while any worker lives.
 */
import type { ExecutedVideo } from './execute.ts';

export const DEFAULT_GENERATE_QUEUE = 'svd-generate';

export interface GenerateJobData {
  readonly id: string;
  readonly fields: Record<string, unknown>;
  readonly imageType: string;
  /** The image bytes, base64. */
  readonly image: string;
  /** Set by the server to ask the worker running the job to stop between engine calls. */
  readonly cancel?: boolean;
}

/** A video a worker returns: the executed video's record with its bytes. */
export interface ReturnedVideo extends ExecutedVideo {
  /** base64 */
  readonly data: string;
  /** base64 */
  readonly sidecarData: string;
}

export interface GenerateJobReturn {
  readonly videos: readonly ReturnedVideo[];
  readonly timingsMs: Record<string, number>;
}

/** The reason a worker fails a job with when the server cancelled it. */
export const CANCELLED_REASON = 'cancelled by the server';

export const REDIS_RETRY = Object.freeze({ attempts: 3, backoffMs: 1000 });

/** Output names a worker may return: the job's id, an optional video index, the format, an optional sidecar suffix. */
export function returnedNameOk(id: string, name: string): boolean {
  const m = /^(v[0-9a-f]{24})(_\d{2,4})?\.(mp4)(\.json)?$/.exec(name);
  return m !== null && m[1] === id;
}

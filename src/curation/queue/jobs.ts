/**
 * The curation run as BullMQ jobs on a Redis server (issue 10, item 9): queue names, job payloads, job ids, retry and
 * lock settings, and the one reachability check. The layout, per input video ("source"):
 *
 *   <queue>-sources   source.<sourceId>          the source's parent job; only the coordinator (the one process that
 *                                                owns the store) consumes this queue
 *     └─ <queue>-work cut.<sourceId>             the cut-detection cascade → SourceCutResult (a child of the parent)
 *     └─ <queue>-work score.<sourceId>.<a>-<b>   one per clip, every per-clip stage → ClipScoreResult (children added
 *                                                by the parent once its cut result is in the store)
 *
 * Workers (`svd curate worker`, any number, any machine that sees the videos at the same paths) consume `<queue>-work`
 * and return results as job return values; they never open the store. BullMQ keeps each child's return value in its
 * parent, so the coordinator reads them from there, even after a restart. Job ids are derived from the source id and
 * the clip id (a clip id's `:` becomes `.`, which BullMQ ids may not contain), so adding the same work twice — a second
 * coordinator run while the first one's jobs are still queued — adds nothing.
 */
import { Queue } from 'bullmq';
import type { ClipRef } from '../run/stages.ts';

/** The default queue base name: `<base>-work` (workers) and `<base>-sources` (the coordinator). */
export const DEFAULT_QUEUE = 'svd-curate';

export function workQueueName(base = DEFAULT_QUEUE): string {
  return `${base}-work`;
}

export function sourcesQueueName(base = DEFAULT_QUEUE): string {
  return `${base}-sources`;
}

/** A cut job: run the cut-detection cascade on one source file. */
export interface CutJobData {
  sourceId: string;
  path: string;
  minClipSeconds?: number;
}

/** A score job: run the per-clip stages on one clip, except those the store already has (`skip`). */
export interface ScoreJobData {
  clip: ClipRef;
  skip: string[];
}

/**
 * A source's parent job. `step` says where the coordinator is with it: `cut` (its cut child runs, or ran), `clips` (the
 * cut is in the store; add the clips' score children), `apply` (the score children run, or ran; apply their results).
 */
export interface SourceJobData {
  sourceId: string;
  path: string;
  step: 'cut' | 'clips' | 'apply';
  /** The clip ids whose score jobs the parent added (step `apply`). */
  clips?: string[];
}

export function cutJobId(sourceId: string): string {
  return `cut.${sourceId}`;
}

export function scoreJobId(clipId: string): string {
  return `score.${clipId.replaceAll(':', '.')}`;
}

export function sourceJobId(sourceId: string): string {
  return `source.${sourceId}`;
}

/** How often a failing job is tried, and the first retry's delay (doubled each time: 2, 4, 8 s …). */
export const RETRY = Object.freeze({ attempts: 4, backoffMs: 2000 });

/**
 * Locks and stalled jobs. A worker holds a lock on each job it runs, for `lockDurationMs`, renewed every half of it
 * while the job runs. A worker that dies (SIGKILL, a lost machine) stops renewing: once the lock has expired, the next
 * stalled-job check of any live worker (every `stalledIntervalMs`) puts the job back in the wait list — it is then run
 * again from the start, by whichever worker takes it, and its first run never returns a result. So a killed worker's
 * job is re-run after at most about lockDuration + 2 × stalledInterval, and a job found stalled more than
 * `maxStalledCount` times fails (then its parent records why). The defaults suit long jobs on real machines; a test
 * sets them to a second or two. A lock shorter than the longest synchronous stretch of a job (a worker's event loop
 * blocked past it) makes live jobs look stalled: they are then computed twice (applied once, see the coordinator).
 */
export const LOCKS = Object.freeze({ lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 2 });

export class CurateQueueError extends Error {
  override name = 'CurateQueueError';
}

/** BullMQ connection options for a Redis URL (`redis://[user:pass@]host:port[/db]`, `rediss://` for TLS). */
export function connectionFor(redisUrl: string) {
  // Workers block on Redis; BullMQ requires unlimited retries per request for those connections.
  return { url: redisUrl, maxRetriesPerRequest: null };
}

/**
 * Fails within about `timeoutMs` with "cannot reach Redis at URL: why" when the server does not answer, instead of the
 * client's default of retrying forever. Called once before any queue is opened; later disconnections are retried.
 */
export async function assertRedisReachable(redisUrl: string, timeoutMs = 3000): Promise<void> {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    throw new CurateQueueError(`${JSON.stringify(redisUrl)} is not a Redis URL (expected redis://HOST:PORT)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new CurateQueueError(`${JSON.stringify(redisUrl)} is not a Redis URL (expected redis://HOST:PORT)`);
  const probe = new Queue('svd-curate-probe', {
    connection: {
      url: redisUrl,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: false,
    },
  });
  let lastError: Error | undefined;
  probe.on('error', (e) => {
    lastError = e;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe.waitUntilReady(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs + 500);
      }),
    ]);
  } catch (e) {
    const why = (lastError ?? (e as Error)).message || String(e);
    throw new CurateQueueError(`cannot reach Redis at ${redisUrl}: ${why}`);
  } finally {
    clearTimeout(timer);
    await probe.close().catch(() => {});
  }
}

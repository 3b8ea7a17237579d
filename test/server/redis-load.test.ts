/**
 * Load in Redis mode, as deployed: a throwaway redis-server, `svd serve --redis` and two `svd worker` processes on the
 * tiny model; 50 submissions at once against a queue of 8: each one is accepted and done, or refused with 429 and
 * Retry-After; none lost, none left queued or running; both workers ran jobs; the server's memory stays bounded.
 * (scripts/load-serve.ts runs the same load for figures.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runLoad } from '../helpers/load.ts';
import { type RedisServer, redisServerMissing, startRedisServer } from '../helpers/redis-server.ts';
import {
  memory,
  type ServeProcess,
  startServeProcess,
  startWorker,
  stopProcess,
  type WorkerProcess,
} from '../helpers/svd-processes.ts';

const skip = redisServerMissing();
const QUEUE = `svd-load-test-${process.pid}`;
const MAX_QUEUE = 8;
let redis: RedisServer;
let server: ServeProcess;
let workers: WorkerProcess[] = [];
let dataDir: string;

before(async () => {
  if (skip) return;
  redis = await startRedisServer();
  dataDir = mkdtempSync(join(tmpdir(), 'svd-load-'));
  [server, ...workers] = await Promise.all([
    startServeProcess(['--redis', redis.url, '--queue', QUEUE, '--data', dataDir, '--max-queue', String(MAX_QUEUE)]),
    startWorker(redis.url, QUEUE),
    startWorker(redis.url, QUEUE),
  ]);
});

after(async () => {
  if (skip) return;
  await Promise.all(workers.map(stopProcess));
  if (server) await stopProcess(server);
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('50 concurrent submissions, Redis, 2 workers, queue of 8: done or 429, none lost, nothing left running', {
  skip,
}, async () => {
  const before = memory(server);
  const report = await runLoad(server.url, { jobs: 50, timeoutMs: 120_000 });
  const after = memory(server);
  assert.deepEqual(report.otherStatuses, [], 'only 202 and 429');
  assert.equal(report.accepted.length + report.refused, 50);
  assert.ok(report.accepted.length >= MAX_QUEUE, `${report.accepted.length} accepted`);
  assert.ok(report.refused > 0, 'the bounded queue refused some');
  assert.equal(report.refusedWithoutRetryAfter, 0);
  assert.deepEqual(report.states, { done: report.accepted.length });
  assert.deepEqual(report.lost, []);
  assert.deepEqual(report.unfinished, []);
  const ran = workers.flatMap((w) => w.started);
  assert.deepEqual([...new Set(ran)].sort(), [...report.accepted].sort(), 'the workers ran exactly the accepted jobs');
  assert.ok(
    workers.every((w) => w.started.length > 0),
    `both workers ran jobs: ${workers.map((w) => w.started.length)}`,
  );
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, new RegExp(`svd_submissions_rejected_total\\{reason="queue_full"\\} ${report.refused}\\b`));
  // 50 bodies of 12 KiB and their jobs: the server's resident set grows by far less than 256 MiB.
  assert.ok(after.peak - before.rss < 256 * 2 ** 20, `server memory: ${before.rss} → peak ${after.peak} bytes`);
});

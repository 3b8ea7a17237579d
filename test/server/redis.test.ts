/**
 * `svd serve --redis` with `svd worker` processes (BullMQ on a throwaway loopback redis-server): jobs run on the
 * workers and their videos come back to the server; a worker SIGKILLed mid-job → the job is run again by the other
 * worker and completes, nothing stays running; a running job is cancelled through Redis; a result that comes in while
 * the server is down is applied when it starts again.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { type RedisServer, redisServerMissing, startRedisServer } from '../helpers/redis-server.ts';
import {
  FAST,
  type Loose,
  multipart,
  readEvents,
  startTinyServer,
  type TinyServer,
  waitForJob,
} from '../helpers/server.ts';
import { startWorker, stopProcess, type WorkerProcess } from '../helpers/svd-processes.ts';

const skip = redisServerMissing();
let redis: RedisServer;
let server: TinyServer;
let dataDir: string;
const QUEUE = `svd-generate-test-${process.pid}`;

function startTinyWorker(): Promise<WorkerProcess> {
  return startWorker(redis.url, QUEUE, ['--lock-duration', '2', '--stalled-interval', '1']);
}

async function submit(fields: Record<string, string>): Promise<string> {
  const res = await fetch(`${server.url}/v1/videos`, { method: 'POST', body: multipart(fields) });
  assert.equal(res.status, 202);
  return ((await res.json()) as { id: string }).id;
}

let workers: WorkerProcess[] = [];

before(async () => {
  if (skip) return;
  redis = await startRedisServer();
  dataDir = mkdtempSync(join(tmpdir(), 'svd-serve-redis-'));
  server = await startTinyServer({ dataDir, redisUrl: redis.url, queueName: QUEUE });
  workers = await Promise.all([startTinyWorker(), startTinyWorker()]);
});

after(async () => {
  if (skip) return;
  await Promise.all(workers.map(stopProcess));
  await server?.close();
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a job runs on a worker; its video and sidecar come back to the server', { skip }, async () => {
  const id = await submit(FAST);
  const events = await readEvents(server.url, id);
  assert.deepEqual(
    events.filter((e) => e.event === 'step').map((e) => e.data.i),
    [1, 2],
  );
  assert.equal(events[events.length - 1].event, 'done');
  const job = await waitForJob(server.url, id);
  assert.equal(job.state, 'done');
  assert.ok(existsSync(join(dataDir, 'videos', `${id}.mp4`)));
  assert.ok(existsSync(join(dataDir, 'videos', `${id}.mp4.json`)));
  const file = await fetch(`${server.url}/v1/videos/${id}/file`);
  assert.equal(
    Buffer.from(await file.arrayBuffer())
      .subarray(4, 8)
      .toString(),
    'ftyp',
  );
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { queue: string };
  assert.equal(health.queue, 'redis');
});

test('SIGKILL the worker running a job: the other worker runs it again; nothing stays running', { skip }, async () => {
  const id = await submit({ ...FAST, steps: '10' });
  await readEvents(server.url, id, { stopAfter: (e) => e.event === 'step' });
  const holder = workers.find((w) => w.started.includes(id));
  assert.ok(holder, 'a worker reported the job');
  holder.child.kill('SIGKILL');
  await holder.exited;
  const job = await waitForJob(server.url, id, 90_000);
  assert.equal(job.state, 'done', String(job.error));
  assert.ok(Number(job.attempts) >= 2, `runs: ${job.attempts}`);
  const other = workers.find((w) => w !== holder);
  assert.ok(other?.started.includes(id), 'the other worker ran it');
  const events = await readEvents(server.url, id);
  assert.ok(events.some((e) => e.event === 'requeued'));
  const list = (await (await fetch(`${server.url}/v1/videos?state=running`)).json()) as { videos: unknown[] };
  assert.deepEqual(list.videos, []);
  workers = workers.filter((w) => w !== holder);
});

test('queue positions from Redis; DELETE a queued job (removed) and a running one (cancelled between engine calls)', {
  skip,
}, async () => {
  // One worker is left: it runs `id`, the next two wait.
  const id = await submit({ ...FAST, steps: '30' });
  await readEvents(server.url, id, { stopAfter: (e) => e.event === 'step' });
  const next = await submit(FAST);
  const last = await submit(FAST);
  const view = async (job: string) => (await (await fetch(`${server.url}/v1/videos/${job}`)).json()) as Loose;
  assert.equal((await view(next)).position, 1);
  assert.equal((await view(last)).position, 2);
  const queuedEvents = await readEvents(server.url, last, { stopAfter: (e) => e.event === 'queued' });
  assert.equal(queuedEvents[0].data.position, 2);
  const delLast = await fetch(`${server.url}/v1/videos/${last}`, { method: 'DELETE' });
  assert.deepEqual(await delLast.json(), { id: last, state: 'cancelled' });
  const del = await fetch(`${server.url}/v1/videos/${id}`, { method: 'DELETE' });
  assert.equal(del.status, 202);
  assert.deepEqual(await del.json(), { id, state: 'cancelling' });
  assert.equal((await waitForJob(server.url, id, 30_000)).state, 'cancelled');
  assert.equal((await waitForJob(server.url, next, 60_000)).state, 'done');
  assert.equal((await view(last)).state, 'cancelled');
});

test('a result that arrives while the server is down is applied when it starts again', { skip }, async () => {
  const id = await submit({ ...FAST, steps: '6' });
  await readEvents(server.url, id, { stopAfter: (e) => e.event === 'started' });
  await server.close();
  // The worker finishes meanwhile: its result waits in Redis.
  const queue = new Queue(QUEUE, { connection: { url: redis.url } });
  try {
    const t0 = Date.now();
    while ((await (await queue.getJob(id))?.getState()) !== 'completed') {
      assert.ok(Date.now() - t0 < 60_000, 'the worker finished the job');
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await queue.close();
  }
  server = await startTinyServer({ dataDir, redisUrl: redis.url, queueName: QUEUE });
  const job = await waitForJob(server.url, id, 60_000);
  assert.equal(job.state, 'done', String(job.error));
  assert.ok(existsSync(join(dataDir, 'videos', `${id}.mp4`)));
});

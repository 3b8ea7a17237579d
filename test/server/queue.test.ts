/**
 * The in-process queue under load and faults: a running job cancelled between engine calls; 50 concurrent
 * submissions against a bounded queue (each one done or refused with 429 + Retry-After, none lost); jobs surviving a
 * server restart (the running one queued again and finished), and a job left "running" by a dead process re-run or,
 * after too many runs, failed with the reason — never left running.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_ATTEMPTS } from '../../src/server/jobs.ts';
import { JobStore } from '../../src/server/store.ts';
import { FAST, type Loose, multipart, readEvents, startTinyServer, waitForJob } from '../helpers/server.ts';

async function submit(url: string, fields: Record<string, string>) {
  const res = await fetch(`${url}/v1/videos`, { method: 'POST', body: multipart(fields) });
  return { status: res.status, body: (await res.json()) as Loose, retryAfter: res.headers.get('retry-after') };
}

test('DELETE a running job: it stops between engine calls, is cancelled, writes no video', async () => {
  const server = await startTinyServer();
  try {
    const { body } = await submit(server.url, { ...FAST, steps: '12' });
    const seen = await readEvents(server.url, body.id, { stopAfter: (e) => e.event === 'step' });
    assert.equal(seen[seen.length - 1].event, 'step');
    const del = await fetch(`${server.url}/v1/videos/${body.id}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    assert.deepEqual(await del.json(), { id: body.id, state: 'cancelling' });
    const events = await readEvents(server.url, body.id, { lastEventId: seen[seen.length - 1].id });
    assert.equal(events[events.length - 1].event, 'cancelled');
    const job = await waitForJob(server.url, body.id);
    assert.equal(job.state, 'cancelled');
    const steps = events.filter((e) => e.event === 'step').length;
    assert.ok(steps < 11, `stopped early (${steps} more steps)`);
    assert.ok(!existsSync(join(server.dataDir, 'videos', `${body.id}.mp4`)));
    // A queued job is cancelled at once; then the queue goes on.
    const a = await submit(server.url, FAST);
    const b = await submit(server.url, FAST);
    const delB = await fetch(`${server.url}/v1/videos/${b.body.id}`, { method: 'DELETE' });
    assert.deepEqual(await delB.json(), { id: b.body.id, state: 'cancelled' });
    assert.equal((await waitForJob(server.url, a.body.id)).state, 'done');
    assert.equal((await waitForJob(server.url, b.body.id)).state, 'cancelled');
  } finally {
    await server.stop();
  }
});

test('50 concurrent submissions, queue of 4: each one completes or gets 429 with Retry-After; none lost', async () => {
  const server = await startTinyServer({ limits: { maxQueued: 4 } });
  try {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => submit(server.url, { ...FAST, steps: '1', seed: String(i) })),
    );
    const accepted = results.filter((r) => r.status === 202);
    const refused = results.filter((r) => r.status === 429);
    assert.equal(accepted.length + refused.length, 50, `statuses: ${results.map((r) => r.status)}`);
    assert.ok(accepted.length >= 4 && accepted.length <= 8, `${accepted.length} accepted`);
    for (const r of refused) {
      assert.match(r.retryAfter ?? '', /^\d+$/);
      assert.match(r.body.error, /queue is full/);
    }
    for (const r of accepted) assert.equal((await waitForJob(server.url, r.body.id, 120_000)).state, 'done');
    const list = (await (await fetch(`${server.url}/v1/videos?limit=100`)).json()) as Loose;
    assert.deepEqual(list.videos.map((v: { id: string }) => v.id).sort(), accepted.map((r) => r.body.id).sort());
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`svd_submissions_rejected_total\\{reason="queue_full"\\} ${refused.length}`));
  } finally {
    await server.stop();
  }
});

test('jobs survive a restart; a job left running by a dead process is re-run, or failed after too many runs', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'svd-serve-restart-'));
  try {
    const first = await startTinyServer({ dataDir });
    const a = await submit(first.url, { ...FAST, steps: '6' });
    const b = await submit(first.url, FAST);
    await readEvents(first.url, a.body.id, { stopAfter: (e) => e.event === 'step' });
    await first.close(); // a is stopped mid-run: queued again, its run not counted
    const store = new JobStore(join(dataDir, 'jobs.sqlite'));
    assert.equal(store.get(a.body.id)?.state, 'queued');
    assert.equal(store.get(b.body.id)?.state, 'queued');
    // What a killed process leaves: a job "running", once with runs to spare, once with none.
    store.update(b.body.id, { state: 'running', attempts: 1 });
    const c = store.insert({ ...store.get(b.body.id)!, id: 'v0000000000000000000000cc', attempts: MAX_ATTEMPTS });
    store.close();

    const second = await startTinyServer({ dataDir });
    try {
      const ja = await waitForJob(second.url, a.body.id);
      const jb = await waitForJob(second.url, b.body.id);
      const jc = await waitForJob(second.url, c.id);
      assert.equal(ja.state, 'done');
      assert.equal(ja.attempts, 1);
      assert.equal(jb.state, 'done');
      assert.equal(jb.attempts, 2);
      assert.equal(jc.state, 'failed');
      assert.match(String(jc.error), /server stopped while the job ran; gave up after 3 runs/);
      const events = await readEvents(second.url, c.id);
      assert.equal(events[events.length - 1].event, 'failed');
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

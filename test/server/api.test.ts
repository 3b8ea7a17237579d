/**
 * `svd serve`'s API end to end on the tiny model (in-process queue): multipart and JSON submissions, the event stream
 * (stages, steps with PNG previews, done; resumed with Last-Event-ID), the job view, the file with ranges, paging,
 * deletion, /healthz, /metrics and /openapi.json.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  FAST,
  type Loose,
  multipart,
  readEvents,
  startTinyServer,
  TINY_IMAGE,
  type TinyServer,
  waitForJob,
} from '../helpers/server.ts';

let server: TinyServer;
let first: string;

before(async () => {
  server = await startTinyServer({ limits: { maxFrames: 8 } });
});
after(async () => server.stop());

test('POST multipart → 202 {id}; the events: queued, started, stages, steps with previews, done', async () => {
  const res = await fetch(`${server.url}/v1/videos`, { method: 'POST', body: multipart({ ...FAST, seed: '5' }) });
  assert.equal(res.status, 202);
  const body = (await res.json()) as { id: string; state: string };
  assert.match(body.id, /^v[0-9a-f]{24}$/);
  assert.equal(body.state, 'queued');
  assert.equal(res.headers.get('location'), `/v1/videos/${body.id}`);
  first = body.id;
  const events = await readEvents(server.url, first);
  const names = events.map((e) => e.event);
  assert.equal(names[0], 'queued');
  assert.ok(names.includes('started'));
  assert.deepEqual(
    events.filter((e) => e.event === 'stage').map((e) => e.data.stage),
    ['loading checkpoint', 'conditioning', 'sampling', 'decoding', 'encoding'],
  );
  const steps = events.filter((e) => e.event === 'step');
  assert.deepEqual(
    steps.map((e) => [e.data.i, e.data.n]),
    [
      [1, 2],
      [2, 2],
    ],
  );
  // Only the latest step keeps its preview in the replayed log; a live client sees each one.
  const preview = steps[steps.length - 1].data.preview as string;
  assert.match(preview, /^data:image\/png;base64,/);
  assert.equal(Buffer.from(preview.split(',')[1], 'base64').subarray(1, 4).toString(), 'PNG');
  assert.equal(names[names.length - 1], 'done');
  const ids = events.map((e) => e.id);
  assert.deepEqual(
    ids,
    ids.map((_, i) => i + 1),
    'event ids count from 1',
  );
  const done = events[events.length - 1].data as { result: { videos: { url: string; frames: number }[] } };
  assert.equal(done.result.videos[0].frames, 4);
  assert.equal(done.result.videos[0].url, `/v1/videos/${first}/file`);

  // Resuming after event 3 replays from event 4 on.
  const resumed = await readEvents(server.url, first, { lastEventId: 3 });
  assert.deepEqual(
    resumed.map((e) => e.id),
    ids.slice(3),
  );
});

test('GET /v1/videos/:id: state, progress, parameters, resolved values, timings, result', async () => {
  const res = await fetch(`${server.url}/v1/videos/${first}`);
  assert.equal(res.status, 200);
  const job = (await res.json()) as Loose;
  assert.equal(job.state, 'done');
  assert.equal(job.progress.fraction, 1);
  assert.deepEqual(job.parameters, { ...FAST, seed: '5' });
  assert.equal(job.resolved.frames, 4);
  assert.equal(job.resolved.steps, 2);
  assert.deepEqual(job.resolved.seeds, [5]);
  assert.equal(job.resolved.size, '64x64');
  assert.ok(job.timings.runMs > 0 && job.timings.queuedMs >= 0);
  assert.ok(job.timings.stagesMs.sampling > 0);
  assert.equal(job.attempts, 1);
  assert.ok(existsSync(join(server.dataDir, 'videos', `${first}.mp4`)));
  assert.ok(existsSync(join(server.dataDir, 'videos', `${first}.mp4.json`)), 'the sidecar');
});

test('GET …/file: the mp4, whole and by byte ranges; 416 outside', async () => {
  const whole = await fetch(`${server.url}/v1/videos/${first}/file`);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('content-type'), 'video/mp4');
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  const bytes = Buffer.from(await whole.arrayBuffer());
  assert.equal(bytes.subarray(4, 8).toString(), 'ftyp');
  const part = await fetch(`${server.url}/v1/videos/${first}/file`, { headers: { range: 'bytes=4-7' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 4-7/${bytes.length}`);
  assert.equal(Buffer.from(await part.arrayBuffer()).toString(), 'ftyp');
  const tail = await fetch(`${server.url}/v1/videos/${first}/file`, { headers: { range: 'bytes=-10' } });
  assert.equal(tail.status, 206);
  assert.ok(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(bytes.length - 10)));
  const outside = await fetch(`${server.url}/v1/videos/${first}/file`, {
    headers: { range: `bytes=${bytes.length}-` },
  });
  assert.equal(outside.status, 416);
  assert.equal(outside.headers.get('content-range'), `bytes */${bytes.length}`);
  await outside.text();
  const download = await fetch(`${server.url}/v1/videos/${first}/file?download=1`, { method: 'HEAD' });
  assert.match(download.headers.get('content-disposition') ?? '', /^attachment; filename="v[0-9a-f]{24}\.mp4"$/);
});

test('POST JSON with a base64 image (and a data: URL); two seeds make two videos', async () => {
  const res = await fetch(`${server.url}/v1/videos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: TINY_IMAGE.toString('base64'), frames: 4, steps: 2, size: 'native', seed: [1, 2] }),
  });
  assert.equal(res.status, 202, await res.clone().text());
  const { id } = (await res.json()) as { id: string };
  const job = (await waitForJob(server.url, id)) as Loose;
  assert.equal(job.state, 'done', job.error);
  assert.deepEqual(
    job.result.videos.map((v: { seed: number; url: string }) => [v.seed, v.url]),
    [
      [1, `/v1/videos/${id}/file?video=0`],
      [2, `/v1/videos/${id}/file?video=1`],
    ],
  );
  const second = await fetch(`${server.url}${job.result.videos[1].url}`);
  assert.equal(second.status, 200);
  await second.arrayBuffer();

  const dataUrl = await fetch(`${server.url}/v1/videos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: `data:image/png;base64,${TINY_IMAGE.toString('base64')}`, ...FAST, seed: 'random' }),
  });
  assert.equal(dataUrl.status, 202);
  const drawn = (await waitForJob(server.url, ((await dataUrl.json()) as { id: string }).id)) as Loose;
  assert.equal(drawn.state, 'done');
  assert.equal(typeof drawn.parameters.seed, 'number', 'a drawn seed is stored as the number drawn');
});

test('GET /v1/videos: newest first, paged by cursor', async () => {
  const page1 = (await (await fetch(`${server.url}/v1/videos?limit=2`)).json()) as {
    videos: { id: string }[];
    next?: string;
  };
  assert.equal(page1.videos.length, 2);
  assert.ok(page1.next);
  const page2 = (await (await fetch(`${server.url}/v1/videos?limit=2&cursor=${page1.next}`)).json()) as {
    videos: { id: string }[];
    next?: string;
  };
  assert.deepEqual(
    page2.videos.map((v) => v.id),
    [first],
  );
  assert.equal(page2.next, undefined);
  const bad = await fetch(`${server.url}/v1/videos?limit=0`);
  assert.equal(bad.status, 422);
  assert.equal(((await bad.json()) as { issues: { field: string }[] }).issues[0].field, 'limit');
});

test('/healthz, /metrics and /openapi.json', async () => {
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { ok: boolean; queue: string };
  assert.deepEqual([health.ok, health.queue], [true, 'in-process']);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /^svd_queue_depth 0$/m);
  assert.match(metrics, /^svd_jobs_finished_total\{state="done"\} 3$/m);
  assert.match(metrics, /^svd_job_duration_seconds_count 3$/m);
  assert.match(metrics, /^svd_job_failures_total 0$/m);
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Loose;
  assert.equal(doc.openapi, '3.1.0');
  const fields = doc.components.schemas.GenerateFields.properties;
  assert.equal(fields.frames.maximum, 8, "the server's frame limit");
  assert.deepEqual(fields.sampler.enum, ['euler', 'heun', 'dpmpp-2m', 'lcm']);
  assert.equal(fields.out, undefined);
  assert.ok(doc.paths['/v1/videos/{id}/events']);
});

test('DELETE a finished job removes it and its files', async () => {
  const res = await fetch(`${server.url}/v1/videos/${first}`, { method: 'DELETE' });
  assert.equal(res.status, 204);
  assert.equal((await fetch(`${server.url}/v1/videos/${first}`)).status, 404);
  assert.ok(!existsSync(join(server.dataDir, 'videos', `${first}.mp4`)));
  assert.ok(!existsSync(join(server.dataDir, 'uploads', `${first}.png`)));
});

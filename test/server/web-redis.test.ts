/**
 * The web page in Redis mode, as deployed on several processes: a throwaway redis-server, `svd serve --redis` and one
 * `svd worker`, each its own process on the tiny model, and the page in Debian's chromium. The page submits an image;
 * the job runs on the worker, whose progress (stage and step events with previews) reaches the page through Redis and
 * the server's event stream; the finished video comes back to the server, plays in the page and is offered for
 * download; the gallery lists it as done. A screenshot is kept as a test artefact (test/helpers/browser.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromiumMissing, isPng, launchChromium, saveScreenshot } from '../helpers/browser.ts';
import { type RedisServer, redisServerMissing, startRedisServer } from '../helpers/redis-server.ts';
import { TINY_DIR } from '../helpers/server.ts';
import {
  type ServeProcess,
  startServeProcess,
  startWorker,
  stopProcess,
  type WorkerProcess,
} from '../helpers/svd-processes.ts';

const skip = chromiumMissing() ?? redisServerMissing();
const QUEUE = `svd-web-redis-test-${process.pid}`;
const STEPS = 6;
let redis: RedisServer;
let server: ServeProcess;
let worker: WorkerProcess;
let browser: Browser;
let dataDir: string;

before(async () => {
  if (skip) return;
  dataDir = mkdtempSync(join(tmpdir(), 'svd-web-redis-'));
  redis = await startRedisServer();
  [server, worker, browser] = await Promise.all([
    startServeProcess(['--redis', redis.url, '--queue', QUEUE, '--data', dataDir]),
    startWorker(redis.url, QUEUE),
    launchChromium(),
  ]);
});

after(async () => {
  if (skip) return;
  await browser?.close();
  if (worker) await stopProcess(worker);
  if (server) await stopProcess(server);
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** What the page showed while the job ran: each status text and progress value, recorded in the page. */
interface Seen {
  statuses: string[];
  progress: number[];
}

test('Redis mode: the page submits, shows the worker’s progress with previews, plays and offers the video', {
  skip,
  timeout: 60_000,
}, async () => {
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { queue: string };
  assert.equal(health.queue, 'redis', 'the server queues on Redis');

  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} ${m.location().url}`);
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.locator('input[name=steps][placeholder$="(model default)"]').waitFor({ state: 'attached' });

  // Record every status text and progress value the page shows from now on.
  await page.evaluate(() => {
    type El = { textContent: string | null; value: number };
    type Doc = { getElementById(id: string): El };
    type Observer = new (f: () => void) => { observe(target: El, options: Record<string, boolean>): void };
    const w = globalThis as unknown as { __seen: Seen; document: Doc; MutationObserver: Observer };
    const seen: Seen = { statuses: [], progress: [] };
    w.__seen = seen;
    const status = w.document.getElementById('status');
    const progress = w.document.getElementById('progress');
    // (An inline function: a named one would be given tsx's __name helper, which the page lacks.)
    new w.MutationObserver(() => {
      seen.statuses.push(status.textContent ?? '');
      seen.progress.push(progress.value);
    }).observe(status, { childList: true, characterData: true, subtree: true });
  });

  await page.setInputFiles('#image', `${TINY_DIR}input.png`);
  await page.locator('#image-preview').waitFor({ state: 'visible' });
  await page.fill('input[name=frames]', '4');
  await page.fill('input[name=steps]', String(STEPS));
  await page.fill('input[name=seed]', '5');
  await page.selectOption('select[name=size]', 'native');
  await page.click('#submit');

  await page.locator('#step-preview').waitFor({ state: 'visible', timeout: 40_000 });
  assert.match((await page.getAttribute('#step-preview', 'src')) ?? '', /^data:image\/png;base64,/);
  await page.locator('#result').waitFor({ state: 'visible', timeout: 40_000 });
  assert.match((await page.textContent('#status')) ?? '', /^done$/);
  assert.equal(await page.$eval('#progress', (p) => (p as unknown as { value: number }).value), 1);

  const seen = (await page.evaluate(() => (globalThis as unknown as { __seen: Seen }).__seen)) as Seen;
  const steps = seen.statuses.filter((s) => /^sampling: step \d+\/\d+$/.test(s));
  assert.ok(steps.length > 0, `step statuses shown: ${JSON.stringify(seen.statuses)}`);
  assert.ok(
    steps.every((s) => s.endsWith(`/${STEPS}`)),
    `steps of ${STEPS}: ${steps.join(', ')}`,
  );
  assert.ok(
    seen.progress.some((p) => p > 0 && p < 1),
    `a partial progress shown: ${seen.progress.join(', ')}`,
  );

  // The job ran on the worker process, and its video came back through the server.
  const download = (await page.getAttribute('#download', 'download')) ?? '';
  const id = /^(v[0-9a-f]{24})\.mp4$/.exec(download)?.[1];
  assert.ok(id, `download name ${download}`);
  assert.deepEqual(worker.started, [id], 'the worker ran the page’s job');
  assert.match((await page.getAttribute('#video', 'src')) ?? '', /^blob:/);
  type Video = { readyState: number; videoWidth: number; videoHeight: number };
  const video = page.locator('#video');
  await video.evaluate(
    (v) =>
      new Promise<void>((resolve) => {
        const el = v as unknown as Video & { addEventListener(t: string, f: () => void): void };
        if (el.readyState >= 1) resolve();
        else el.addEventListener('loadedmetadata', () => resolve());
      }),
    undefined,
    { timeout: 20_000 },
  );
  const size = await video.evaluate((v) => [(v as unknown as Video).videoWidth, (v as unknown as Video).videoHeight]);
  assert.deepEqual(size, [64, 64]);
  assert.match((await page.textContent('#result-info')) ?? '', /4 frames, 64×64, \d+ fps, seed 5/);
  const file = await fetch(`${server.url}/v1/videos/${id}/file`);
  assert.equal(file.status, 200);
  assert.equal(
    Buffer.from(await file.arrayBuffer())
      .subarray(4, 8)
      .toString(),
    'ftyp',
  );

  // The gallery lists the job as done.
  await page
    .locator('#gallery li p', { hasText: /^done$/ })
    .first()
    .waitFor();
  assert.match((await page.locator('#gallery li').first().textContent()) ?? '', /4 frames · 6 steps .* seed 5/);
  assert.ok(isPng(await saveScreenshot(page, 'web-redis-done')), 'a screenshot artefact');
  // (Chromium asks for /favicon.ico on its own; the page declares none.)
  assert.deepEqual(
    errors.filter((e) => !e.endsWith('/favicon.ico')),
    [],
    'no page errors',
  );
  await page.close();
});

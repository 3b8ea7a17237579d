/**
 * The web page in a real browser (Debian's chromium via playwright-core) against the server on the tiny model: pick an
 * image and parameters, watch the progress bar and the live previews, the result plays and downloads, the gallery
 * lists the job with its parameters and re-runs it with a new seed in one click, a bad value and a bad file are shown
 * plainly, and an API key is asked for and used. The camera-motion selector shows only for a model with LoRAs (a test
 * LoRA for the tiny model stands in for one) and its choice reaches the job. The page logs no error (a CSP violation
 * would be one). Screenshots are kept as test artefacts (test/helpers/browser.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { type Browser, chromiumMissing, isPng, launchChromium, saveScreenshot } from '../helpers/browser.ts';
import { type Loose, startTinyServer, TINY_DIR, type TinyServer } from '../helpers/server.ts';
import { writeTestLora } from '../models/lora/helpers.ts';

const skip = chromiumMissing();
let browser: Browser;
let server: TinyServer;
const KEY = 'page-key-123';

before(async () => {
  if (skip) return;
  [browser, server] = await Promise.all([launchChromium(), startTinyServer({ apiKey: KEY })]);
});
after(async () => {
  if (skip) return;
  await browser?.close();
  await server?.stop();
});

async function openPage(errors: string[], url = server.url): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return page;
}

test('the page: key, image, parameters → progress with previews → the video plays; gallery re-run; errors shown', {
  skip,
}, async () => {
  const errors: string[] = [];
  const page = await openPage(errors);
  // Without the key the gallery's request gets 401: the page asks for it.
  await page.locator('#key-form').waitFor({ state: 'visible' });
  await page.fill('#api-key', KEY);
  await page.click('#key-form button');
  await page.locator('#error').waitFor({ state: 'hidden' });
  // The model's defaults become the placeholders; the tiny model has no camera LoRAs: no selector.
  await page.locator('input[name=steps][placeholder$="(model default)"]').waitFor({ state: 'attached' });
  assert.match((await page.getAttribute('input[name=steps]', 'placeholder')) ?? '', /^\d+ \(model default\)$/);
  assert.equal(await page.locator('#camera').isHidden(), true);

  await page.setInputFiles('#image', `${TINY_DIR}input.png`);
  await page.locator('#image-preview').waitFor({ state: 'visible' });
  await page.fill('input[name=frames]', '4');
  await page.fill('input[name=steps]', '3');
  await page.fill('input[name=seed]', '11');
  await page.selectOption('select[name=size]', 'native');
  await page.click('#submit');

  await page.locator('#step-preview').waitFor({ state: 'visible', timeout: 60_000 });
  assert.match((await page.getAttribute('#step-preview', 'src')) ?? '', /^data:image\/png;base64,/);
  await page.locator('#result').waitFor({ state: 'visible', timeout: 60_000 });
  assert.equal(await page.$eval('#progress', (p) => (p as unknown as { value: number }).value), 1);
  assert.match((await page.textContent('#status')) ?? '', /done/);
  assert.match((await page.getAttribute('#video', 'src')) ?? '', /^blob:/);
  // The video decodes in the page.
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
  assert.match((await page.getAttribute('#download', 'download')) ?? '', /^v[0-9a-f]{24}\.mp4$/);
  assert.match((await page.textContent('#result-info')) ?? '', /4 frames, 64×64, 7 fps, seed 11/);
  assert.ok(isPng(await saveScreenshot(page, 'web-done')), 'a screenshot artefact');

  // The gallery: one card with its parameters; re-run with a new seed.
  const cards = page.locator('#gallery li');
  await cards.first().waitFor();
  await page
    .locator('#gallery li p', { hasText: /^done$/ })
    .first()
    .waitFor();
  assert.match((await cards.first().textContent()) ?? '', /4 frames · 3 steps · 7 fps · motion 127 .* seed 11 · 64x64/);
  await cards.first().getByText('Re-run, new seed').click();
  await page.locator('#gallery li').nth(1).waitFor();
  await page.locator('#result').waitFor({ state: 'hidden' });
  await page.locator('#result').waitFor({ state: 'visible', timeout: 60_000 });
  const list = (await (
    await fetch(`${server.url}/v1/videos`, { headers: { authorization: `Bearer ${KEY}` } })
  ).json()) as {
    videos: { state: string; parameters: Record<string, unknown>; resolved: { seeds: number[] } }[];
  };
  assert.deepEqual(
    list.videos.map((v) => v.state),
    ['done', 'done'],
  );
  assert.equal(list.videos[0].parameters.frames, '4');
  assert.notEqual(list.videos[0].resolved.seeds[0], 11, 'a new seed');

  // A bad value is shown as the API words it.
  await page.fill('input[name=frames]', '999');
  await page.click('#submit');
  await page.locator('#error').waitFor({ state: 'visible' });
  assert.ok(isPng(await saveScreenshot(page, 'web-error')));
  assert.match(
    (await page.textContent('#error')) ?? '',
    /^frames: 999 — expected at most 32 frames \(this server's limit\)$/,
  );
  // A bad file: a .png whose bytes are no image is refused by the server, and the page says so.
  await page.fill('input[name=frames]', '4');
  await page.setInputFiles('#image', {
    name: 'broken.png',
    mimeType: 'image/png',
    buffer: Buffer.from('not an image'),
  });
  await page.click('#submit');
  await page.locator('#error', { hasText: /^image: expected a PNG, JPEG or WebP image/ }).waitFor();
  assert.deepEqual(
    errors.filter((e) => !/status of 4\d\d/.test(e)),
    [],
    'no page errors',
  );
  await page.close();
});

test('a model with camera LoRAs: the selector lists them and the chosen motion reaches the job', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'svd-web-lora-'));
  const lora = join(dir, 'zoom-in.safetensors');
  await writeTestLora(lora, { seed: 3 });
  const withLoras = await startTinyServer({ loras: new Map([['zoom-in', lora]]) });
  try {
    const errors: string[] = [];
    const page = await openPage(errors, withLoras.url);
    await page.locator('#camera').waitFor({ state: 'visible' });
    assert.deepEqual(
      await page
        .locator('#camera-options input')
        .evaluateAll((l) => l.map((e) => (e as unknown as { value: string }).value)),
      ['zoom-in'],
    );
    await page.setInputFiles('#image', `${TINY_DIR}input.png`);
    await page.fill('input[name=frames]', '2');
    await page.fill('input[name=steps]', '2');
    await page.selectOption('select[name=size]', 'native');
    await page.check('#camera-options input[value=zoom-in]');
    await page.fill('input[name=cameraScale]', '0.5');
    await page.click('#submit');
    await page.locator('#result').waitFor({ state: 'visible', timeout: 60_000 });
    await page.locator('#gallery li p', { hasText: /camera zoom-in:0\.5/ }).waitFor();
    assert.ok(isPng(await saveScreenshot(page, 'web-camera-lora')));
    const list = (await (await fetch(`${withLoras.url}/v1/videos`)).json()) as Loose;
    assert.deepEqual(list.videos[0].parameters.lora, ['zoom-in:0.5']);
    assert.equal(list.videos[0].state, 'done');
    // (a 404 is the browser's own favicon request)
    assert.deepEqual(
      errors.filter((e) => !/status of 404/.test(e)),
      [],
      'no page errors',
    );
    await page.close();
  } finally {
    await withLoras.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The README's picture of the web page: `node --import tsx scripts/screenshot-web.ts [OUT.png]` (default
 * docs/web-page.png). Starts the server on the tiny golden model with a temporary data folder, gives it test LoRAs
 * under the seven camera-motion names (random ones made for the tiny model, standing in for svd-mini's, so that the
 * camera selector shows), runs one job through the API for the gallery, then drives the page in Debian's chromium
 * (playwright-core, as the page tests do): an image, parameters, a camera motion, Generate, and a screenshot once the
 * video plays. The PNG is quantised to a palette to stay small.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { CAMERA_LORA_NAMES } from '../src/models/shipped.ts';
import { chromiumMissing, launchChromium } from '../test/helpers/browser.ts';
import { multipart, startTinyServer, TINY_DIR, waitForJob } from '../test/helpers/server.ts';
import { writeTestLora } from '../test/models/lora/helpers.ts';

const out = resolve(process.argv[2] ?? 'docs/web-page.png');
const missing = chromiumMissing();
if (missing) {
  console.error(`screenshot-web: ${missing}`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'svd-screenshot-'));
const loras = new Map<string, string>();
for (const [i, name] of CAMERA_LORA_NAMES.entries()) {
  const file = join(dir, `${name}.safetensors`);
  await writeTestLora(file, { seed: i + 1 });
  loras.set(name, file);
}
const server = await startTinyServer({ loras, dataDir: join(dir, 'data') });
const browser = await launchChromium();
try {
  // One finished job for the gallery.
  const first = await fetch(`${server.url}/v1/videos`, {
    method: 'POST',
    body: multipart({ frames: '8', steps: '4', seed: '7', size: 'native', lora: 'pan-left:0.8' }),
  });
  const { id } = (await first.json()) as { id: string };
  await waitForJob(server.url, id);

  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1100, height: 800 });
  await page.goto(server.url);
  await page.locator('#camera').waitFor({ state: 'visible' });
  await page.setInputFiles('#image', `${TINY_DIR}input.png`);
  await page.fill('input[name=frames]', '8');
  await page.fill('input[name=steps]', '6');
  await page.fill('input[name=seed]', '42');
  await page.selectOption('select[name=size]', 'native');
  await page.check('#camera-options input[value=zoom-in]');
  await page.fill('input[name=cameraScale]', '0.8');
  await page.click('#submit');
  await page.locator('#result').waitFor({ state: 'visible', timeout: 120_000 });
  await page.locator('#gallery li').nth(1).waitFor();
  await page.waitForTimeout(500); // a frame or two into the video
  const png = await page.screenshot({ fullPage: true });
  const small = await sharp(png).png({ palette: true, colours: 64, compressionLevel: 9 }).toBuffer();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, small);
  console.log(`screenshot-web: ${out} (${Math.round(small.length / 1024)} KiB)`);
} finally {
  await browser.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

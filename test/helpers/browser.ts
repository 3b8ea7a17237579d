/**
 * Debian's chromium (scripts/setup-debian.sh installs it) driven by playwright-core for the web page's tests: headless,
 * no sandbox (root in a container), no GPU, no network besides the page's own loopback server, and a fresh profile
 * folder per launch (removed by `close`). A test skips, saying why, when /usr/bin/chromium is missing. Screenshots are
 * kept as test artefacts in $SVD_TEST_ARTEFACTS (default .scratch/test-artefacts/, ignored by git).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (bash scripts/setup-debian.sh installs chromium)`;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'svd-chromium-'));
  // launchPersistentContext passes the profile as --user-data-dir (playwright refuses it among `args`).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The folder test artefacts go to. */
export const ARTEFACTS_DIR = resolve(process.env.SVD_TEST_ARTEFACTS ?? '.scratch/test-artefacts');

/** Saves a full-page screenshot as `<name>.png` among the test artefacts; returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTEFACTS_DIR, { recursive: true });
  const path = join(ARTEFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Whether `path` holds a PNG (its signature). */
export function isPng(path: string): boolean {
  return readFileSync(path)
    .subarray(0, 8)
    .equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
}

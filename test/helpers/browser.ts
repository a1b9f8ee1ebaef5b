import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tempDir } from './app.js';
import { root } from './process.js';
import { CHROMIUM, requireTools } from './system-tools.js';

/**
 * Compiles dashboard/src into dist/dashboard, so the page under test is the current source: what `tsc -p
 * tsconfig.dashboard.json` emits, by esbuild in milliseconds (the runner's type check covers the types).
 */
export async function buildDashboard(): Promise<void> {
  const { emitDashboard } = (await import(pathToFileURL(join(root, 'scripts/test-build.mjs')).href)) as { emitDashboard: (root: string) => Promise<number> };
  await emitDashboard(root);
}

/** Debian's chromium, headless, with a fresh profile that is deleted on close. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  requireTools('chromium');
  const profile = tempDir('wa-gateway-chromium-');
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
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export const ARTIFACTS = join(root, 'test-artifacts');

/**
 * Screenshots of the page as it is now at 1280 and at 375 px wide (test-artifacts/<name>-1280.png and
 * -375.png, kept out of git), and checks that at 375 px nothing overflows sideways.
 */
export async function screenshots(page: Page, name: string, o: { fullPage?: boolean; show?: string } = {}): Promise<void> {
  const fullPage = o.fullPage ?? true;
  mkdirSync(ARTIFACTS, { recursive: true });
  const wide = page.viewportSize() ?? { width: 1280, height: 900 };
  await page.setViewportSize({ width: 1280, height: 900 });
  // `show`: a selector scrolled into view first (for a page too long to keep whole).
  if (o.show) await page.locator(o.show).first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, `${name}-1280.png`), fullPage });
  await page.setViewportSize({ width: 375, height: 812 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (o.show) await page.locator(o.show).first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, `${name}-375.png`), fullPage });
  await page.setViewportSize(wide);
  if (overflow > 0) throw new Error(`${name}: the page is ${overflow} px wider than a 375 px screen`);
}

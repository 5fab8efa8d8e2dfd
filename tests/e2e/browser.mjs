// Launches Debian's Chromium through playwright-core and fails a test on any console error,
// uncaught page error or failed request.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launch() {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'ksim-e2e-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** Opens a page that records problems; call `assertClean()` at the end of a test. */
export async function openPage(context, url) {
  const problems = [];
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.goto(url);
  page.problems = () => [...problems];
  page.assertClean = () => {
    if (problems.length) throw new Error(problems.join('\n'));
  };
  return page;
}

/** Opens the page on the free experiment titled `title` (a first visit opens on Lesson 1). */
export async function openExperiment(context, url, title = 'Producer and consumer') {
  const page = await openPage(context, url);
  await page.getByRole('combobox', { name: 'Experiment', exact: true }).selectOption({ label: title });
  await page.getByRole('heading', { name: title }).waitFor();
  return page;
}

/** Registers before/after hooks that serve `dist` and launch Chromium; returns live handles. */
export function useBrowser(before, after, dist) {
  const env = {};
  before(async () => {
    const { serve } = await import('./server.mjs');
    env.server = await serve(dist);
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  return env;
}

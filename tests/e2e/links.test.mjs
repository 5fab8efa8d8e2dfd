// End-to-end: a copied link opens the same run at the same instant, with the same digest the
// command line computes; a bad link gets a banner and the first experiment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { openPage, useBrowser } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dist = process.env.KSIM_DIST ?? join(root, 'dist');
const env = useBrowser(before, after, dist);

const digestOf = (page) => page.getByLabel(/^Trace digest /).getAttribute('aria-label');
const clock = (page) => page.locator('.clock strong').innerText();

test('a copied link opens the same run, paused at the same instant, with the same digest', async () => {
  const page = await openPage(env.browser, env.server.url);
  await page.getByRole('combobox', { name: 'Experiment', exact: true }).selectOption({ label: 'Three consumers share a topic' });
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('8');
  await page.waitForFunction(() => parseFloat(document.querySelector('.clock strong').textContent) > 5);
  await page.getByRole('button', { name: 'Crash consumer-2' }).click();
  await page.getByRole('button', { name: 'Send 10 messages from producer' }).click();
  await page.waitForFunction(() => parseFloat(document.querySelector('.clock strong').textContent) > 9);
  await page.getByRole('button', { name: 'Pause' }).click();
  const [time, digest] = [await clock(page), await digestOf(page)];
  await page.getByRole('button', { name: 'Copy link' }).click();
  await page.getByText(/^Link copied/).waitFor();
  const url = page.url();
  assert.match(url, /\?run=[A-Za-z0-9_-]+&t=\d+$/);
  page.assertClean();

  const again = await openPage(env.browser, url);
  await again.getByRole('button', { name: 'Play' }).waitFor();
  assert.equal(await clock(again), time);
  assert.equal(await digestOf(again), digest);
  assert.match(await again.getByRole('article', { name: 'Consumer consumer-2' }).innerText(), /crashed/);
  // The command line replays the same link to the same digest.
  const ksim = join(root, 'target', 'debug', 'ksim');
  if (existsSync(ksim)) {
    const hash = execFileSync(ksim, ['run', url, '--format', 'hash']).toString().trim();
    assert.equal(`Trace digest ${hash}`, digest);
  }
  again.assertClean();
});

test('a broken link gets a clear banner and the first lesson', async () => {
  for (const bad of ['?run=not-base64!', '?run=eyJ2Ijo5OSwicyI6ImJhc2ljIiwic2VlZCI6MX0', '?run=' + 'A'.repeat(20000)]) {
    const page = await openPage(env.browser, env.server.url + bad);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /could not be opened/);
    await page.getByRole('heading', { name: 'Lesson 1: message durability' }).waitFor();
    await page.getByRole('button', { name: 'Pause' }).waitFor();
    await alert.getByRole('button', { name: 'Dismiss' }).click();
    assert.equal(await page.getByRole('alert').count(), 0);
    page.assertClean();
  }
});

test('a link pointing 30 days ahead opens at once, says where it stopped, and stays responsive', async () => {
  const ksim = join(root, 'target', 'debug', 'ksim');
  const query = execFileSync(ksim, ['link', 'consumer-group']).toString().trim().replace(/^\?/, '');
  const started = Date.now();
  const page = await openPage(env.browser, `${env.server.url}?${query}&t=2592000000`);
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /points at 720h 00m 00\.000s, further than this page replays at once; it stopped at/);
  assert.ok(Date.now() - started < 15000, 'opened within the budget');
  await page.getByRole('heading', { name: 'Three consumers share a topic' }).waitFor();
  await page.getByRole('button', { name: 'Play' }).click();
  await page.getByRole('button', { name: 'Pause' }).waitFor();
  page.assertClean();
});

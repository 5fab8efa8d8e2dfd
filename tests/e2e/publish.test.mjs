// End-to-end: the release folder hosted under a sub-path, as a teacher's static site would:
// nothing from other origins, links made and opened there, embed mode in an iframe, and the
// app still opening with the server gone (service worker).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { launch, openPage } from './browser.mjs';
import { serve } from './server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.env.KSIM_DIST ?? join(here, '..', '..', 'dist');
const PREFIX = '/courses/kafka/ksim/';
const slides = (src) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Kafka course</title><link rel="icon" href="data:,"></head>
<body><h1>Consumer groups</h1><iframe title="ksim" src="${src}" width="640" height="400" style="border:1px solid #ccc"></iframe></body></html>`;

let server;
let browser;
before(async () => {
  server = await serve(dist, { prefix: PREFIX, pages: { '/courses/slides.html': slides('about:blank') } });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const digestOf = (page) => page.getByLabel(/^Trace digest /).getAttribute('aria-label');

test('under a sub-path the page loads with a strict CSP, a favicon, and no request to another origin', async () => {
  const requests = [];
  browser.on('request', (r) => requests.push(r.url()));
  const page = await openPage(browser, server.url);
  await page.getByRole('region', { name: 'Cluster' }).waitFor();
  await page.waitForFunction(() => parseFloat(document.querySelector('.clock strong').textContent) > 1);
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.match(csp, /default-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|https?:/);
  assert.match(await page.locator('meta[name="description"]').getAttribute('content'), /Kafka/);
  assert.match(await page.title(), /ksim/);
  const icon = await page.locator('link[rel="icon"]').getAttribute('href');
  assert.ok(icon.startsWith('./'), icon);
  browser.removeAllListeners('request');
  assert.ok(requests.length >= 5, requests.join('\n'));
  for (const url of requests) {
    assert.equal(new URL(url).origin, server.origin, `request to another origin: ${url}`);
    assert.ok(new URL(url).pathname.startsWith(PREFIX), `request outside the app's folder: ${url}`);
  }
  page.assertClean();
  await page.close();
});

test('a link copied on the hosted copy opens the same run on that copy', async () => {
  const page = await openPage(browser, server.url);
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('8');
  await page.waitForFunction(() => parseFloat(document.querySelector('.clock strong').textContent) > 6);
  await page.getByRole('button', { name: 'Pause' }).click();
  const digest = await digestOf(page);
  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = (await page.locator('.copied code').innerText()).trim();
  assert.ok(link.startsWith(`${server.url}?run=`), link);
  const again = await openPage(browser, link);
  await again.getByRole('region', { name: 'Cluster' }).waitFor();
  assert.equal(await digestOf(again), digest);
  page.assertClean();
  again.assertClean();
  await page.close();
  await again.close();
});

test('embed mode fits a 640×400 iframe: cluster, playback and the lesson step; it opens the full page', async () => {
  // The lesson's link, as a teacher copies it, with embed=1 added.
  const page = await openPage(browser, server.url);
  await page.getByRole('combobox', { name: 'Experiment', exact: true }).selectOption({ label: 'Lesson 4: fault tolerance' });
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = (await page.locator('.copied code').innerText()).trim();
  await page.close();
  const query = new URL(link).search;
  const host = await openPage(browser, `${server.origin}/courses/slides.html`);
  await host.evaluate((src) => { document.querySelector('iframe').src = src; }, `kafka/ksim/${query}&embed=1`);
  const frame = host.frameLocator('iframe[title="ksim"]');
  await frame.getByRole('region', { name: 'Cluster' }).waitFor();
  const box = await host.locator('iframe').boundingBox();
  assert.equal(Math.round(box.width), 642); // 640 + the border
  // Only the current step, the playback bar and the cluster: no experiment menu, no plots.
  assert.equal(await frame.getByRole('combobox', { name: 'Experiment', exact: true }).count(), 0);
  assert.equal(await frame.getByRole('list', { name: 'Steps' }).getByRole('listitem').filter({ visible: true }).count(), 1);
  assert.match(await frame.getByRole('list', { name: 'Steps' }).innerText(), /Wait for the group/);
  await frame.getByRole('region', { name: 'Timeline' }).waitFor();
  await frame.getByRole('button', { name: 'Play' }).click();
  await frame.locator('.embed-bar .clock').filter({ hasText: /^[1-9]/ }).waitFor();
  const overflow = await host.locator('iframe').evaluate((f) => f.contentDocument.documentElement.scrollWidth - f.clientWidth);
  assert.ok(overflow <= 0, `the embed is ${overflow} px wider than its frame`);
  await frame.getByRole('button', { name: 'Pause' }).click();
  const [full] = await Promise.all([browser.waitForEvent('page'), frame.getByRole('link', { name: /Open full ksim/ }).click()]);
  await full.getByRole('combobox', { name: 'Experiment', exact: true }).waitFor();
  assert.ok(full.url().startsWith(`${server.url}?run=`), full.url());
  assert.doesNotMatch(full.url(), /embed=1/);
  assert.equal(await full.getByRole('heading', { name: 'Lesson 4: fault tolerance' }).count(), 1);
  await full.close();
  await host.screenshot({ path: join(here, 'artifacts', 'embed-640x400.png') }).catch(() => {});
  host.assertClean();
  await host.close();
});

test('after one visit the app and its links open with the server stopped, and it says it is offline', async () => {
  const offline = await serve(dist, { prefix: PREFIX });
  const page = await openPage(browser, offline.url);
  await page.getByRole('region', { name: 'Cluster' }).waitFor();
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10000 });
  assert.ok(await page.locator('#offline-note').isHidden());
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = (await page.locator('.copied code').innerText()).trim();
  const digest = await digestOf(page);
  await offline.close();
  await page.reload();
  await page.getByRole('region', { name: 'Cluster' }).waitFor();
  await page.getByRole('status').filter({ hasText: /^Offline: ksim is running from the copy this browser saved/ }).waitFor();
  await page.getByRole('button', { name: 'Play' }).click();
  await page.waitForFunction(() => parseFloat(document.querySelector('.clock strong').textContent) > 1);
  // A link still opens its run from the saved copy.
  await page.goto(link);
  await page.getByRole('region', { name: 'Cluster' }).waitFor();
  assert.equal(await digestOf(page), digest);
  // Only the online check itself may fail.
  const unexpected = page.problems().filter((p) => !/online-check|ERR_CONNECTION_REFUSED/.test(p));
  assert.deepEqual(unexpected, []);
  await page.close();
});

// End-to-end: the release build in headless Chromium, checked the way a person sees it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { openExperiment, openPage, useBrowser } from './browser.mjs';
import { decodePng } from './png.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.env.KSIM_DIST ?? join(here, '..', '..', 'dist');
const shots = join(here, 'artifacts');
mkdirSync(shots, { recursive: true });

const env = useBrowser(before, after, dist);

test('a first visit opens on Lesson 1 with a line on how to read the screen', async () => {
  const page = await openPage(env.browser, env.server.url);
  await page.getByRole('heading', { name: 'ksim', level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'Lesson 1: message durability' }).waitFor();
  await page.getByText(/^How to read it: producers write records into a topic's partitions/).waitFor();
  await page.getByRole('region', { name: 'Lesson' }).waitFor();
  // The menu groups the lessons, the patterns and free play, in that order.
  const shelves = await page.getByRole('combobox', { name: 'Experiment', exact: true }).locator('optgroup')
    .evaluateAll((gs) => gs.map((g) => [g.label, g.querySelectorAll('option').length]));
  assert.deepEqual(shelves.map(([label]) => label), ['Lessons', 'Patterns and puzzles', 'Free play']);
  assert.equal(shelves[0][1], 5, 'the five lessons');
  page.assertClean();
});

test('the first screen shows the cluster drawn from the model', async () => {
  const page = await openExperiment(env.browser, env.server.url);
  const cluster = page.getByRole('region', { name: 'Cluster' });
  await cluster.waitFor();
  await cluster.getByRole('group', { name: 'Broker 1' }).waitFor();
  await cluster.getByRole('group', { name: 'Topic my-topic' }).waitFor();
  await cluster.getByRole('list', { name: 'Partition 0 of my-topic' }).waitFor();
  await cluster.getByRole('article', { name: 'Consumer consumer' }).waitFor();
  const status = page.getByRole('status', { name: 'Simulation status' });
  assert.match(await status.innerText(), /Simulated time/);
  await page.screenshot({ path: join(shots, 'first-screen-1280.png') });
  page.assertClean();
});

test('the simulated clock runs and the producer’s messages land in the log', async () => {
  const page = await openExperiment(env.browser, env.server.url);
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('8');
  const partition = page.getByRole('list', { name: 'Partition 0 of my-topic' });
  // The basic experiment sends 10 messages at t = 1 s: offsets 0..9 appear as cells.
  await partition.getByRole('listitem').filter({ hasText: /^9$/ }).waitFor({ timeout: 15000 });
  assert.equal(await partition.getByRole('listitem').count(), 10);
  const clock = await page.locator('.clock strong').innerText();
  assert.match(clock, /^\d+\.\d{3}s$/);
  assert.ok(parseFloat(clock) >= 1.0, `clock ${clock} moved past the first send`);
  page.assertClean();
});

test('pause stops the clock and play resumes it', async () => {
  const page = await openExperiment(env.browser, env.server.url);
  const pause = page.getByRole('button', { name: 'Pause' });
  await pause.click();
  const clock = page.locator('.clock strong');
  const a = await clock.innerText();
  await page.waitForTimeout(400);
  assert.equal(await clock.innerText(), a, 'clock is frozen while paused');
  await page.getByRole('button', { name: 'Play' }).click();
  await page.waitForFunction((was) => document.querySelector('.clock strong').textContent !== was, a);
  page.assertClean();
});

test('choosing another experiment rebuilds the cluster', async () => {
  const page = await openPage(env.browser, env.server.url);
  await page.getByRole('combobox', { name: 'Experiment', exact: true }).selectOption({ label: 'Messages wait for a stopped consumer' });
  await page.getByRole('heading', { name: 'Messages wait for a stopped consumer' }).waitFor();
  page.assertClean();
});

test('works at phone width', async () => {
  const page = await openPage(env.browser, env.server.url);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('region', { name: 'Cluster' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling at 390 px (overflow ${overflow}px)`);
  await page.screenshot({ path: join(shots, 'first-screen-390.png'), fullPage: true });
  page.assertClean();
});

test('a partition can be inspected record by record', async () => {
  const page = await openExperiment(env.browser, env.server.url);
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('8');
  const partition = page.getByRole('list', { name: 'Partition 0 of my-topic' });
  await partition.getByRole('listitem').filter({ hasText: /^9$/ }).waitFor({ timeout: 15000 });
  await page.getByRole('button', { name: 'Inspect partition 0 of my-topic' }).click();
  const table = page.getByRole('table', { name: 'Records of partition 0 of my-topic' });
  const rows = table.getByRole('row');
  assert.equal(await rows.count(), 11, 'a header and ten records');
  // Newest first; null keys, values derived from producer and sequence number.
  assert.match(await rows.nth(1).innerText(), /^9\s+null\s+producer message #9\s+1\.00\ds$/);
  assert.match(await rows.nth(10).innerText(), /^0\s+null\s+producer message #0/);
  page.assertClean();
});

test('the event log shows what happened and filters it', async () => {
  const page = await openExperiment(env.browser, env.server.url);
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('8');
  await page.waitForFunction(() => parseFloat(document.querySelector('.clock strong').textContent) > 6);
  const log = page.getByRole('region', { name: 'Event log' });
  await log.getByRole('button', { name: 'Show event log' }).click();
  await log.getByRole('searchbox', { name: 'Filter' }).fill('committed');
  const items = log.getByRole('list', { name: 'Recent events, newest first' }).getByRole('listitem');
  await items.first().waitFor();
  for (const text of await items.allInnerTexts()) assert.match(text, /committed/);
  await log.getByRole('searchbox', { name: 'Filter' }).fill('joined');
  await items.first().getByText(/joined.*my-group.*generation":1.*"leader":true/).waitFor();
  page.assertClean();
});

test('message tokens are drawn on the canvas while messages flow, and only then', async () => {
  const page = await openExperiment(env.browser, env.server.url);
  // The tokens' canvas is drawn by a worker: what it shows is read from a screenshot of its box
  // with the rest of the page hidden (a style rule added through the CSSOM, as the CSP allows).
  const painted = async () => {
    const box = await page.locator('canvas.tokens').boundingBox();
    if (!box || box.width < 1 || box.height < 1) return 0;
    const hide = ['canvas.tokens { visibility: visible !important }', 'body * { visibility: hidden !important }'];
    await page.evaluate((rules) => rules.forEach((r) => document.styleSheets[0].insertRule(r, 0)), hide);
    const shot = decodePng(await page.screenshot({ clip: box }));
    await page.evaluate((n) => { for (let i = 0; i < n; i++) document.styleSheets[0].deleteRule(0); }, hide.length);
    const { pixels, channels } = shot;
    const [r0, g0, b0] = pixels; // the corner: the page's background
    let n = 0;
    for (let i = 0; i < pixels.length; i += channels) {
      if (Math.abs(pixels[i] - r0) + Math.abs(pixels[i + 1] - g0) + Math.abs(pixels[i + 2] - b0) > 60) n++;
    }
    return n;
  };
  await page.getByRole('region', { name: 'Cluster' }).waitFor();
  // Before the first send at 1 s nothing flies.
  assert.equal(await painted(), 0);
  // The ten messages appended at ~1 s fly for 600 simulated ms: catch them in flight.
  await page.waitForFunction(() => parseFloat(document.querySelector('.clock strong').textContent) >= 1.1);
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.waitForTimeout(200); // the worker draws the paused instant
  assert.ok((await painted()) > 100, 'a token is on the canvas');
  // Played on until nothing flies, the canvas is clear again.
  await page.getByRole('button', { name: 'Play' }).click();
  await page.waitForFunction(() => parseFloat(document.querySelector('.clock strong').textContent) >= 1.9);
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.waitForTimeout(200);
  assert.equal(await painted(), 0, 'no token once the batch has landed');
  page.assertClean();
});

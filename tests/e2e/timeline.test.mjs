// End-to-end: time travel as a person does it — scrub back and forward, step back, act in the
// past (the page warns first, then starts a new branch), and compare two variants.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { openPage, useBrowser } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dist = process.env.KSIM_DIST ?? join(root, 'dist');
const env = useBrowser(before, after, dist);

const digestOf = (page) => page.getByLabel(/^Trace digest /).getAttribute('aria-label');
/** The simulated clock in ms, read from the status line ("1m 02.345s"). */
const timeOf = async (page) => {
  const text = await page.locator('.clock strong').innerText();
  const [, h = 0, m = 0, s] = text.match(/^(?:(\d+)h )?(?:(\d+)m )?([\d.]+)s$/);
  return Math.round(((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000);
};
const ksim = join(root, 'target', 'debug', 'ksim');

/** Plays "Three consumers share a topic" at 16×, crashing consumer-2 after 15 s, until 40 s. */
async function playWithACrash() {
  const page = await openPage(env.browser, env.server.url);
  await page.getByRole('combobox', { name: 'Experiment', exact: true }).selectOption({ label: 'Three consumers share a topic' });
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('16');
  await page.waitForFunction(() => +document.querySelector('input[type=range]').value > 15000);
  await page.getByRole('button', { name: 'Crash consumer-2' }).click();
  await page.waitForFunction(() => +document.querySelector('input[type=range]').value > 40000);
  await page.getByRole('button', { name: 'Pause' }).click();
  return page;
}

test('scrubbing back and forward shows the same states, and the link of a past instant replays it', async () => {
  const page = await playWithACrash();
  const slider = page.getByRole('slider', { name: 'Simulated time' });
  const card = page.getByRole('article', { name: 'Consumer consumer-2' });
  assert.match(await card.innerText(), /crashed/);

  await slider.fill('10000');
  assert.equal(await timeOf(page), 10000);
  assert.match(await card.innerText(), /running/, 'before the crash');
  const at10 = await digestOf(page);
  await page.getByRole('status').filter({ hasText: 'You are looking back at 10.000s' }).waitFor();

  await slider.fill('30000');
  assert.match(await card.innerText(), /crashed/);
  await slider.fill('10000');
  assert.equal(await digestOf(page), at10, 'the same instant gives the same state');

  // The link of this past instant replays to the same digest on the command line.
  await page.getByRole('button', { name: 'Copy link' }).click();
  const hash = execFileSync(ksim, ['run', page.url(), '--format', 'hash']).toString().trim();
  assert.equal(`Trace digest ${hash}`, at10);

  // Clicking a marker goes to its moment: the crash.
  const jump = page.getByRole('combobox', { name: 'Jump to a moment' });
  await jump.selectOption(await jump.locator('option', { hasText: 'consumer-2 crashed' }).getAttribute('value'));
  assert.ok((await timeOf(page)) > 15000);
  assert.match(await card.innerText(), /crashed/);
  page.assertClean();
});

test('step back goes to the previous instant with events, by button and by the ← key', async () => {
  const page = await playWithACrash();
  const t0 = await timeOf(page);
  await page.getByRole('button', { name: 'Step back to the previous event' }).click();
  const t1 = await timeOf(page);
  assert.ok(t1 < t0, `${t1} < ${t0}`);
  await page.locator('body').press('ArrowLeft');
  const t2 = await timeOf(page);
  assert.ok(t2 < t1, `${t2} < ${t1}`);
  // Step forward returns to where the first step back came from (or before it).
  await page.locator('body').press('ArrowRight');
  const t3 = await timeOf(page);
  assert.ok(t3 <= t1 && t3 > t2, `${t2} < ${t3} <= ${t1}`);
  page.assertClean();
});

test('acting in the past warns first, then forks: the later crash is gone from the new branch', async () => {
  const page = await playWithACrash();
  await page.getByRole('slider', { name: 'Simulated time' }).fill('8000');
  const warning = page.getByRole('status').filter({ hasText: 'Acting now starts a new branch' });
  assert.match(await warning.innerText(), /the 1 later action will be dropped/);
  assert.equal(await page.locator('.marks .mk-crash').count(), 1);

  await page.getByRole('button', { name: 'Stop consumer-3' }).click();
  await page.getByRole('status').filter({ hasText: 'New branch from 8.000s: 1 later action dropped.' }).waitFor();
  assert.equal(await warning.count(), 0);
  assert.equal(await page.locator('.marks .mk-crash').count(), 0, 'the crash belonged to the old branch');
  await page.getByRole('button', { name: 'Play' }).click();
  await page.waitForFunction(() => +document.querySelector('input[type=range]').value > 25000);
  await page.getByRole('button', { name: 'Pause' }).click();
  assert.match(await page.getByRole('article', { name: 'Consumer consumer-2' }).innerText(), /running/);
  assert.match(await page.getByRole('article', { name: 'Consumer consumer-3' }).innerText(), /stopped/);
  // The moments to jump to are the new branch's.
  const moments = await page.getByRole('combobox', { name: 'Jump to a moment' }).locator('option').allInnerTexts();
  assert.ok(moments.some((m) => m.includes('consumer-3 stopped')), moments.join('\n'));
  assert.ok(!moments.some((m) => m.includes('consumer-2 crashed')), moments.join('\n'));
  // The new branch is what the link carries.
  await page.getByRole('button', { name: 'Copy link' }).click();
  const hash = execFileSync(ksim, ['run', page.url(), '--format', 'hash']).toString().trim();
  assert.equal(`Trace digest ${hash}`, await digestOf(page));
  page.assertClean();
});

test('compare plays two variants side by side: commit after processing duplicates, before loses', async () => {
  const page = await openPage(env.browser, env.server.url);
  await page.getByRole('combobox', { name: 'Experiment', exact: true })
    .selectOption({ label: 'Processed twice: a crash between processing and commit' });
  await page.getByText('What if? Compare two variants of this run').click();
  await page.getByRole('combobox', { name: 'Variant A' }).selectOption({ label: 'commit after processing' });
  await page.getByRole('combobox', { name: 'Variant B' }).selectOption({ label: 'commit before processing' });
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  const table = page.getByRole('table', { name: 'Comparison' });
  const row = async (name) => (await table.getByRole('row', { name: new RegExp(`^${name}`) }).innerText()).split('\t');
  const [, dupA, dupB] = await row('duplicates');
  const [, lostA, lostB] = await row('records lost');
  assert.ok(Number(dupA) > 0 && Number(dupB) === 0, `duplicates ${dupA} / ${dupB}`);
  assert.ok(Number(lostA) === 0 && Number(lostB) > 0, `lost ${lostA} / ${lostB}`);
  page.assertClean();
});

// End-to-end: crash a broker from its card and watch leadership move once the controller
// notices (broker.session.timeout.ms), then restart it and watch it rejoin the ISR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { openPage, useBrowser } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.env.KSIM_DIST ?? join(here, '..', '..', 'dist');
const env = useBrowser(before, after, dist);

const now = (page) => page.evaluate(() => +document.querySelector('input[type=range]').value);

/** The replication experiment, played at 4× past its first three seconds. */
async function openReplication() {
  const page = await openPage(env.browser, env.server.url);
  await page.getByRole('combobox', { name: 'Experiment', exact: true })
    .selectOption({ label: 'Three brokers keep copies: crash the leader' });
  await page.getByRole('group', { name: '3 brokers' }).waitFor();
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('4');
  await page.waitForFunction(() => +document.querySelector('input[type=range]').value > 3000);
  return page;
}

/** Indexes of the partition rows whose leader is broker `id`. */
async function ledBy(page, id) {
  const rows = page.locator('.partition');
  const led = [];
  for (let i = 0; i < await rows.count(); i++) {
    if ((await rows.nth(i).locator('.replication').innerText()).includes(`leader broker ${id}`)) led.push(i);
  }
  return led;
}

test('crashing a broker moves leadership only after the controller notices, and it rejoins after a restart', async () => {
  const page = await openReplication();
  // Which partitions does broker 2 lead?
  const rows = page.locator('.partition');
  const ledBy2 = await ledBy(page, 2);
  assert.ok(ledBy2.length > 0, 'broker 2 leads a partition');

  const card = page.getByRole('listitem', { name: 'Broker 2', exact: true });
  // Paused while crashing, so the instant read is the crash's (a slow frame at 4× is 200 ms).
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('button', { name: 'Crash broker 2' }).click();
  const crashedAt = await now(page);
  await page.getByRole('button', { name: 'Play' }).click();
  assert.match(await card.innerText(), /down/);
  assert.match(await card.innerText(), /the controller has not noticed yet/);
  // Until then, the partition still names broker 2 as its leader (and stalls).
  assert.match(await rows.nth(ledBy2[0]).locator('.replication').innerText(), /leader broker 2/);

  await page.waitForFunction(() => /fenced/.test(document.querySelector('[aria-label="Broker 2"]').textContent));
  const fencedAt = await now(page);
  assert.ok(fencedAt - crashedAt >= 8_900, `noticed after broker.session.timeout.ms: ${fencedAt - crashedAt} ms`);
  for (const i of ledBy2) {
    const text = await rows.nth(i).locator('.replication').innerText();
    assert.doesNotMatch(text, /leader broker 2/, `partition ${i} has a new leader`);
    assert.match(text, /epoch 1/);
    assert.match(text, /B2 out of sync/);
  }
  // Nothing acknowledged was lost (acks=all, min.insync.replicas=2).
  assert.doesNotMatch(await page.locator('.broker').innerText(), /acknowledged records lost/);

  await page.getByRole('button', { name: 'Restart broker 2' }).click();
  assert.match(await card.innerText(), /running/);
  await page.waitForFunction(() =>
    [...document.querySelectorAll('.replicas')].every((l) => /B2 (in sync|leader)/.test(l.textContent)));
  await page.getByRole('button', { name: 'Pause' }).click();
  page.assertClean();
});

test('stopping a broker cleanly moves its leaderships at once, without waiting for the controller to notice', async () => {
  const page = await openReplication();
  await page.getByRole('button', { name: 'Pause' }).click();
  const rows = page.locator('.partition');
  const ledBy2 = await ledBy(page, 2);
  assert.ok(ledBy2.length > 0, 'broker 2 leads a partition');

  const card = page.getByRole('listitem', { name: 'Broker 2', exact: true });
  await page.getByRole('button', { name: 'Stop broker 2' }).click();
  // Paused: the move happened at the same instant, not after broker.session.timeout.ms.
  assert.match(await card.innerText(), /stopped/);
  assert.doesNotMatch(await card.innerText(), /has not noticed/);
  for (const i of ledBy2) {
    assert.doesNotMatch(await rows.nth(i).locator('.replication').innerText(), /leader broker 2/);
  }
  assert.equal(await page.getByRole('button', { name: 'Stop broker 2' }).count(), 0, 'a stopped broker is not stopped again');
  await page.getByRole('button', { name: 'Restart broker 2' }).click();
  assert.match(await card.innerText(), /running/);
  page.assertClean();
});

test('the invariant panel turns red when acks=1 loses acknowledged records, and points at the moment', async () => {
  const page = await openPage(env.browser, env.server.url);
  await page.getByRole('combobox', { name: 'Experiment', exact: true })
    .selectOption({ label: 'acks=1 loses what the leader acknowledged alone' });
  const panel = page.getByRole('region', { name: 'Invariants' });
  assert.doesNotMatch(await panel.innerText(), /BROKEN/);
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('16');
  await page.waitForFunction(() => +document.querySelector('input[type=range]').value > 26000, null, { timeout: 30000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  const text = await panel.innerText();
  assert.match(text, /No acknowledged record lost — BROKEN at 24\.\d+s ✗: \d+ acknowledged record\(s\) of my-topic-\d lost/);
  assert.match(text, /Order per partition kept — holds so far/);
  assert.match(text, /At most one owner per partition per group and generation — holds so far/);
  await panel.getByRole('button', { name: 'Go to that moment' }).click();
  const clock = await page.locator('.clock strong').innerText();
  assert.match(clock, /^24\.\d+s$/);
  // Just before it, it holds.
  await page.getByRole('button', { name: 'Step back to the previous event' }).click();
  assert.doesNotMatch(await panel.innerText(), /BROKEN/);
  page.assertClean();
});

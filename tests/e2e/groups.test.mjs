// End-to-end: consumer groups in the browser, driven by role and name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { openExperiment, openPage, useBrowser } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.env.KSIM_DIST ?? join(here, '..', '..', 'dist');
const shots = join(here, 'artifacts');

const env = useBrowser(before, after, dist);

const clock = async (page) => parseFloat(await page.locator('.clock strong').innerText());
const owns = (page, name) => page.getByRole('article', { name: `Consumer ${name}` }).getByText(/^owns /);

async function groupOfThree(page, speed = '8') {
  await page.getByRole('combobox', { name: 'Experiment', exact: true }).selectOption({ label: 'Three consumers share a topic' });
  await page.getByRole('combobox', { name: 'Speed' }).selectOption(speed);
  // After the initial rebalance delay (3 s, and 3 s more: the others joined during it) each
  // consumer owns one partition.
  for (const n of ['consumer-1', 'consumer-2', 'consumer-3']) {
    await owns(page, n).filter({ hasText: /my-topic-\d$/ }).waitFor({ timeout: 15000 });
  }
}

test('a crashed consumer is noticed only after its session timeout, then the others take over', async () => {
  const page = await openPage(env.browser, env.server.url);
  await groupOfThree(page, '2');
  await page.getByRole('button', { name: 'Pause' }).click();
  const crashedAt = await clock(page);
  await page.getByRole('button', { name: 'Crash consumer-2' }).click();
  const card = page.getByRole('article', { name: 'Consumer consumer-2' });
  await card.getByText('crashed', { exact: true }).waitFor();
  await card.getByText(/the group notices in/).waitFor();
  // The picture: its edge stays (the coordinator has not noticed), drawn as unnoticed.
  const stale = page.locator('svg.wires g.unnoticed[data-consumer="consumer-2"]');
  await stale.first().waitFor({ state: 'attached' });
  const orphan = await stale.first().getAttribute('data-partition');
  await page.getByRole('button', { name: 'Play' }).click();
  // Within a few simulated seconds nothing has changed: still Stable, still three owners.
  await page.waitForFunction((t) => parseFloat(document.querySelector('.clock strong').textContent) > t + 4, crashedAt);
  const group = page.getByRole('group', { name: 'Group my-group' });
  assert.match(await group.innerText(), /Stable/);
  assert.match((await owns(page, 'consumer-1').innerText()).split(' · ')[0], /^owns my-topic-\d$/);
  assert.equal(await stale.count(), 1, 'the edge stays while the session runs');
  // Then the session (10 s) runs out and a survivor takes the dead member's partition.
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('4');
  await page.waitForFunction(() =>
    [...document.querySelectorAll('article[aria-label^="Consumer consumer-"]')]
      .some((a) => (a.querySelector('.owns').textContent.replace(/ · .*/, '').match(/my-topic-\d/g) || []).length === 2), null, { timeout: 20000 });
  const takenAt = await clock(page);
  assert.ok(takenAt - crashedAt >= 10 - 3, `taken over ${takenAt - crashedAt}s after the crash: not before the session timeout`);
  assert.ok(takenAt - crashedAt <= 10 + 5, `taken over ${takenAt - crashedAt}s after the crash`);
  // The edge moved: the partition is read by a survivor, and the dead member's edge is gone.
  await page.locator(`svg.wires g.reads[data-partition="${orphan}"]:not([data-consumer="consumer-2"])`).waitFor({ state: 'attached' });
  await page.waitForFunction(() => !document.querySelector('svg.wires g[data-consumer="consumer-2"]'), null, { timeout: 5000 });
  await page.screenshot({ path: join(shots, 'group-after-crash.png') });
  page.assertClean();
});

test('moving a consumer to a new group with the menu rebalances both groups', async () => {
  const page = await openPage(env.browser, env.server.url);
  await groupOfThree(page);
  await page.getByRole('combobox', { name: 'Move consumer-3 to group' }).selectOption({ label: 'new group (group-1)' });
  const fresh = page.getByRole('group', { name: 'Group group-1' });
  await fresh.getByRole('article', { name: 'Consumer consumer-3' }).waitFor();
  // consumer-3 alone in group-1 gets every partition; my-group's two share all three.
  await fresh.getByText('owns my-topic-0, my-topic-1, my-topic-2').waitFor({ timeout: 15000 });
  const mine = page.getByRole('group', { name: 'Group my-group' });
  await page.waitForFunction(() => {
    const g = document.querySelector('[aria-label="Group my-group"]');
    return g && (g.textContent.match(/my-topic-\d/g) || []).length === 3;
  }, null, { timeout: 15000 });
  assert.match(await mine.innerText(), /generation [2-9]/);
  page.assertClean();
});

test('the group inspector prints kafka-consumer-groups --describe', async () => {
  const page = await openPage(env.browser, env.server.url);
  await groupOfThree(page);
  await page.getByRole('button', { name: 'Describe group my-group' }).click();
  const out = page.getByRole('region', { name: 'kafka-consumer-groups --describe --group my-group' });
  const text = await out.innerText();
  assert.match(text, /GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID/);
  assert.match(text, /my-group\s+localhost:9092 {2}\(1\)\s+range\s+Stable\s+3/);
  page.assertClean();
});

test('producer buttons send messages and keys drive playback', async () => {
  const page = await openExperiment(env.browser, env.server.url);
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('button', { name: 'Send 10 messages from producer' }).click();
  // Focus stays on that button (Space there would press it again): move focus off controls.
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Send 10 messages from producer');
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: 'Pause' }).waitFor();
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: 'Play' }).waitFor();
  const before = await clock(page);
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((t) => parseFloat(document.querySelector('.clock strong').textContent) > t, before);
  await page.keyboard.press('+');
  assert.equal(await page.getByRole('combobox', { name: 'Speed' }).inputValue(), '2');
  await page.keyboard.press('Space');
  // The ten land in the log (plus the basic experiment's own ten at 1 s).
  await page.getByRole('list', { name: 'Partition 0 of my-topic' }).getByRole('listitem').nth(19).waitFor({ timeout: 15000 });
  page.assertClean();
});

async function center(locator) {
  const b = await locator.boundingBox();
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

test('dragging a consumer card onto "new group" moves it; Esc cancels a drag', async () => {
  const page = await openPage(env.browser, env.server.url);
  await groupOfThree(page);
  await page.getByRole('button', { name: 'Pause' }).click();
  const handle = (name) => page.getByRole('article', { name: `Consumer ${name}` }).getByTitle('Drag onto another group to move it');
  const newZone = page.getByText('Drop a consumer here to start a new group');
  // Picks a card up: once a drag starts every group is marked as a target and the new-group
  // zone stays in view at the bottom of the window, wherever the page is scrolled.
  const pickUp = async (name) => {
    await handle(name).scrollIntoViewIfNeeded();
    const from = await center(handle(name));
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x - 10, from.y + 10, { steps: 2 });
    await page.locator('.new-group.dragging').waitFor();
    await page.locator('.group.drop-target').first().waitFor();
    const to = await center(newZone);
    const viewport = page.viewportSize();
    assert.ok(to.y > 0 && to.y < viewport.height, `the new-group zone is in view during a drag (at y ${to.y})`);
    return { from, to };
  };

  // The whole card header is the handle, at least 24×24 px (WCAG 2.5.8).
  const grip = await handle('consumer-1').boundingBox();
  assert.ok(grip.width >= 24 && grip.height >= 24, `handle ${grip.width}×${grip.height}`);

  // Esc cancels: nothing moves even though the pointer is released over the new-group zone.
  let { to } = await pickUp('consumer-1');
  await page.mouse.move(to.x, to.y, { steps: 8 });
  await page.keyboard.press('Escape');
  await page.mouse.up();
  assert.equal(await page.locator('.new-group.dragging').count(), 0, 'the drop targets hide again');
  assert.equal(await page.getByRole('group', { name: /^Group group-/ }).count(), 0, 'Esc cancelled the drag');

  // A real drag: pointer down on consumer-3's handle, move, release over the zone.
  const drag = await pickUp('consumer-3');
  await page.mouse.move((drag.from.x + drag.to.x) / 2, (drag.from.y + drag.to.y) / 2, { steps: 5 });
  await page.mouse.move(drag.to.x, drag.to.y, { steps: 5 });
  await page.mouse.up();
  // The drop takes at once, paused as the page is: the consumer is in the new group, or, when it
  // was paused in the middle of a batch, its card says it moves once that batch is done (a
  // consumer finishes the records in hand first), which happens when played on.
  const fresh = page.getByRole('group', { name: 'Group group-1' });
  const noted = page.getByRole('article', { name: 'Consumer consumer-3' }).getByText(/moving to group-1 once the batch in hand is done/);
  await fresh.or(noted).first().waitFor();
  await page.getByRole('button', { name: 'Play' }).click();
  await fresh.getByRole('article', { name: 'Consumer consumer-3' }).waitFor();
  // The new group appears where it was dropped: after the old one, not above it.
  const order = await page.locator('[aria-label^="Group "][role="group"]').evaluateAll((gs) => gs.map((g) => g.getAttribute('aria-label')));
  assert.deepEqual(order, ['Group my-group', 'Group group-1']);
  await fresh.getByText('owns my-topic-0, my-topic-1, my-topic-2').waitFor({ timeout: 15000 });
  page.assertClean();
});

test('plots show lag per group and throughput, labelled by name', async () => {
  const page = await openPage(env.browser, env.server.url);
  await groupOfThree(page, '16');
  const lag = page.getByRole('img', { name: /^Lag per group: my-group \d+/ });
  await lag.waitFor({ timeout: 15000 });
  await page.getByRole('img', { name: /^Throughput: all \d+/ }).waitFor();
  assert.equal(await lag.locator('polyline').count(), 1);
  assert.match(await lag.textContent(), /my-group/, 'each line carries its name, not only a colour');
  page.assertClean();
});

test('consumer settings and producer keys are changed from the cards', async () => {
  const page = await openPage(env.browser, env.server.url);
  await groupOfThree(page);
  const card = page.getByRole('article', { name: 'Consumer consumer-1' });
  await card.getByText('Settings').click();
  await card.getByRole('combobox', { name: 'partition.assignment.strategy' }).selectOption('cooperative-sticky');
  await card.getByText(/Changed: takes effect when the consumer next starts/).waitFor();
  await card.getByRole('combobox', { name: 'processing per record' }).selectOption('1000');
  assert.equal(await card.getByRole('combobox', { name: 'processing per record' }).inputValue(), '1000');
  // One key: every new record goes to the partition murmur2 picks (`ksim partition --partitions 3 order-42` → 0).
  await page.getByRole('combobox', { name: 'Keys of producer' }).selectOption({ label: 'one key: order-42' });
  await page.getByRole('button', { name: 'Inspect partition 0 of my-topic' }).click();
  await page.getByRole('table', { name: 'Records of partition 0 of my-topic' }).getByText('order-42').first().waitFor({ timeout: 15000 });
  page.assertClean();
});

test('consumers and producers can be added from the page', async () => {
  const page = await openPage(env.browser, env.server.url);
  await groupOfThree(page);
  await page.getByRole('button', { name: 'Add a consumer to my-group' }).click();
  const group = page.getByRole('group', { name: 'Group my-group' });
  await group.getByRole('article', { name: 'Consumer consumer-4' }).waitFor();
  // More consumers than partitions: after the rebalance one of the four owns nothing.
  await page.waitForFunction(() => /generation [2-9]/.test(document.querySelector('[aria-label="Group my-group"]').textContent));
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[aria-label="Group my-group"] article')].filter((a) => a.textContent.includes('owns nothing')).length === 1,
    null, { timeout: 15000 });
  await page.getByRole('button', { name: '+ Add producer' }).click();
  await page.getByRole('article', { name: 'Producer producer-1' }).waitFor();
  // Removing takes them away again; the group rebalances without consumer-4.
  await page.getByRole('article', { name: 'Consumer consumer-4' }).getByText('Settings').click();
  await page.getByRole('button', { name: 'Remove consumer-4' }).click();
  await page.getByRole('button', { name: 'Remove producer-1' }).click();
  assert.equal(await page.getByRole('article', { name: 'Consumer consumer-4' }).count(), 0);
  assert.equal(await page.getByRole('article', { name: 'Producer producer-1' }).count(), 0);
  // The one that was idle gains a partition, and its card says so.
  await group.getByText(/\+ gained my-topic-\d/).first().waitFor({ timeout: 15000 });
  page.assertClean();
});

// Seconds from a lane message's accessible name ("… at 12.345s", "… at 1m 02.345s").
const secondsOf = (name) => {
  const m = name.match(/ at (?:(\d+)m )?(\d+(?:\.\d+)?)s$/);
  return m ? (parseInt(m[1] ?? '0', 10) * 60 + parseFloat(m[2])) : NaN;
};

test('the protocol lane shows the rejoin after a crash, LeaveGroup after a clean stop, and seeks on click', async () => {
  const page = await openPage(env.browser, env.server.url);
  await groupOfThree(page, '8');
  const lane = page.getByRole('figure', { name: 'Protocol of group my-group' });
  const crashedAt = secondsOf(` at ${await page.locator('.clock strong').innerText()}`);
  await page.getByRole('button', { name: 'Crash consumer-2' }).click();
  // The coordinator removes it once its session runs out; the others join and sync again.
  await lane.getByRole('button', { name: /^consumer-2 member removed/ }).first().waitFor({ timeout: 30000 });
  const after = async (pattern) => {
    await page.waitForFunction(({ source, t }) => [...document.querySelectorAll('figure[aria-label="Protocol of group my-group"] [role=button]')]
      .map((e) => e.getAttribute('aria-label'))
      .some((n) => new RegExp(source).test(n) && (() => { const m = n.match(/ at (?:(\d+)m )?(\d+(?:\.\d+)?)s$/); return m && parseInt(m[1] ?? '0', 10) * 60 + parseFloat(m[2]) > t; })()),
    { source: pattern.source, t: crashedAt }, { timeout: 20000 });
  };
  await after(/^Heartbeat response to consumer-1 \(REBALANCE_IN_PROGRESS\)/);
  await after(/^JoinGroup from consumer-1/);
  await after(/^SyncGroup from consumer-1/);
  await after(/^SyncGroup response to consumer-1/);
  // A clean stop says goodbye.
  await page.getByRole('button', { name: 'Stop consumer-3' }).click();
  await lane.getByRole('button', { name: /^LeaveGroup from consumer-3/ }).first().waitFor({ timeout: 15000 });
  // Clicking a message goes to its instant, paused.
  await page.getByRole('button', { name: 'Pause' }).click();
  const joinMsg = lane.getByRole('button', { name: /^JoinGroup from consumer-1/ }).last();
  const at = secondsOf(await joinMsg.getAttribute('aria-label'));
  // (Messages a few ms apart overlap; the click goes to this one.)
  await joinMsg.dispatchEvent('click');
  const now = async () => secondsOf(` at ${await page.locator('.clock strong').innerText()}`);
  assert.ok(Math.abs((await now()) - at) < 0.002, `seeked to ${await now()}, message at ${at}`);
  await page.screenshot({ path: join(shots, 'lane-after-crash.png') });
  page.assertClean();
});

test('on a phone, a finger drags a consumer card onto "new group", without scrolling sideways', async () => {
  const page = await openPage(env.browser, env.server.url);
  await page.setViewportSize({ width: 390, height: 844 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 1 });
  await groupOfThree(page);
  await page.getByRole('button', { name: 'Pause' }).click();
  const handle = page.getByRole('article', { name: 'Consumer consumer-2' }).getByTitle('Drag onto another group to move it');
  await handle.scrollIntoViewIfNeeded();
  const from = await center(handle);
  // Touch events as a finger sends them (Chromium turns them into pointer events of type touch).
  await page.evaluate(() => window.addEventListener('pointerdown', (e) => { window.pointerTypes = [...(window.pointerTypes ?? []), e.pointerType]; }, true));
  const touch = (type, p) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: p ? [{ x: p.x, y: p.y }] : [] });
  await touch('touchStart', from);
  for (let i = 1; i <= 3; i++) await touch('touchMove', { x: from.x - 4 * i, y: from.y + 6 * i });
  await page.locator('.new-group.dragging').waitFor();
  const to = await center(page.getByText('Drop a consumer here to start a new group'));
  for (let i = 1; i <= 8; i++) {
    await touch('touchMove', { x: from.x + ((to.x - from.x) * i) / 8, y: from.y + ((to.y - from.y) * i) / 8 });
  }
  await touch('touchEnd');
  assert.deepEqual(await page.evaluate(() => window.pointerTypes), ['touch'], 'a finger, not a mouse');
  // Dropped mid-batch, the consumer moves once the batch is done: played on (see the mouse test).
  const fresh = page.getByRole('group', { name: 'Group group-1' });
  const noted = page.getByRole('article', { name: 'Consumer consumer-2' }).getByText(/moving to group-1 once the batch in hand is done/);
  await fresh.or(noted).first().waitFor();
  await page.getByRole('button', { name: 'Play' }).click();
  await fresh.getByRole('article', { name: 'Consumer consumer-2' }).waitFor();
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(sideways, 0, 'no sideways scroll at 390 px');
  await page.screenshot({ path: join(shots, 'phone-touch-drag-390.png') });
  page.assertClean();
});

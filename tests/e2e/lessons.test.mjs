// End-to-end: lessons played as a person would, step by step, until every check passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { openPage, useBrowser } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.env.KSIM_DIST ?? join(here, '..', '..', 'dist');
const env = useBrowser(before, after, dist);

async function openLesson(title, speed = '4') {
  const page = await openPage(env.browser, env.server.url);
  await page.getByRole('combobox', { name: 'Experiment', exact: true }).selectOption({ label: title });
  await page.getByRole('heading', { name: title }).waitFor();
  await page.getByRole('combobox', { name: 'Speed' }).selectOption(speed);
  return page;
}

const steps = (page) => page.getByRole('list', { name: 'Steps' }).getByRole('listitem');

async function allChecksPass(page) {
  const checks = page.getByRole('list', { name: 'Checks' }).getByRole('listitem');
  await checks.first().waitFor({ timeout: 30000 });
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[aria-label="Checks"] li')].every((li) => li.classList.contains('pass')), null, { timeout: 30000 });
  return checks.allInnerTexts();
}

test('lesson 1: stop, send three times, start: all 30 arrive in order', async () => {
  const page = await openLesson('Lesson 1: message durability');
  assert.match(await steps(page).nth(0).innerText(), /to do now/i);
  await page.getByRole('button', { name: 'Stop consumer' }).click();
  await page.waitForFunction(() => /done/i.test(document.querySelector('[aria-label="Steps"] li').textContent));
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Send 10 messages from producer' }).click();
  assert.match(await steps(page).nth(2).innerText(), /to do now/i);
  // Back and Next browse the steps without changing what is done.
  await page.getByRole('button', { name: 'Previous step' }).click();
  assert.match(await page.locator('.step.shown').innerText(), /Send three times/);
  await page.getByRole('button', { name: 'Next step' }).click();
  await page.getByRole('button', { name: 'Start consumer' }).click();
  const texts = await allChecksPass(page);
  assert.match(texts.join('\n'), /all of the 30 messages sent while the consumer was down arrived after the restart, in order/);
  assert.equal(await page.locator('.step.done').count(), 4);
  page.assertClean();
});

test('lesson 4: crash one of three; the group notices only after the session timeout; nothing lost', async () => {
  const page = await openLesson('Lesson 4: fault tolerance', '8');
  await page.waitForFunction(() => /done/i.test(document.querySelector('[aria-label="Steps"] li').textContent), null, { timeout: 30000 });
  await page.getByRole('button', { name: 'Crash consumer-2' }).click();
  // The survivors take over only once the session ran out; then a clean stop is noticed at once.
  await page.waitForFunction(() => document.querySelectorAll('[aria-label="Steps"] li.done').length >= 4, null, { timeout: 30000 });
  await page.getByRole('button', { name: 'Stop consumer-3' }).click();
  const texts = await allChecksPass(page);
  assert.match(texts.join('\n'), /the group noticed [0-9.]+ s after the crash/);
  assert.match(texts.join('\n'), /nothing lost/);
  assert.match(texts.join('\n'), /a clean stop was noticed [0-9.]+ s after it — once the batch in hand was done, by its LeaveGroup/);
  assert.equal(await page.locator('.step.done').count(), 6);
  page.assertClean();
});

test('the processed-twice lesson counts duplicates; Why? and the real-cluster code are there', async () => {
  const page = await openLesson('Why was my message processed twice?', '1');
  for (let i = 0; i < 5; i++) await page.getByRole('button', { name: 'Send 10 messages from producer' }).click();
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('4');
  // Crash when the card shows processed records not yet committed, as the step says.
  await page.waitForFunction(() => /\d+ not yet committed/.test(document.querySelector('[aria-label="Consumer consumer"]').textContent), null, { timeout: 30000 });
  await page.getByRole('button', { name: 'Crash consumer' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[aria-label="Steps"] li.done').length >= 2);
  await page.getByRole('button', { name: 'Start consumer' }).click();
  const texts = await allChecksPass(page);
  assert.match(texts.join('\n'), /[1-9][0-9]* records processed twice, none lost/);
  await page.getByText('Why?').click();
  assert.match(await page.getByRole('region', { name: 'Lesson' }).innerText(), /at-least-once/);
  page.assertClean();
});

test('a crash with nothing uncommitted is not the moment: the lesson says what to redo', async () => {
  const page = await openLesson('Why was my message processed twice?', '1');
  for (let i = 0; i < 5; i++) await page.getByRole('button', { name: 'Send 10 messages from producer' }).click();
  // Before the group has formed, nothing is processed: a crash now has nothing to re-read.
  await page.getByRole('button', { name: 'Crash consumer' }).click();
  const hint = page.getByRole('status').filter({ hasText: /nothing to read again/ });
  await hint.waitFor();
  assert.match(await steps(page).nth(1).innerText(), /to do now/i);
  page.assertClean();
});

test('lesson 2: without a key messages spread; with one key they all go to the partition murmur2 picks', async () => {
  const page = await openLesson('Lesson 2: message ordering');
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Send 10 messages from producer' }).click();
  await page.getByRole('combobox', { name: 'Keys of producer' }).selectOption({ label: 'one key: order-42' });
  await page.getByRole('button', { name: 'Send 10 messages from producer' }).click();
  const texts = await allChecksPass(page);
  assert.match(texts.join('\n'), /every message with key order-42 went to partition \d \(murmur2\)/);
  assert.match(texts.join('\n'), /without a key, 30 messages went to [23] partitions;.*order across partitions is not kept/);
  page.assertClean();
});

test('lesson 3: three consumers share three partitions; a fourth idles', async () => {
  const page = await openLesson('Lesson 3: load balancing with consumer groups', '8');
  await page.waitForFunction(() => /done/i.test(document.querySelector('[aria-label="Steps"] li').textContent), null, { timeout: 30000 });
  await page.getByRole('button', { name: 'Add a consumer to my-group' }).click();
  const texts = await allChecksPass(page);
  assert.match(texts.join('\n'), /3 partitions, each owned by exactly one of 4 consumers; 1 idle/);
  page.assertClean();
});

test('lesson 5: a restarted consumer resumes at its committed offset', async () => {
  const page = await openLesson('Lesson 5: offset management');
  await page.getByRole('button', { name: 'Send 10 messages from producer' }).click();
  await page.waitForFunction(() => /committed 10/.test(document.querySelector('.pinfo').textContent), null, { timeout: 30000 });
  await page.getByRole('button', { name: 'Stop consumer' }).click();
  await page.getByRole('button', { name: 'Send 10 messages from producer' }).click();
  await page.getByRole('button', { name: 'Start consumer' }).click();
  await page.waitForFunction(() => /committed 20/.test(document.querySelector('.pinfo').textContent), null, { timeout: 30000 });
  // A brand-new group starts where auto.offset.reset says: latest.
  await page.getByRole('button', { name: 'Add a consumer to my-group' }).click();
  await page.getByRole('combobox', { name: 'Move consumer-1 to group' }).selectOption({ label: 'new group (group-1)' });
  // Another new group, this one starting at earliest.
  await page.getByRole('button', { name: 'Add a consumer to my-group' }).click();
  const card = page.getByRole('article', { name: 'Consumer consumer-2' });
  await card.getByText('Settings').click();
  await card.getByRole('combobox', { name: 'auto.offset.reset' }).selectOption('earliest');
  await page.getByRole('combobox', { name: 'Move consumer-2 to group' }).selectOption({ label: 'new group (group-2)' });
  const texts = await allChecksPass(page);
  assert.match(texts.join('\n'), /it processed 10 before it stopped; restarted, it resumed at committed offset 10 and processed 10 of the 10 sent since, 0 twice/);
  assert.match(texts.join('\n'), /the new group group-1 started at offset 20 \(auto.offset.reset=latest\)/);
  assert.match(texts.join('\n'), /the new group group-2 started at offset 0 \(auto.offset.reset=earliest\) and processed all 20 messages/);
  page.assertClean();
});

test('fan-out: in two groups, each gets every message', async () => {
  const page = await openLesson('Pattern: fan-out to several groups');
  await page.getByRole('combobox', { name: 'Move consumer-b to group' }).selectOption({ label: 'new group (group-1)' });
  await page.getByRole('group', { name: 'Group group-1' }).waitFor();
  await page.getByRole('button', { name: 'Send 10 messages from producer' }).click();
  const texts = await allChecksPass(page);
  assert.match(texts.join('\n'), /2 groups each processed all 10 messages sent after the move/);
  page.assertClean();
});

test('priority: urgent messages overtake a low-priority backlog', async () => {
  const page = await openLesson('Pattern: message priority', '1');
  await page.waitForFunction(() => /Stable/.test(document.querySelector('[aria-label="Group my-group"]').textContent), null, { timeout: 30000 });
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Send 10 messages from low' }).click();
  await page.getByRole('button', { name: 'Send 10 messages from high' }).click();
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('4');
  const texts = await allChecksPass(page);
  assert.match(texts.join('\n'), /the 10 high-priority messages were read while \d+ low-priority ones waited, and all done [0-9.]+ s later: only the \d+ low-priority messages already fetched went first/);
  page.assertClean();
});

test('priority, read together: the urgent messages wait behind the backlog and the check says so', async () => {
  const page = await openLesson('Pattern: message priority', '1');
  const card = page.getByRole('article', { name: 'Consumer consumer' });
  await card.getByText('Settings').click();
  await card.getByRole('combobox', { name: 'read topics' }).selectOption('together');
  await page.waitForFunction(() => /Stable/.test(document.querySelector('[aria-label="Group my-group"]').textContent), null, { timeout: 30000 });
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Send 10 messages from low' }).click();
  await page.getByRole('button', { name: 'Send 10 messages from high' }).click();
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('4');
  const check = page.getByRole('list', { name: 'Checks' }).getByRole('listitem').first();
  await check.filter({ hasText: /were all done/ }).waitFor({ timeout: 30000 });
  assert.ok(!(await check.getAttribute('class')).includes('pass'), await check.innerText());
  page.assertClean();
});

test('scrolled down to the cluster, the current step docks at the top and the status line stays in view', async () => {
  const page = await openLesson('Lesson 1: message durability');
  const dock = page.getByRole('complementary', { name: 'Current step' });
  assert.equal(await dock.count(), 0, 'no dock while the lesson panel is in view');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('button', { name: 'Stop consumer' }).scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollBy(0, 400));
  await dock.waitFor();
  // Stopping the consumer completes step 1: the dock follows to step 2.
  await page.getByRole('button', { name: 'Stop consumer' }).click();
  await dock.getByText('Step 2 of 4').waitFor();
  assert.match(await dock.innerText(), /Send three times/);
  const box = await dock.boundingBox();
  assert.ok(box.y <= 1, `docked at the top (y ${box.y})`);
  const status = await page.getByRole('status', { name: 'Simulation status' }).boundingBox();
  assert.ok(status.y + status.height <= 844 + 1, `the status line is in view (bottom ${status.y + status.height})`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await dock.waitFor({ state: 'detached' });
  page.assertClean();
});

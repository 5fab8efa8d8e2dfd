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
  const texts = await allChecksPass(page);
  assert.match(texts.join('\n'), /the group noticed [0-9.]+ s after the crash/);
  assert.match(texts.join('\n'), /nothing lost/);
  page.assertClean();
});

test('the processed-twice lesson counts duplicates; Why? and the real-cluster code are there', async () => {
  const page = await openLesson('Why was my message processed twice?', '1');
  for (let i = 0; i < 5; i++) await page.getByRole('button', { name: 'Send 10 messages from producer' }).click();
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('4');
  // Crash in the middle of the second batch, as the step says.
  await page.waitForFunction(() => /processing/.test(document.querySelector('[aria-label="Consumer consumer"]').textContent)
    && +document.querySelector('input[type=range]').value > 4000, null, { timeout: 30000 });
  await page.getByRole('button', { name: 'Crash consumer' }).click();
  await page.getByRole('button', { name: 'Start consumer' }).click();
  const texts = await allChecksPass(page);
  assert.match(texts.join('\n'), /[1-9][0-9]* records processed twice, none lost/);
  await page.getByText('Why?').click();
  assert.match(await page.getByRole('region', { name: 'Lesson' }).innerText(), /at-least-once/);
  page.assertClean();
});

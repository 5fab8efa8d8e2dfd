// End-to-end: lessons played as a person would, step by step, until every check passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { openPage, useBrowser } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.env.KSIM_DIST ?? join(here, '..', '..', 'dist');
const shots = join(here, 'artifacts');
mkdirSync(shots, { recursive: true });
const env = useBrowser(before, after, dist);

async function openLesson(title, speed = '4') {
  const page = await openPage(env.browser, env.server.url);
  await page.getByRole('combobox', { name: 'Experiment', exact: true }).selectOption({ label: title });
  await page.getByRole('heading', { name: title }).waitFor();
  await page.getByRole('combobox', { name: 'Speed' }).selectOption(speed);
  return page;
}

// Two ways people play: reading each step first (the lesson's own speed, a pause before every
// action, the page's default seed), or acting the moment a step appears (16×, no pause), on a
// seed of the lesson's own, opened from a link as a shared lesson is.
// Acting at once is played on a phone's screen.
const PACES = {
  reading: { speed: null, pause: 700, seed: null, viewport: { width: 1280, height: 800 } },
  'at once': { speed: '16', pause: 0, seed: (i) => 11 + i * 7, viewport: { width: 390, height: 844 } },
};

async function openPaced(lesson, index, paceName) {
  const pace = PACES[paceName];
  let page;
  if (pace.seed) {
    const run = Buffer.from(JSON.stringify({ v: 1, s: lesson.id, seed: pace.seed(index), c: [] })).toString('base64url');
    page = await openPage(env.browser, `${env.server.url}?run=${run}`);
    await page.getByRole('heading', { name: lesson.title }).waitFor();
    await page.getByRole('button', { name: 'Play' }).click();
  } else {
    page = await openLesson(lesson.title, lesson.speed);
  }
  await page.setViewportSize(pace.viewport);
  await page.getByRole('combobox', { name: 'Speed' }).selectOption(pace.speed ?? lesson.speed);
  // Start, middle (before the learner's second action) and end are kept to be looked at.
  const shot = (phase) => page.screenshot({ path: join(shots, `lesson-${lesson.id}-${pace.viewport.width}-${phase}.png`) });
  await shot('start');
  // Every action the learner takes goes through `act`: at a reading pace it waits first.
  let actions = 0;
  const act = async (what) => {
    if (pace.pause) await page.waitForTimeout(pace.pause);
    if (++actions === (lesson.middle ?? 2)) await shot('middle');
    return what();
  };
  return { page, act, shot };
}

const steps = (page) => page.getByRole('list', { name: 'Steps' }).getByRole('listitem');

async function allChecksPass(page) {
  const checks = page.getByRole('list', { name: 'Checks' }).getByRole('listitem');
  await checks.first().waitFor({ timeout: 30000 });
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[aria-label="Checks"] li')].every((li) => li.classList.contains('pass')), null, { timeout: 30000 });
  return checks.allInnerTexts();
}

const send = (page, from = 'producer') => page.getByRole('button', { name: `Send 10 messages from ${from}` }).click();
const stepDone = (page, n) => page.waitForFunction((n) => document.querySelectorAll('[aria-label="Steps"] li.done').length >= n, n, { timeout: 30000 });

// Every lesson, played as its steps say. `play` acts through `act` and returns the checks' texts.
const LESSONS = [
  {
    id: 'lesson-durability', title: 'Lesson 1: message durability', speed: '4',
    async play(page, act) {
      assert.match(await steps(page).nth(0).innerText(), /to do now/i);
      await act(() => page.getByRole('button', { name: 'Stop consumer' }).click());
      await stepDone(page, 1);
      for (let i = 0; i < 3; i++) await act(() => send(page));
      await stepDone(page, 2);
      assert.match(await steps(page).nth(2).innerText(), /to do now/i);
      // Back and Next browse the steps without changing what is done.
      await page.getByRole('button', { name: 'Previous step' }).click();
      assert.match(await page.locator('.step.shown').innerText(), /Send three times/);
      await page.getByRole('button', { name: 'Next step' }).click();
      await act(() => page.getByRole('button', { name: 'Start consumer' }).click());
      const texts = await allChecksPass(page);
      assert.match(texts.join('\n'), /all of the 30 messages sent while the consumer was down arrived after the restart, in order/);
      assert.equal(await page.locator('.step.done').count(), 4);
    },
  },
  {
    id: 'lesson-ordering', title: 'Lesson 2: message ordering', speed: '4',
    async play(page, act) {
      // Keyless sends spread once the sticky partitioner moves on: send until two partitions
      // have records, as the step's hint says.
      for (let i = 0; i < 3; i++) await act(() => send(page));
      for (let i = 0; i < 6 && (await page.locator('.step.done').count()) < 1; i++) {
        await page.waitForTimeout(300);
        if ((await page.locator('.step.done').count()) < 1) await act(() => send(page));
      }
      await stepDone(page, 1);
      await act(() => page.getByRole('combobox', { name: 'Keys of producer' }).selectOption({ label: 'one key: order-42' }));
      await act(() => send(page));
      const texts = await allChecksPass(page);
      assert.match(texts.join('\n'), /every message with key order-42 went to partition \d \(murmur2\)/);
      assert.match(texts.join('\n'), /without a key, \d+ messages went to [23] partitions;.*order across partitions is not kept/);
    },
  },
  {
    id: 'lesson-load-balancing', title: 'Lesson 3: load balancing with consumer groups', speed: '8', middle: 1,
    async play(page, act) {
      await stepDone(page, 1);
      await act(() => page.getByRole('button', { name: 'Add a consumer to my-group' }).click());
      const texts = await allChecksPass(page);
      assert.match(texts.join('\n'), /3 partitions, each owned by exactly one of 4 consumers; 1 idle/);
    },
  },
  {
    id: 'lesson-fault-tolerance', title: 'Lesson 4: fault tolerance', speed: '8',
    async play(page, act) {
      await stepDone(page, 1);
      await act(() => page.getByRole('button', { name: 'Crash consumer-2' }).click());
      // The survivors take over only once the session ran out; then a clean stop is noticed at once.
      await stepDone(page, 4);
      await act(() => page.getByRole('button', { name: 'Stop consumer-3' }).click());
      // Then the same on Kafka 4's consumer protocol: each consumer's setting, a restart of all.
      await stepDone(page, 6);
      for (const c of ['consumer-1', 'consumer-2', 'consumer-3']) {
        const card = page.getByRole('article', { name: `Consumer ${c}` });
        await card.getByText('Settings').click();
        await act(() => card.getByRole('combobox', { name: 'group.protocol' }).selectOption('consumer'));
      }
      await act(() => page.getByRole('button', { name: 'Stop consumer-1' }).click());
      for (const c of ['consumer-1', 'consumer-2', 'consumer-3']) {
        await act(() => page.getByRole('button', { name: `Start ${c}` }).click());
      }
      await stepDone(page, 8);
      await page.getByRole('group', { name: 'Group my-group' }).locator('.generation', { hasText: 'consumer protocol' }).waitFor();
      await act(() => page.getByRole('button', { name: 'Crash consumer-1' }).click());
      const texts = await allChecksPass(page);
      assert.match(texts.join('\n'), /the group noticed [0-9.]+ s after the crash \(session.timeout.ms 10 s/);
      assert.match(texts.join('\n'), /nothing lost/);
      assert.match(texts.join('\n'), /a clean stop was noticed [0-9.]+ s after it — once the batch in hand was done, by its LeaveGroup/);
      assert.match(texts.join('\n'), /under the consumer protocol the others gave up 0 partitions while the crash went unnoticed for [0-9.]+ s/);
      assert.equal(await page.locator('.step.done').count(), 10);
    },
  },
  {
    id: 'lesson-offsets', title: 'Lesson 5: offset management', speed: '4',
    async play(page, act) {
      await act(() => send(page));
      await page.waitForFunction(() => /committed 10/.test(document.querySelector('.pinfo').textContent), null, { timeout: 30000 });
      await act(() => page.getByRole('button', { name: 'Stop consumer' }).click());
      await act(() => send(page));
      await act(() => page.getByRole('button', { name: 'Start consumer' }).click());
      await page.waitForFunction(() => /committed 20/.test(document.querySelector('.pinfo').textContent), null, { timeout: 30000 });
      // A brand-new group starts where auto.offset.reset says: latest.
      await act(() => page.getByRole('button', { name: 'Add a consumer to my-group' }).click());
      await act(() => page.getByRole('combobox', { name: 'Move consumer-1 to group' }).selectOption({ label: 'new group (group-1)' }));
      // Another new group, this one starting at earliest.
      await act(() => page.getByRole('button', { name: 'Add a consumer to my-group' }).click());
      const card = page.getByRole('article', { name: 'Consumer consumer-2' });
      await card.getByText('Settings').click();
      await act(() => card.getByRole('combobox', { name: 'auto.offset.reset' }).selectOption('earliest'));
      await act(() => page.getByRole('combobox', { name: 'Move consumer-2 to group' }).selectOption({ label: 'new group (group-2)' }));
      const texts = await allChecksPass(page);
      assert.match(texts.join('\n'), /it processed 10 before it stopped; restarted, it resumed at committed offset 10 and processed 10 of the 10 sent since, 0 twice/);
      assert.match(texts.join('\n'), /the new group group-1 started at offset 20 \(auto.offset.reset=latest\)/);
      assert.match(texts.join('\n'), /the new group group-2 started at offset 0 \(auto.offset.reset=earliest\) and processed all 20 messages/);
    },
  },
  {
    id: 'lesson-fan-out', title: 'Pattern: fan-out to several groups', speed: '4',
    async play(page, act) {
      await act(() => page.getByRole('combobox', { name: 'Move consumer-b to group' }).selectOption({ label: 'new group (group-1)' }));
      await page.getByRole('group', { name: 'Group group-1' }).waitFor();
      await act(() => send(page));
      const texts = await allChecksPass(page);
      assert.match(texts.join('\n'), /2 groups each processed all 10 messages sent after the move/);
    },
  },
  {
    id: 'lesson-priority', title: 'Pattern: message priority', speed: '1',
    async play(page, act) {
      await page.waitForFunction(() => /Stable/.test(document.querySelector('[aria-label="Group my-group"]').textContent), null, { timeout: 30000 });
      for (let i = 0; i < 3; i++) await act(() => send(page, 'low'));
      await act(() => send(page, 'high'));
      await page.getByRole('combobox', { name: 'Speed' }).selectOption('16');
      const texts = await allChecksPass(page);
      assert.match(texts.join('\n'), /the 10 high-priority messages were read while \d+ low-priority ones waited, and all done [0-9.]+ s later: (no low-priority message went first|only the \d+ low-priority messages? already fetched went first)/);
    },
  },
  {
    id: 'lesson-processed-twice', title: 'Why was my message processed twice?', speed: '1',
    async play(page, act, pace) {
      for (let i = 0; i < 5; i++) await act(() => send(page));
      if (pace === 'reading') await page.getByRole('combobox', { name: 'Speed' }).selectOption('4');
      // Crash when the card shows processed records not yet committed, as the step says; a crash
      // that missed the moment gets a hint, and the learner starts it and tries again.
      const card = page.getByRole('article', { name: 'Consumer consumer' });
      const missed = page.getByRole('status').filter({ hasText: /nothing to read again/ });
      for (let attempt = 0; ; attempt++) {
        assert.ok(attempt < 5, 'the moment came within five tries');
        // Acting at once, the first crash comes as soon as the step shows; after that (and at a
        // reading pace) the learner waits for the moment the card shows.
        if (pace === 'reading' || attempt > 0) {
          await page.waitForFunction(() => /\d+ not yet committed/.test(document.querySelector('[aria-label="Consumer consumer"]').textContent), null, { timeout: 30000 });
        }
        await act(() => page.getByRole('button', { name: 'Crash consumer' }).click());
        await Promise.race([stepDone(page, 2), missed.waitFor({ timeout: 30000 })]);
        if ((await page.locator('.step.done').count()) >= 2) break;
        // As the hint says: start it, send more, and crash it while the card shows the moment
        // (slowed down to 1× to aim).
        await page.getByRole('combobox', { name: 'Speed' }).selectOption('1');
        await act(() => page.getByRole('button', { name: 'Start consumer' }).click());
        await card.getByText('running', { exact: true }).waitFor();
        for (let i = 0; i < 3; i++) await act(() => send(page));
      }
      await act(() => page.getByRole('button', { name: 'Start consumer' }).click());
      const texts = await allChecksPass(page);
      assert.match(texts.join('\n'), /[1-9][0-9]* records? processed twice, none lost/);
      await page.getByText('Why?').click();
      assert.match(await page.getByRole('region', { name: 'Lesson' }).innerText(), /at-least-once/);
    },
  },
];

LESSONS.forEach((lesson, index) => {
  for (const pace of Object.keys(PACES)) {
    test(`${lesson.title}, played ${pace}: every step done, every check passes`, async () => {
      const { page, act, shot } = await openPaced(lesson, index, pace);
      await lesson.play(page, act, pace);
      // The checks made the lesson taller and moved the cluster down: the tokens fly over the
      // cluster where it now is, not where it was (and no more than its 12 px margins beside it).
      // The cards may still change size as the run goes on; the tokens follow within a few frames
      // (the old fault lasted up to a second).
      await page.waitForTimeout(200);
      const box = (sel) => page.evaluate((s) => { const r = document.querySelector(s).getBoundingClientRect(); return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, area: r.width * r.height }; }, sel);
      let tokens, cluster, within = false;
      for (let tries = 0; tries < 6 && !within; tries++) {
        if (tries) await page.waitForTimeout(50);
        [tokens, cluster] = [await box('canvas.tokens'), await box('[aria-label="Cluster"]')];
        within = tokens.area === 0 || (tokens.top >= cluster.top - 1 && tokens.bottom <= cluster.bottom + 1 && tokens.left >= cluster.left - 13 && tokens.right <= cluster.right + 13);
      }
      assert.ok(within, `tokens ${JSON.stringify(tokens)} over the cluster ${JSON.stringify(cluster)}`);
      await page.getByRole('region', { name: 'Lesson' }).scrollIntoViewIfNeeded();
      await shot('end');
      page.assertClean();
    });
  }
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

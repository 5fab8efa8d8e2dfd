// Browser benchmarks that need the whole page (run by scripts/bench.mjs, not by `make test`):
// frame time while playing the stress cluster at 1× and 16×, and the page's weight.
// Frame time = from a frame's requestAnimationFrame timestamp to a task posted from that frame,
// which runs once the frame's scripts, style, layout and paint are done.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { launch, openPage } from '../e2e/browser.mjs';
import { serve } from '../e2e/server.mjs';

const dist = process.argv[2] ?? 'dist';
const seconds = Number(process.env.KSIM_FRAME_SECONDS ?? 15);
const bench = (key, value) => console.log(`BENCH ${key} ${value.toFixed(3)}`);

// Page weight: what a visitor downloads to run the app, brotli-compressed.
let weight = 0;
for (const f of readdirSync(dist)) {
  if (!['.wasm', '.js', '.css'].includes(extname(f)) || f === 'sw.js') continue;
  const body = readFileSync(join(dist, f));
  const br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  console.log(`${f}: ${(body.length / 1024).toFixed(1)} KB, brotli ${(br / 1024).toFixed(1)} KB`);
  weight += br;
}
bench('page_weight_kb', weight / 1024);

const server = await serve(dist);
const browser = await launch();
const page = await openPage(browser, server.url);

async function open(experiment) {
  await page.getByRole('combobox', { name: 'Experiment', exact: true }).selectOption({ label: experiment });
  await page.getByRole('heading', { name: experiment }).waitFor();
}

async function frames(speed, prefix = '') {
  await page.getByRole('combobox', { name: 'Speed' }).selectOption(speed);
  if (await page.getByRole('button', { name: 'Play' }).count()) await page.getByRole('button', { name: 'Play' }).click();
  await page.waitForTimeout(2000); // warm up
  const times = await page.evaluate((ms) => new Promise((resolve) => {
    const out = [];
    const channel = new MessageChannel();
    channel.port1.onmessage = (e) => out.push(performance.now() - e.data);
    const end = performance.now() + ms;
    const loop = (ts) => {
      channel.port2.postMessage(ts);
      if (performance.now() < end) requestAnimationFrame(loop);
      else setTimeout(() => resolve(out), 100);
    };
    requestAnimationFrame(loop);
  }), seconds * 1000);
  times.sort((a, b) => a - b);
  const pct = (p) => times[Math.round((times.length - 1) * p)];
  console.log(`${prefix || 'stress '}${speed}x: ${times.length} frames in ${seconds} s (${(times.length / seconds).toFixed(1)} fps), frame time median ${pct(0.5).toFixed(1)} ms, p95 ${pct(0.95).toFixed(1)} ms, max ${pct(1).toFixed(1)} ms`);
  bench(`${prefix}frame_p95_ms_${speed}x`, pct(0.95));
  bench(`${prefix}frame_median_ms_${speed}x`, pct(0.5));
  bench(`${prefix}fps_${speed}x`, times.length / seconds);
}

// Main-thread busy share (CDP TaskDuration over wall time) over `secs`, then frames over as long
// again, at a CPU throttle (1: this machine; 4: a mid-range phone, as Chrome's DevTools emulate it).
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
const taskSeconds = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
async function busy(key, throttle, secs = 20) {
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  await page.waitForTimeout(2000); // settle at this rate
  // Busy share first, with nothing of ours running in the page: counting frames needs a
  // requestAnimationFrame loop, which costs the main thread work of its own (1.5 % on a blank
  // page here) and makes the page render every frame.
  const t0 = await taskSeconds();
  const w0 = Date.now();
  await page.waitForTimeout(secs * 1000);
  const share = (await taskSeconds() - t0) / ((Date.now() - w0) / 1000);
  const gaps = await page.evaluate((ms) => new Promise((resolve) => {
    const out = [];
    let last;
    const end = performance.now() + ms;
    const loop = (ts) => {
      if (last !== undefined) out.push(ts - last);
      last = ts;
      if (performance.now() < end) requestAnimationFrame(loop);
      else resolve(out);
    };
    requestAnimationFrame(loop);
  }), secs * 1000);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  const fps = (gaps.length + 1) / secs;
  const slow = gaps.filter((g) => g > 20).length;
  console.log(`${key} at ${throttle}× CPU: main thread busy ${(share * 100).toFixed(1)} %, ${fps.toFixed(1)} fps, ${slow} frames over 20 ms in ${secs} s`);
  bench(`${key}_busy_pct_${throttle}x_cpu`, share * 100);
  bench(`${key}_fps_${throttle}x_cpu`, fps);
  bench(`${key}_slow_frames_${throttle}x_cpu`, slow);
}

// Lesson 3 with its producer at 10 records/s, playing at 1×: the load peers are compared at.
await open('Lesson 3: load balancing with consumer groups');
await page.getByRole('combobox', { name: 'Send rate of producer' }).selectOption('10');
if (await page.getByRole('button', { name: 'Play' }).count()) await page.getByRole('button', { name: 'Play' }).click();
await page.getByRole('combobox', { name: 'Speed' }).selectOption('1');
await page.waitForTimeout(8000); // the group forms
await busy('lesson3_10ps', 1);
await busy('lesson3_10ps', 4);
// Paused, nothing moving: no work per frame.
await page.getByRole('button', { name: 'Pause' }).click();
await busy('paused', 1, 5);

// A lesson, for comparison: what most visitors play.
await open('Lesson 4: fault tolerance');
await frames('1', 'lesson_');
await frames('16', 'lesson_');
await open('Stress: a busy cluster');
await frames('1');
await frames('16');
await page.getByRole('combobox', { name: 'Speed' }).selectOption('1');
await busy('stress', 1);
await busy('stress', 4);
await page.getByRole('combobox', { name: 'Speed' }).selectOption('16');
// The same, later in a run: what builds up over a run (marks, history) must not slow frames.
const clock = () => page.evaluate(() => +document.querySelector('input[aria-label="Simulated time"]').value);
await page.waitForFunction(() => +document.querySelector('input[aria-label="Simulated time"]').value >= 600000, null, { timeout: 180000, polling: 1000 });
console.log(`(at ${(await clock() / 60000).toFixed(1)} simulated minutes)`);
await frames('16', 'later_');
await page.screenshot({ path: '/tmp/stress-16x.png' }).catch(() => {});
page.assertClean();
await browser.close();
await server.close();

// `make bench`: runs every benchmark and writes BENCHMARKS.md (machine, date, figures against
// the budgets). Each benchmark prints `BENCH key value` lines; this collects them.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem, release } from 'node:os';
import { writeFileSync } from 'node:fs';

const figures = {};
const logs = [];

function run(title, cmd, args, env = {}) {
  console.log(`\n== ${title}: ${cmd} ${args.join(' ')}`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  const lines = out.split('\n').filter((l) => !/^\s*(Compiling|Finished|Running|warning|Blocking)/.test(l.trim()));
  for (const line of lines) {
    const m = line.match(/BENCH (\S+) (-?[0-9.]+(?:e[-+]?\d+)?)/);
    if (m) figures[m[1]] = Number(m[2]);
  }
  const shown = lines.filter((l) => l.trim() && !/^(running|test |test result|\s*$)/.test(l.trim()) && !l.includes('BENCH '));
  logs.push({ title, seconds: (Date.now() - started) / 1000, lines: shown.slice(-40) });
  console.log(shown.join('\n'));
  if (r.status !== 0) throw new Error(`${title} failed (exit ${r.status})`);
}

const version = (cmd, args) => {
  try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0]; } catch { return 'not found'; }
};

run('native simulation speed', 'cargo', ['bench', '--locked', '--bench', 'sim_speed']);
run('native seek', 'cargo', ['bench', '--locked', '--bench', 'seek']);
run('how cost grows', 'cargo', ['bench', '--locked', '--bench', 'growth']);
run('native memory over 24 simulated hours', 'cargo', ['bench', '--locked', '--bench', 'memory', '--', '--hours', process.env.KSIM_BENCH_HOURS ?? '24']);
run('wasm in headless Chromium: speed and seek', 'cargo',
  ['test', '--locked', '--release', '--target', 'wasm32-unknown-unknown', '--test', 'web_bench', '--', '--include-ignored', '--nocapture'],
  { WASM_BINDGEN_TEST_TIMEOUT: '1800', CHROMEDRIVER: process.env.CHROMEDRIVER ?? '/usr/bin/chromedriver' });
run('release build', 'trunk', ['build', '--release']);
run('frame time and page weight in headless Chromium', 'node', ['tests/bench/frames.mjs', 'dist']);

const f = (key, digits = 1) => (figures[key] === undefined ? 'not measured' : figures[key].toFixed(digits));
const verdict = (ok) => (ok === undefined ? '?' : ok ? 'met ✓' : 'missed ✗');
const ratio = figures.native_speed && figures.wasm_speed ? figures.native_speed / figures.wasm_speed : undefined;
const rows = [
  ['simulation speed, native (simulated s per wall s)', '≥ 10 000', f('native_speed', 0), verdict(figures.native_speed >= 10000)],
  ['simulation speed, wasm in headless Chromium', '≥ 3 600', f('wasm_speed', 0), verdict(figures.wasm_speed >= 3600)],
  ['wasm slower than native by', '≤ 2×', ratio ? `${ratio.toFixed(2)}×` : '?', verdict(ratio === undefined ? undefined : ratio <= 2)],
  ['seek in a 10-minute run, native (median / p95 / max ms)', '≤ 50 ms', `${f('native_seek_median_ms')} / ${f('native_seek_p95_ms')} / ${f('native_seek_max_ms')}`, verdict(figures.native_seek_max_ms <= 50)],
  ['seek in a 10-minute run, wasm (median / p95 / max ms)', '≤ 50 ms', `${f('wasm_seek_median_ms')} / ${f('wasm_seek_p95_ms')} / ${f('wasm_seek_max_ms')}`, verdict(figures.wasm_seek_max_ms <= 50)],
  ['frame time p95 playing at 1× (ms; median, fps)', '≤ 8 ms', `${f('frame_p95_ms_1x')} (${f('frame_median_ms_1x')}, ${f('fps_1x', 0)} fps)`, verdict(figures.frame_p95_ms_1x <= 8)],
  ['frame time p95 playing at 16× (ms; median, fps)', '≤ 8 ms', `${f('frame_p95_ms_16x')} (${f('frame_median_ms_16x')}, ${f('fps_16x', 0)} fps)`, verdict(figures.frame_p95_ms_16x <= 8)],
  ['frame time p95 at 16× after 10 simulated minutes (ms; median, fps)', '≤ 8 ms', `${f('later_frame_p95_ms_16x')} (${f('later_frame_median_ms_16x')}, ${f('later_fps_16x', 0)} fps)`, verdict(figures.later_frame_p95_ms_16x <= 8)],
  ['(for comparison) frame time p95 playing lesson 4 at 1× / 16× (ms)', '', `${f('lesson_frame_p95_ms_1x')} / ${f('lesson_frame_p95_ms_16x')}`, ''],
  ['main thread busy, lesson 3 with the producer at 10/s, 1× (%)', '≤ 8 %', f('lesson3_10ps_busy_pct_1x_cpu'), verdict(figures.lesson3_10ps_busy_pct_1x_cpu <= 8)],
  ['main thread busy, stress cluster, 1× (%)', '≤ 25 %', f('stress_busy_pct_1x_cpu'), verdict(figures.stress_busy_pct_1x_cpu <= 25)],
  ['lesson 3 at 10/s, 4× CPU throttle: fps / frames over 20 ms in 20 s (busy %)', '≥ 58 fps, ≤ 5', `${f('lesson3_10ps_fps_4x_cpu')} / ${f('lesson3_10ps_slow_frames_4x_cpu', 0)} (${f('lesson3_10ps_busy_pct_4x_cpu')} %)`, verdict(figures.lesson3_10ps_fps_4x_cpu >= 58 && figures.lesson3_10ps_slow_frames_4x_cpu <= 5)],
  ['stress cluster, 4× CPU throttle: fps (busy %)', '≥ 50 fps', `${f('stress_fps_4x_cpu')} (${f('stress_busy_pct_4x_cpu')} %)`, verdict(figures.stress_fps_4x_cpu >= 50)],
  ['paused, nothing moving: main thread busy (%)', 'no work per frame', f('paused_busy_pct_1x_cpu'), ''],
  ['page weight: wasm + js + css, brotli (KB)', '≤ 350 KB', f('page_weight_kb'), verdict(figures.page_weight_kb <= 350)],
  [`peak memory, native run of ${f('memory_hours', 0)} simulated hours (MB)`, '≤ 64 MB', f('memory_peak_mb'), verdict(figures.memory_peak_mb <= 64)],
  ['memory growth after the first hour (MB)', 'flat', f('memory_growth_after_first_hour_mb'), verdict(Math.abs(figures.memory_growth_after_first_hour_mb) <= 0.1 * figures.memory_peak_mb)],
];
const rates = [100, 1000, 10000, 100000];
const growth = [12, 120, 1200].map((p) => `| ${p} | ${rates.map((r) => f(`growth_${p}_${r}`)).join(' | ')} |`);
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const md = `# Benchmarks

Written by \`make bench\` (scripts/bench.mjs) on ${new Date().toISOString().slice(0, 10)}.
Machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()};
${version('rustc', ['--version'])}; ${version('chromium', ['--version'])} (headless, software rendering).

The stress cluster: 6 brokers; 3 topics × 12 partitions, replication factor 3; 3 groups × 6
consumers reading every topic; 1 000 records/s with random keys; retention.ms one hour; a
consumer crashes every 3 minutes and restarts 20 s later (\`ksim run stress\`, or "Stress: a busy
cluster" in the page). ${f('native_events_per_sim_s', 0)} events per simulated second.

| what | goal | measured | |
|---|---|---|---|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Frame time is measured from each frame's \`requestAnimationFrame\` timestamp to a task posted in
that frame, which runs after the frame's scripts, style, layout and paint.

## How cost grows

Simulated seconds per wall second, the stress cluster's shape with more partitions (in all,
over 3 topics) and more records per second (each cell: one simulated minute, or as much as fits
in a few wall seconds). Above about 1× the page keeps up with real time; below it, playback
falls behind the clock.

| partitions \\ records/s | ${rates.join(' | ')} |
|---|---|---|---|---|
${growth.join('\n')}

## Output

${logs.map((l) => `### ${l.title} (${l.seconds.toFixed(0)} s)\n\n\`\`\`\n${l.lines.join('\n')}\n\`\`\``).join('\n\n')}
`;
writeFileSync('BENCHMARKS.md', md);
console.log('\nwrote BENCHMARKS.md');

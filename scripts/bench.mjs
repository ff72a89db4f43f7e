#!/usr/bin/env node
/**
 * npm run bench: measures the real app in headless Chromium (WebGPU through
 * SwiftShader where there is no GPU). For each case it opens the page with a
 * config in the URL, trains, and reads the metrics the page shows:
 * steps/s and images/s (wall clock over the measured steps, after warm-up),
 * live tensors before and after (a leak shows as growth), and the longest
 * main-thread task while training. Writes bench/results.json and bench/results.md.
 *
 * Options: BENCH_STEPS (measured steps per case, overriding each case's own),
 * BENCH_WARMUP (default 1), BENCH_CASES
 * (comma-separated case names), CHROMIUM_PATH.
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { preview } from 'vite';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Steps are counted after WARMUP steps (shader compilation, Adam's first allocations). */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);

// heavy cases measure few steps: on SwiftShader one default-config step takes about a minute
const ALL_CASES = [
  { name: 'default', search: '', steps: 2 },
  { name: 'n64-32px-webgpu', search: 'batch=64&size=32', steps: 2 },
  { name: 'n64-32px-cpu', search: 'batch=64&size=32&backend=cpu', steps: 2 },
  { name: 'n64-28px-w8-webgpu', search: 'batch=64&width=8', steps: 5 },
  { name: 'tiny-e2e-webgpu', search: 'batch=16&size=16&width=4&zdim=32', steps: 20 },
];
const wanted = process.env.BENCH_CASES?.split(',');
const cases = wanted ? ALL_CASES.filter((c) => wanted.includes(c.name)) : ALL_CASES;

execSync('npx vite build --logLevel warn', { stdio: 'inherit' });
const server = await preview({ preview: { port: 4180, strictPort: true, host: '127.0.0.1' }, logLevel: 'warn' });
const base = 'http://127.0.0.1:4180/';
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});

const value = async (page, id) => Number(await page.getByTestId(id).getAttribute('data-value'));
async function waitStep(page, atLeast, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastLog = Date.now();
  for (;;) {
    const step = await value(page, 'metric-step');
    if (Date.now() - lastLog > 20_000) {
      lastLog = Date.now();
      console.log(`  … step ${step} of ${atLeast}, ${await value(page, 'metric-step-ms')} ms/step`);
    }
    if (step >= atLeast) return step;
    const error = await page.getByTestId('error-banner').count();
    if (error) throw new Error(await page.getByTestId('error-banner').innerText());
    if (Date.now() > deadline) throw new Error(`timed out at step ${step}`);
    await page.waitForTimeout(50);
  }
}

const results = { date: new Date().toISOString(), browser: browser.version(), adapter: null, trainStep: [] };
// with BENCH_CASES, rows of the cases not run now are kept from the last results (each row says when it was measured)
const previous = wanted && existsSync('bench/results.json') ? JSON.parse(readFileSync('bench/results.json', 'utf8')) : null;
for (const c of cases) {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  console.log(`${c.name}: ${c.search || 'default config'}`);
  await page.goto(`${base}?probeEvery=0&${c.search}`);
  await page.getByTestId('train-start').waitFor({ state: 'visible' });
  await page.waitForFunction(() => !document.querySelector('[data-testid="train-start"]').disabled, null, { timeout: 120_000 });
  const backend = await page.getByTestId('backend-badge').getAttribute('data-value');
  results.adapter ??= (await page.getByTestId('backend-badge').getAttribute('title'))?.replace('GPU adapter: ', '') ?? null;
  const batch = Number(new URLSearchParams(c.search).get('batch') ?? 128);
  const size = Number(new URLSearchParams(c.search).get('size') ?? 28);
  await page.getByTestId('train-start').click();
  const s1 = await waitStep(page, WARMUP, 600_000);
  const t1 = Date.now();
  const tensors1 = await value(page, 'metric-tensors');
  const since = await page.evaluate(() => performance.now());
  const s2 = await waitStep(page, s1 + Number(process.env.BENCH_STEPS ?? c.steps), 900_000);
  const t2 = Date.now();
  const tensors2 = await value(page, 'metric-tensors');
  await page.getByTestId('train-pause').click();
  const longest = await page.evaluate((t) => Math.max(0, ...window.__longTasks.filter((x) => x.start >= t).map((x) => x.duration)), since);
  const stepsPerSecond = ((s2 - s1) * 1000) / (t2 - t1);
  const row = {
    case: c.name, measured: new Date().toISOString(), backend, batch, imageSize: size,
    msPerStep: +(1000 / stepsPerSecond).toFixed(1),
    stepsPerSecond: +stepsPerSecond.toFixed(3),
    imagesPerSecond: +(stepsPerSecond * batch).toFixed(1),
    steps: s2 - s1,
    leakedTensors: tensors2 - tensors1,
    longestMainThreadTaskMs: longest,
  };
  console.log(row);
  results.trainStep.push(row);
  await page.close();
}
// augmentation throughput: the simclr pipeline on 256 RGB images of 32 px, per backend (checks.html)
if (!wanted || wanted.includes('augment')) {
  const page = await browser.newPage();
  await page.goto(`${base}checks.html?check=augment-throughput&batch=256&size=32&repeats=5&preset=simclr&backends=webgpu,webgl,cpu`);
  await page.getByTestId('check-status').filter({ hasText: /done|failed/ }).waitFor({ timeout: 600_000 });
  const out = JSON.parse(await page.getByTestId('check-result').textContent());
  if (out.error) throw new Error(out.error);
  results.augmentation = out.rows;
  console.log(out.rows);
  await page.close();
}
await browser.close();
await new Promise((r) => server.httpServer.close(r));

if (previous) {
  const ran = new Set(results.trainStep.map((r) => r.case));
  const kept = previous.trainStep.filter((r) => !ran.has(r.case)).map((r) => ({ ...r, measured: r.measured ?? previous.date }));
  results.trainStep = [...kept, ...results.trainStep];
  results.adapter ??= previous.adapter;
  results.augmentation ??= previous.augmentation;
}
mkdirSync('bench', { recursive: true });
writeFileSync('bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
const lines = [
  '# Benchmark results',
  '',
  `${results.date} · Chromium ${results.browser} · adapter: ${results.adapter ?? 'unknown'}`,
  '',
  'Measured by `npm run bench` on the real app: wall clock over the measured steps after warm-up, probe off.',
  'Where the adapter is SwiftShader the figures are a CPU emulating Vulkan, not a GPU.',
  '',
  '| case | measured | backend | N | px | ms/step | steps/s | images/s | steps | leaked tensors | longest main-thread task (ms) |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.trainStep.map((r) => `| ${r.case} | ${(r.measured ?? results.date).slice(0, 16)} | ${r.backend} | ${r.batch} | ${r.imageSize} | ${r.msPerStep} | ${r.stepsPerSecond} | ${r.imagesPerSecond} | ${r.steps} | ${r.leakedTensors} | ${r.longestMainThreadTaskMs} |`),
  '',
  ...(results.augmentation
    ? [
        '## Augmentation throughput',
        '',
        'The simclr preset (crop, flip, colour jitter, grayscale, blur) on N = 256 RGB images of 32 px, median of 5 runs after warm-up, read-back included.',
        '',
        '| backend | N | px | median ms | images/s |',
        '|---|---|---|---|---|',
        ...results.augmentation.map((r) => (r.error ? `| ${r.backend} | — | — | ${r.error} | — |` : `| ${r.backend} | ${r.batch} | ${r.size} | ${r.medianMs.toFixed(1)} | ${r.imagesPerSecond.toFixed(0)} |`)),
        '',
      ]
    : []),
];
writeFileSync('bench/results.md', lines.join('\n'));
console.log(lines.join('\n'));
process.exit(0);

#!/usr/bin/env node
/**
 * npm run yardstick: the DEVELOPERS.md yardstick run, on the real app in
 * headless Chromium. Trains SimCLR on the built-in Fashion-MNIST at the
 * reference config (N = 256, 28 px, widths 32/64/128/256, MLP head to 128,
 * crop 0.2–1 + flip + brightness/contrast, τ = 0.5, L2 on, Adam 1e-3) for
 * YARDSTICK_STEPS steps (default 200), probing every YARDSTICK_PROBE_EVERY steps on
 * 10,000 train / 2,000 test images, and records the probe accuracies next
 * to the random-init and raw-pixel baselines. Writes bench/yardstick.json,
 * bench/yardstick.md and a screenshot of the page to docs/screenshot.png.
 * PyTorch reference at this config: raw pixels 81 %, random init 83 %, 200 steps 86 %.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { preview } from 'vite';

const STEPS = Number(process.env.YARDSTICK_STEPS ?? 200);
const PROBE_EVERY = Number(process.env.YARDSTICK_PROBE_EVERY ?? 50);
const SEARCH = process.env.YARDSTICK_SEARCH ?? `batch=256&probeTrain=10000&probeTest=2000&probeIters=300&probeEvery=${PROBE_EVERY}`;
/** bench/<OUT_NAME>.{json,md}; the screenshot is taken only for the default name */
const OUT_NAME = process.env.YARDSTICK_OUT ?? 'yardstick';
const TITLE = process.env.YARDSTICK_TITLE ?? 'Yardstick: SimCLR on Fashion-MNIST';

const PORT = Number(process.env.YARDSTICK_PORT ?? 4181);
// YARDSTICK_BUILD=0 reuses dist/ (two runs side by side must not rebuild it under each other)
if (process.env.YARDSTICK_BUILD !== '0') execSync('npx vite build --logLevel warn', { stdio: 'inherit' });
const server = await preview({ preview: { port: PORT, strictPort: true, host: '127.0.0.1' }, logLevel: 'warn' });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const value = async (id) => {
  const raw = await page.getByTestId(id).getAttribute('data-value');
  return raw === '' || raw === null ? null : Number(raw);
};

const started = Date.now();
await page.goto(`http://127.0.0.1:${PORT}/?${SEARCH}`);
await page.waitForFunction(() => !document.querySelector('[data-testid="train-start"]')?.disabled, null, { timeout: 300_000 });
const backend = await page.getByTestId('backend-badge').getAttribute('data-value');
await page.getByTestId('train-start').click();

const probes = [];
let lastLog = 0;
for (;;) {
  const step = await value('metric-step');
  if (await page.getByTestId('error-banner').count()) throw new Error(await page.getByTestId('error-banner').innerText());
  const status = await page.getByTestId('run-status').getAttribute('data-value');
  if (step >= STEPS && status !== 'probing') {
    await page.getByTestId('train-pause').click();
    break;
  }
  if (Date.now() - lastLog > 30_000) {
    lastLog = Date.now();
    console.log(`step ${step}, loss ${await value('metric-loss')}, probe ${await value('metric-probe-acc')}, ${((Date.now() - started) / 60000).toFixed(1)} min`);
  }
  await page.waitForTimeout(1000);
}
// the last probe may have landed exactly at STEPS; if not, probe now
await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.getAttribute('data-value') === 'paused', null, { timeout: 600_000 });
const finalStep = await value('metric-step');
const chartProbes = await page.getByTestId('chart-probe').getAttribute('data-points');
if (finalStep % PROBE_EVERY !== 0) {
  await page.getByTestId('probe-run').click();
  await page.waitForFunction((n) => document.querySelector('[data-testid="chart-probe"]')?.getAttribute('data-points') !== n, chartProbes, { timeout: 600_000 });
}
probes.push({ step: finalStep, testAccuracy: await value('metric-probe-acc') });
const result = {
  date: new Date().toISOString(),
  browser: browser.version(),
  backend,
  adapter: (await page.getByTestId('backend-badge').getAttribute('title'))?.replace('GPU adapter: ', '') ?? null,
  search: SEARCH,
  steps: finalStep,
  loss: await value('metric-loss'),
  contrastiveAccuracy: await value('metric-contrast-acc'),
  probeAccuracy: await value('metric-probe-acc'),
  randomInitBaseline: await value('metric-probe-baseline'),
  rawPixelBaseline: await value('metric-probe-pixels'),
  minutes: +((Date.now() - started) / 60000).toFixed(1),
  ...(OUT_NAME === 'yardstick' ? { pytorchReference: { rawPixels: 0.81, randomInit: 0.83, after200Steps: 0.86 } } : {}),
};
if (OUT_NAME === 'yardstick') {
  mkdirSync('docs', { recursive: true });
  await page.screenshot({ path: 'docs/screenshot.png', fullPage: false });
}
await browser.close();
await new Promise((r) => server.httpServer.close(r));
mkdirSync('bench', { recursive: true });
writeFileSync(`bench/${OUT_NAME}.json`, `${JSON.stringify(result, null, 2)}\n`);
const pct = (x) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
writeFileSync(
  `bench/${OUT_NAME}.md`,
  [
    `# ${TITLE}`,
    '',
    `${result.date} · Chromium ${result.browser} · backend ${backend} · adapter ${result.adapter ?? 'unknown'} · ${result.minutes} min`,
    '',
    `Config (URL): \`?${SEARCH}\``,
    '',
    ...(OUT_NAME === 'yardstick'
      ? [
          '| probe on | this app | PyTorch reference (N = 256, width 32, Fashion-MNIST) |',
          '|---|---|---|',
          `| raw pixels | ${pct(result.rawPixelBaseline)} | 81% |`,
          `| random-init encoder | ${pct(result.randomInitBaseline)} | 83% |`,
          `| SimCLR after ${result.steps} steps | ${pct(result.probeAccuracy)} | 86% (200 steps) |`,
        ]
      : [
          '| probe on | test accuracy |',
          '|---|---|',
          `| raw pixels | ${pct(result.rawPixelBaseline)} |`,
          `| random-init encoder | ${pct(result.randomInitBaseline)} |`,
          `| SimCLR after ${result.steps} steps | ${pct(result.probeAccuracy)} |`,
        ]),
    '',
    `Final NT-Xent loss ${result.loss?.toFixed(3)}, contrastive accuracy ${pct(result.contrastiveAccuracy)}.`,
    '',
  ].join('\n'),
);
console.log(result);
process.exit(0);

/**
 * Drives the built app in headless Chromium for the measuring scripts
 * (yardstick, methods yardstick): serve dist/, open a page, train to a step
 * count, run the label-efficiency panel and read its table back.
 */
import { execSync } from 'node:child_process';
import { chromium } from '@playwright/test';
import { preview } from 'vite';

/**
 * The PyTorch reference's augmentation as the app's `aug` URL parameter:
 * random resized crop 0.2–1, flip, colour jitter (brightness/contrast on grey
 * images, p 0.8, strength 0.5); grayscale, blur and the rest off.
 */
export const REFERENCE_AUGMENTATION = 'crop:0.2-1,0.75-1.3333333333333333;flip:0.5;cj:0.8,0.5;-gray:0.2;-blur:0.5,0.1-2;-rot:0.5;-cut:0.5,1,0.25;-noise:0.5,0.05;-sobel:1';

/** The yardstick's config: SwiftShader-sized (N 64, width 4, WebGL, the fastest backend there), probe on 10,000 labelled images. */
export const YARDSTICK_SEARCH = `batch=64&width=4&lr=0.003&aug=${encodeURIComponent(REFERENCE_AUGMENTATION)}&backend=webgl&probeTrain=10000&probeTest=2000&probeIters=300&probeEvery=0&knnEvery=0`;

export const minutesSince = (t) => +((Date.now() - t) / 60000).toFixed(1);

/** Builds (unless build is false), serves dist/ on port and opens one page. */
export async function openApp({ port, build = true }) {
  if (build) execSync('npx vite build --logLevel warn', { stdio: 'inherit' });
  const server = await preview({ preview: { port, strictPort: true, host: '127.0.0.1' }, logLevel: 'warn' });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  // the yardsticks measure the settings they name and the defaults they leave: never the light setup a page puts in force without a GPU
  await page.addInitScript(() => localStorage.setItem('ssp.setup', 'full'));
  const value = async (id) => {
    const raw = await page.getByTestId(id).getAttribute('data-value');
    return raw === '' || raw === null ? null : Number(raw);
  };
  const failIfError = async () => {
    if (await page.getByTestId('error-banner').count()) throw new Error(await page.getByTestId('error-banner').innerText());
  };
  const close = async () => {
    await browser.close();
    await new Promise((r) => server.httpServer.close(r));
  };
  return { page, browser, value, failIfError, close, url: (search) => `http://127.0.0.1:${port}/?${search}` };
}

/** Loads `search`, presses Train and pauses once the step counter reaches `steps`; logs every minute. */
export async function trainTo(app, search, steps, tag) {
  const { page, value, failIfError } = app;
  const started = Date.now();
  await page.goto(app.url(search));
  await page.waitForFunction(() => !document.querySelector('[data-testid="train-start"]')?.disabled, null, { timeout: 300_000 });
  await page.getByTestId('train-start').click();
  let lastLog = 0;
  for (;;) {
    await failIfError();
    const step = await value('metric-step');
    if (step >= steps) {
      await page.getByTestId('train-pause').click();
      break;
    }
    if (Date.now() - lastLog > 60_000) {
      lastLog = Date.now();
      console.log(`${tag}: step ${step}, loss ${await value('metric-loss')}, ${minutesSince(started)} min`);
    }
    await page.waitForTimeout(500);
  }
  await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.getAttribute('data-value') === 'paused', null, { timeout: 600_000 });
  return { steps: await value('metric-step'), loss: await value('metric-loss'), trainMinutes: minutesSince(started) };
}

/**
 * Runs the label-efficiency panel at the given percentages ('1', '10', '100')
 * with `supervisedSteps` for the supervised and fine-tuned encoders; returns
 * its rows ({ fraction, model, accuracy }) and the few-shot cells.
 */
export async function labelEfficiency(app, percentages, supervisedSteps, tag) {
  const { page, failIfError } = app;
  // the panel lives in the Evaluation tab; hidden tabs stay mounted, but their controls cannot be clicked
  await page.getByTestId('tab-evaluation').click();
  for (const f of ['1', '10', '50', '100']) {
    const box = page.getByTestId(`label-efficiency-fraction-${f}`);
    if (!(await box.count())) continue;
    if (percentages.includes(f)) await box.check();
    else await box.uncheck();
  }
  await page.getByTestId('label-efficiency-budget').fill(String(supervisedSteps));
  await page.getByTestId('label-efficiency-run').click();
  await page.waitForTimeout(1000);
  let lastLog = Date.now();
  for (;;) {
    await failIfError();
    if (await page.getByTestId('label-efficiency-run').isEnabled()) break;
    if (Date.now() - lastLog > 60_000) {
      lastLog = Date.now();
      console.log(`${tag}: ${await page.getByTestId('label-efficiency-progress').innerText().catch(() => '')}`);
    }
    await page.waitForTimeout(1000);
  }
  if (await page.getByTestId('label-efficiency-error').count()) throw new Error(await page.getByTestId('label-efficiency-error').innerText());
  const rows = await page.getByTestId('label-efficiency').locator('tr[data-model]').evaluateAll((trs) =>
    trs.map((tr) => ({ fraction: tr.getAttribute('data-fraction'), model: tr.getAttribute('data-model'), accuracy: Number(tr.getAttribute('data-value')) })));
  const fewShot = await page.getByTestId('few-shot-table').locator('td[data-shots]').evaluateAll((cells) =>
    cells.map((c) => ({ shots: Number(c.getAttribute('data-shots')), model: c.getAttribute('data-model'), accuracy: Number(c.getAttribute('data-value')) })));
  return { rows, fewShot };
}

/** mean and sample standard deviation */
export function stats(values) {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n, values };
}

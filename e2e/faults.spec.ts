import { expect, test, type Page } from '@playwright/test';
import { metricValue, openApp, TINY, waitForStep, withParams } from './helpers';

/** Faults on demand through the page's test hook (src/state/trainingClient.ts): the worker destroys its device or throws. */
type Fault = 'destroy-device' | 'lose-webgl-context' | 'throw-mid-step';

async function injectFault(page: Page, fault: Fault): Promise<void> {
  await page.evaluate((f) => (window as unknown as { __sspInjectFault: (f: string) => void }).__sspInjectFault(f), fault);
}

/** Trains until `steps`, then the fault; returns the step the history reached. */
async function trainThenFault(page: Page, steps: number, fault: Fault, overrides = 'probeEvery=0'): Promise<number> {
  await openApp(page, withParams(TINY, overrides));
  await page.getByTestId('train-start').click();
  await waitForStep(page, steps);
  await injectFault(page, fault);
  await expect(page.getByTestId('error-banner')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'error');
  const reached = await metricValue(page, 'metric-step');
  expect(reached).toBeGreaterThanOrEqual(steps);
  return reached;
}

/** One click carries on: a new worker, a fresh encoder counting on from `reached`, the old history kept and the handover marked. */
async function continueAfter(page: Page, reached: number, button: string): Promise<void> {
  const recover = page.getByTestId('error-recover');
  await expect(recover).toHaveText(button);
  await recover.click();
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  await expect(page.getByTestId('train-start')).toBeEnabled({ timeout: 120_000 });
  await page.getByTestId('train-start').click();
  await waitForStep(page, reached + 2);
  await page.getByTestId('train-pause').click();
  const chart = page.getByTestId('chart-loss');
  await expect(chart).toHaveAttribute('data-restarts', String(reached));
  // the history before the fault is still charted, and the new steps follow it
  await expect.poll(async () => Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(reached + 2);
  await expect(chart).toContainText('a new encoder took over');
}

test('a lost GPU device stops training with an explanation, keeps the history, and continues on a new device with one click', async ({ page }) => {
  const reached = await trainThenFault(page, 3, 'destroy-device');
  await expect(page.getByTestId('error-banner')).toContainText('The GPU device was lost');
  await expect(page.getByTestId('error-pointer')).toContainText('GPU device was lost');
  await continueAfter(page, reached, 'Continue on a new device');
});

test('a lost WebGL context stops training the same way, and one click continues on a new context', async ({ page }) => {
  const reached = await trainThenFault(page, 2, 'lose-webgl-context', 'probeEvery=0&backend=webgl');
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-value', 'webgl');
  await expect(page.getByTestId('error-banner')).toContainText('WebGL context was lost');
  await continueAfter(page, reached, 'Continue on a new device');
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-value', 'webgl');
});

test('a worker that throws mid-step is noticed, its history kept, and a new worker carries on', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const reached = await trainThenFault(page, 2, 'throw-mid-step');
  await expect(page.getByTestId('error-banner')).toContainText('the training worker crashed');
  await continueAfter(page, reached, 'Continue in a new worker');
  // the worker's error was handled by the page: nothing reached the page as an uncaught error
  expect(errors).toEqual([]);
});

test('batch 512 of 64 px views at width 64 is refused with its memory estimate; the gallery stays, and Reset and Step work after it', async ({ page }) => {
  await openApp(page, withParams(TINY, 'probeEvery=0'));
  await page.getByTestId('train-step').click();
  await waitForStep(page, 1);
  for (const [id, value] of [['config-batch-size', '512'], ['config-image-size', '64'], ['config-encoder-width', '64']]) {
    await page.getByTestId(id).fill(value);
  }
  await page.getByTestId('train-reset').click();
  const banner = page.getByTestId('error-banner');
  await expect(banner).toBeVisible({ timeout: 60_000 });
  // the estimate, in figures, and what to change
  await expect(banner).toContainText(/GB/);
  await expect(banner).toContainText('Lower the batch size');
  // the encoder it would have replaced is still there, and so are the gallery's images
  expect(await metricValue(page, 'metric-step')).toBe(1);
  const thumbnails = page.getByTestId('dataset-gallery').locator('canvas');
  expect(await thumbnails.count()).toBeGreaterThan(0);
  // back to a size the device holds: Reset and Step work without a reload
  for (const [id, value] of [['config-batch-size', '16'], ['config-image-size', '16'], ['config-encoder-width', '4']]) {
    await page.getByTestId(id).fill(value);
  }
  await page.getByTestId('train-reset').click();
  await expect(banner).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByTestId('metric-step')).toHaveAttribute('data-value', '0');
  await page.getByTestId('train-step').click();
  await waitForStep(page, 1);
  await expect(banner).toHaveCount(0);
});

test('Pause interrupts a long probe within seconds, and Probe now runs again after it', async ({ page }) => {
  // the full-size probe: 5,000 + 2,000 images through the encoder, 300 iterations
  await openApp(page, withParams(TINY, 'probeEvery=0&probeTrain=5000&probeTest=2000&probeIters=300'));
  await page.getByTestId('train-step').click();
  await waitForStep(page, 1);
  await page.getByTestId('probe-run').click();
  const activity = page.getByTestId('activity');
  await expect(activity).toHaveAttribute('data-label', /Linear probe/, { timeout: 30_000 });
  const pressed = Date.now();
  await page.getByTestId('train-pause').click();
  await expect(activity).toHaveAttribute('data-label', '', { timeout: 5_000 });
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'paused', { timeout: 5_000 });
  test.info().annotations.push({ type: 'interrupted after', description: `${Date.now() - pressed} ms` });
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  // nothing half-measured was charted, and the worker is free: a step goes through at once
  expect(Number(await page.getByTestId('chart-probe').getAttribute('data-points'))).toBe(0);
  await page.getByTestId('train-step').click();
  await waitForStep(page, 2);
});

test('a worker that fails after the run was saved resumes from that save in a new worker, with the saved history', async ({ page }) => {
  await openApp(page, withParams(TINY, 'probeEvery=0'));
  for (let i = 1; i <= 3; i++) {
    await page.getByTestId('train-step').click();
    await waitForStep(page, i);
  }
  // saved a moment after the last Step (the checkpoint panel is mounted in its hidden tab)
  await expect(page.getByTestId('checkpoint-status')).toHaveAttribute('data-saved-step', '3', { timeout: 30_000 });
  await page.getByTestId('train-start').click();
  await waitForStep(page, 5);
  await injectFault(page, 'throw-mid-step');
  await expect(page.getByTestId('error-banner')).toContainText('the training worker crashed', { timeout: 60_000 });
  const resume = page.getByTestId('error-recover-checkpoint');
  await expect(resume).toHaveText('Resume from the save at step 3');
  await resume.click();
  await expect(page.getByTestId('error-banner')).toHaveCount(0);
  await expect(page.getByTestId('checkpoint-message')).toContainText('at step 3', { timeout: 120_000 });
  expect(await metricValue(page, 'metric-step')).toBe(3);
  await page.getByTestId('train-step').click();
  await waitForStep(page, 4);
  expect(Number.isFinite(await metricValue(page, 'metric-loss'))).toBe(true);
});

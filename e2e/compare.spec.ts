import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { metricValue, openApp, waitForStep, withParams } from './helpers';

/** TINY without periodic probes and with a small probe: each run ends with one probe (and its two baselines). */
const TINY_COMPARE = '?batch=16&size=16&width=4&zdim=32&lr=0.003&probeEvery=0&knnEvery=0&probeTrain=200&probeTest=200&probeIters=50';
const STEPS = 8;

test.describe('runs side by side', () => {
  test('a two-run comparison completes with two lines and a summary row each, exports CSV and survives a reload', async ({ page }) => {
    test.setTimeout(420_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await openApp(page, `${TINY_COMPARE}#compare`);
    const urlBefore = page.url();

    await page.getByTestId('compare-preset').selectOption('l2');
    await page.getByTestId('compare-steps').fill(String(STEPS));
    await page.getByTestId('compare-run').click();

    // the comparison owns the worker: progress is shown and the normal controls are off
    await expect(page.getByTestId('compare-progress')).toContainText(/run [12] of 2/);
    await expect(page.getByTestId('train-start')).toBeDisabled();
    await expect(page.getByTestId('compare-cancel')).toBeEnabled();

    const rows = page.getByTestId('compare-summary').getByTestId('compare-row');
    await expect(rows).toHaveCount(2, { timeout: 360_000 });
    await expect(page.getByTestId('compare-progress')).toHaveCount(0, { timeout: 60_000 });
    await expect(page.getByTestId('compare-message')).toHaveCount(0);

    // one line per run on the loss chart, a legend naming each config
    const lossChart = page.getByTestId('compare-chart-loss');
    await expect(lossChart.locator('.recharts-line-curve')).toHaveCount(2);
    await expect(lossChart.locator('.compare-legend')).toContainText('L2 on');
    await expect(lossChart.locator('.compare-legend')).toContainText('L2 off');
    await expect(page.getByTestId('compare-chart-probe')).toHaveAttribute('data-lines', '2');
    // the Wang & Isola figure: one alignment-uniformity path per run
    await expect(page.getByTestId('compare-chart-trajectory')).toHaveAttribute('data-lines', '2');

    // a summary row each, with numbers
    await expect(rows.nth(0).locator('th')).toContainText('L2 on');
    await expect(rows.nth(1).locator('th')).toContainText('L2 off');
    for (let r = 0; r < 2; r++) {
      const cell = async (name: string) => Number(await rows.nth(r).locator(`td[data-col="${name}"]`).getAttribute('data-value'));
      expect(await cell('steps')).toBe(STEPS);
      const probe = await cell('probe');
      expect(probe).toBeGreaterThan(0.1);
      expect(probe).toBeLessThanOrEqual(1);
      const contrastive = await cell('contrastive');
      expect(contrastive).toBeGreaterThanOrEqual(0);
      expect(contrastive).toBeLessThanOrEqual(1);
      expect(Number.isFinite(await cell('positive'))).toBe(true);
      expect(Number.isFinite(await cell('negative'))).toBe(true);
      expect(await cell('time')).toBeGreaterThan(0);
    }

    // the worker is given back with the user's own settings: a fresh encoder, the controls on again
    await expect(page.getByTestId('train-start')).toBeEnabled();
    await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'idle');
    expect(await metricValue(page, 'metric-step')).toBe(0);
    await expect(page.getByTestId('config-normalize')).toBeChecked();
    expect(page.url()).toBe(urlBefore);

    // CSV export of the first run: a header and one row per step, the final probe on the last row
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('compare-export-csv').first().click()]);
    expect(download.suggestedFilename()).toBe('simclr-l2-on.csv');
    const csv = (await readFile((await download.path())!, 'utf8')).trimEnd().split('\n');
    const header = csv[0].split(',');
    expect(header).toEqual([
      'step', 'loss', 'positiveSimilarity', 'negativeSimilarity', 'contrastiveAccuracy', 'stepMs',
      'alignment', 'uniformity', 'collapseStd', 'probeTestAccuracy', 'probeTrainAccuracy', 'knnTestAccuracy',
    ]);
    expect(csv).toHaveLength(STEPS + 1);
    const last = csv[STEPS].split(',');
    expect(last[0]).toBe(String(STEPS));
    expect(Number(last[header.indexOf('probeTestAccuracy')])).toBeGreaterThan(0.1);
    // the final probe runs kNN with it: the comparison records it too
    expect(Number(last[header.indexOf('knnTestAccuracy')])).toBeGreaterThan(0.1);
    // the geometry of each step is exported: alignment in [0, 4], uniformity in [−4, 0]
    expect(Number(last[header.indexOf('alignment')])).toBeGreaterThanOrEqual(0);
    expect(Number(last[header.indexOf('uniformity')])).toBeLessThanOrEqual(0);

    const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('compare-export-json').nth(1).click()]);
    const exported = JSON.parse(await readFile((await json.path())!, 'utf8'));
    expect(exported.label).toBe('L2 off');
    expect(exported.config.normalize).toBe(false);
    expect(exported.steps).toHaveLength(STEPS);

    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('compare-png-loss').click()]);
    expect(png.suggestedFilename()).toMatch(/\.png$/);
    const pngBytes = await readFile((await png.path())!);
    expect([...pngBytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('PNG');

    // the runs are kept in IndexedDB
    await page.reload();
    await expect(page.getByTestId('compare-summary').getByTestId('compare-row')).toHaveCount(2, { timeout: 60_000 });
    await expect(page.getByTestId('compare-chart-loss').locator('.recharts-line-curve')).toHaveCount(2);
    expect(pageErrors).toEqual([]);
  });

  test('Cancel stops the queue cleanly and gives the worker back with the user’s settings', async ({ page }) => {
    await openApp(page, withParams(TINY_COMPARE, 'tau=0.3#compare'));
    await page.getByTestId('compare-preset').selectOption('tau-sweep');
    await page.getByTestId('compare-steps').fill('1000');
    await page.getByTestId('compare-run').click();
    await expect
      .poll(async () => Number(await page.getByTestId('compare-progress').getAttribute('data-step')), { timeout: 150_000, intervals: [200] })
      .toBeGreaterThanOrEqual(2);
    // while the comparison runs, the user's setting changes wait (they go to the address bar at once)
    await page.getByTestId('config-lr').fill('0.002');
    await page.getByTestId('compare-cancel').click();

    await expect(page.getByTestId('compare-progress')).toHaveCount(0);
    await expect(page.getByTestId('compare-message')).toContainText('cancelled');
    await expect(page.getByTestId('compare-summary').getByTestId('compare-row')).toHaveCount(0);
    await expect(page.getByTestId('train-start')).toBeEnabled();
    await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'idle', { timeout: 60_000 });
    await expect(page.getByTestId('config-temperature')).toHaveValue('0.3');
    expect(page.url()).toContain('tau=0.3');
    expect(page.url()).toContain('lr=0.002');

    // the user's own training works again, from a fresh encoder
    await page.getByTestId('train-step').click();
    await waitForStep(page, 1);
    expect(await metricValue(page, 'metric-step')).toBe(1);
  });

  test('an error in a run stops the queue with a message; runs already completed are kept', async ({ page }) => {
    test.setTimeout(360_000);
    await openApp(page, `${TINY_COMPARE}#compare`);
    await page.getByTestId('compare-preset').selectOption('l2');
    await page.getByTestId('compare-steps').fill('2');
    await page.getByTestId('compare-run').click();
    await expect(page.getByTestId('compare-summary').getByTestId('compare-row')).toHaveCount(2, { timeout: 240_000 });
    await expect(page.getByTestId('compare-progress')).toHaveCount(0, { timeout: 60_000 });

    // τ this small is flushed to zero in float32: the first step's loss is not finite
    await page.getByTestId('config-temperature').fill('1e-38');
    await page.getByTestId('compare-preset').selectOption('head');
    await page.getByTestId('compare-run').click();
    const message = page.getByTestId('compare-message');
    await expect(message).toContainText('Run 1 of 3 (head: none) stopped', { timeout: 120_000 });
    await expect(message).toHaveAttribute('role', 'alert');
    await expect(page.getByTestId('compare-progress')).toHaveCount(0);
    // the failed run stays loaded with the error banner; the controls are the user's again
    await expect(page.getByTestId('error-banner')).toContainText(/normalization/i);
    await expect(page.getByTestId('train-reset')).toBeEnabled();
    // the earlier comparison is still listed with its two runs
    const earlier = page.getByTestId('compare-select').locator('option', { hasText: 'L2 normalization on / off' });
    await expect(earlier).toContainText('2 runs');
    await page.getByTestId('compare-select').selectOption(await earlier.getAttribute('value'));
    await expect(page.getByTestId('compare-summary').getByTestId('compare-row')).toHaveCount(2);

    await page.getByTestId('config-temperature').fill('0.5');
    await page.getByTestId('train-reset').click();
    await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'idle');
    await expect(page.getByTestId('error-banner')).toHaveCount(0);
  });
});

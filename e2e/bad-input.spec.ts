import { expect, test } from '@playwright/test';
import { metricValue, openApp, waitForStep } from './helpers';

test.describe('bad input', () => {
  test('out-of-range settings are refused with a message and the last good value stays', async ({ page }) => {
    await openApp(page);
    const cases: [string, string, RegExp][] = [
      ['config-temperature', '0', /greater than 0/],
      ['config-temperature', '-1', /greater than 0/],
      ['config-batch-size', '1', /at least 2/],
      ['config-batch-size', '3.5', /whole number/],
      ['config-lr', '0', /greater than 0/],
      ['config-lr', 'fast', /not a number/],
      ['config-temperature', 'abc', /not a number/],
    ];
    for (const [testId, text, message] of cases) {
      await page.getByTestId(testId).fill(text);
      await expect(page.getByTestId(`${testId}-error`)).toContainText(message);
    }
    // the URL keeps the last good values, not the refused ones
    expect(page.url()).not.toContain('tau=0');
    await page.getByTestId('config-temperature').fill('0.2');
    await expect(page.getByTestId('config-temperature-error')).toHaveCount(0);
    expect(page.url()).toContain('tau=0.2');
    // training still works with the good values
    await page.getByTestId('config-batch-size').fill('16');
    await page.getByTestId('config-lr').fill('0.003');
    await page.getByTestId('train-step').click();
    await waitForStep(page, 1);
  });

  test('a non-finite loss stops training with an explanation and keeps the history', async ({ page }) => {
    await openApp(page);
    await page.getByTestId('train-start').click();
    await waitForStep(page, 3);
    await page.getByTestId('train-pause').click();
    await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'paused');
    const stepsBefore = await metricValue(page, 'metric-step');

    // without normalization, s/τ with τ this small overflows float32
    await page.getByTestId('config-normalize').uncheck();
    await page.getByTestId('config-temperature').fill('1e-38');
    await page.getByTestId('train-start').click();
    await expect(page.getByTestId('error-banner')).toBeVisible();
    await expect(page.getByTestId('error-banner')).toContainText(/normalization/i);
    await expect(page.getByTestId('run-status')).toHaveAttribute('data-value', 'error');
    // history stays: step count and the loss chart's points are still there
    expect(await metricValue(page, 'metric-step')).toBe(stepsBefore);
    await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-points', String(stepsBefore));
  });

  test('garbage URL parameters are reported and ignored', async ({ page }) => {
    await openApp(page, '?batch=16&size=16&width=4&tau=banana&lr=-3&bogus=1&probeTrain=600&probeTest=400');
    await expect(page.getByTestId('url-warnings')).toContainText('Temperature');
    await expect(page.getByTestId('url-warnings')).toContainText('bogus');
    await expect(page.getByTestId('config-temperature')).toHaveValue('0.5');
    await expect(page.getByTestId('config-lr')).toHaveValue('0.001');
  });
});
